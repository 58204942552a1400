"""Leaderboard build speed (issue 7), beside an aggregate-only peer on the same store in the same run.

Claim under test: building a leaderboard over 50 million measurements (1,000 models) takes at most
2 minutes, bootstrap-free intervals included. Two builds run on the same store: the spec with
`ci: fisher` (the claim: exact information-matrix intervals) and the spec as a user writes it
(`ci: auto`, where the aggregator skips the exact information on very large evidence and the
card says so). The store: 1,000 models, 100 tasks x 11,112
samples; each model ran 90% of the tasks and has a value on 5% of those tasks' samples
(ONEBench-style sparsity, ~50M measurements, 1% of them errors). The spec: Plackett-Luce with
its information-matrix (Fisher) intervals, `mean` beside it, every artifact written (tables,
50M sample rows as Parquet, plot, page, card).

Peer: the aggregate-only leaderboard most sites publish, in polars on the same shards (per
(model, task) mean of the values -> mean over tasks -> sort). It neither de-duplicates cells nor
ranks with uncertainty; the ratio says what sample-level ranking + publication artifacts cost.

Run: pytest benchmarks/bench_leaderboard.py -m "slow or not slow" -s
The store is generated once per run (not timed). `SAMPLEBENCH_BENCH_LB_SCALE=0.1` shrinks it.
A 90k-measurement version runs in the default (fast) suite.
"""

from __future__ import annotations

import os
import resource
import time

import pytest

from samplebench.leaderboards import build_leaderboard
from samplebench.leaderboards.simulate import simulate_store
from samplebench.registry.leaderboard_spec import leaderboard_spec_from_dict
from samplebench.results import ResultStore

# ci: fisher forces the exact information-matrix intervals, which `auto` skips on very large evidence.
SPEC = {"name": "bench-board", "title": "Benchmark board",
        "aggregator": {"method": "plackett-luce", "params": {"ci": "fisher"}}, "also_show": ["mean"]}
SPEC_AUTO = {**SPEC, "aggregator": {"method": "plackett-luce"}}
BIG = {"n_models": 1000, "n_tasks": 100, "n_samples": 11_112, "task_coverage": 0.9, "sample_density": 0.05}
SMALL = {"n_models": 100, "n_tasks": 10, "n_samples": 1_000, "task_coverage": 0.9, "sample_density": 0.1}
LIMIT_S = 120.0


def polars_mean_leaderboard(store: ResultStore):
    """Peer: mean of per-task means per model, best first (what aggregate-only boards publish)."""
    import polars as pl

    paths = [str(p) for p in store.shard_paths()]
    return (pl.scan_parquet(paths)
            .filter(pl.col("value").is_not_null())
            .group_by(["model", "task"]).agg(pl.col("value").mean())
            .group_by("model").agg(pl.col("value").mean().alias("score"))
            .sort("score", descending=True)
            .collect())


def _store(root, shape: dict) -> tuple[ResultStore, int]:
    store = ResultStore(root / "store")
    t0 = time.perf_counter()
    sim = simulate_store(store, seed=7, **shape)
    print(f"\n[bench_leaderboard] generated {sim.n_rows:,} measurements "
          f"({shape['n_models']} models) in {time.perf_counter() - t0:.1f} s (not timed)")
    return store, sim.n_rows


def _rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def _run(benchmark, store: ResultStore, out, n_rows: int, label: str) -> float:
    spec = leaderboard_spec_from_dict(SPEC)
    timings: dict[str, float] = {}
    t = time.perf_counter()
    auto = build_leaderboard(leaderboard_spec_from_dict(SPEC_AUTO), store, out.parent / "auto")
    timings["auto"] = time.perf_counter() - t
    print(f"[bench_leaderboard] {label}: spec as written (ci auto): {timings['auto']:.1f} s, intervals "
          f"{'present' if auto.table['ci_low'].null_count == 0 else 'skipped by the aggregator'}; "
          f"peak RSS so far {_rss_gb():.1f} GB")

    def ours():
        t = time.perf_counter()
        b = build_leaderboard(spec, store, out)
        timings["build"] = time.perf_counter() - t
        return b

    b = benchmark.pedantic(ours, rounds=1, iterations=1)
    t = time.perf_counter()
    peer = polars_mean_leaderboard(store)
    timings["peer"] = time.perf_counter() - t
    assert b.table.num_rows == peer.height
    assert b.n_measurements > 0.95 * n_rows  # errors are the rest
    assert b.table["ci_low"].null_count == 0  # intervals are there
    ratio = timings["build"] / timings["peer"]
    print(f"[bench_leaderboard] {label}: {n_rows:,} measurements, {b.table.num_rows} models: "
          f"build {timings['build']:.1f} s (PL + Fisher CIs + mean + all artifacts) vs polars mean-of-means "
          f"{timings['peer']:.2f} s -> {ratio:.1f}x the peer's time; ci auto {timings['auto'] / timings['peer']:.1f}x; "
          f"peak RSS {_rss_gb():.1f} GB")
    benchmark.extra_info.update({"measurements": n_rows, "models": b.table.num_rows, "build_s": timings["build"],
                                 "build_auto_s": timings["auto"], "peer_s": timings["peer"], "ratio_vs_peer": ratio,
                                 "peak_rss_gb": _rss_gb()})
    return timings["build"]


def test_build_small(benchmark, tmp_path):
    store, n = _store(tmp_path, SMALL)
    _run(benchmark, store, tmp_path / "out", n, "small")


@pytest.mark.slow
def test_build_50m_measurements_1000_models_within_2_minutes(benchmark, tmp_path):
    scale = float(os.environ.get("SAMPLEBENCH_BENCH_LB_SCALE", "1"))
    shape = {**BIG, "n_samples": max(100, int(BIG["n_samples"] * scale))}
    store, n = _store(tmp_path, shape)
    seconds = _run(benchmark, store, tmp_path / "out", n, f"scale {scale}")
    if scale == 1:
        assert seconds <= LIMIT_S, f"building over {n:,} measurements took {seconds:.0f} s (> {LIMIT_S:.0f} s)"
