"""Aggregator speed and memory (issue 4), each beside its peer on the same data in the same run.

* 100 models x 100,000 samples at 20% density (2M measurements, half binary, half continuous):
  samplebench `plackett-luce` vs ONEBench's pipeline (polars self-join to pairs, ties both
  ways, `choix.ilsr_pairwise_dense`) and vs `choix.ilsr_rankings`; bars >= 10x and >= 5x faster
  with equal or better Kendall tau to the true order (slow; a 10,000-sample version runs by default).
  Measured (2-core machine, load ~1, best of 3 per seed, seeds 0-2, three runs of the final
  code): ours 0.06-0.09 s (ballots from the matrix ~25 ms, fit ~45 ms: 5 compiled passes of
  ~6 ms over the ballots after a warm start on every 10th ballot), ONEBench pipeline 1.3-1.9 s
  = 18.7-27.9x ours, ilsr_rankings 25-29 s = 297-443x; mean tau over seeds: ours 0.9957,
  ONEBench 0.9953, ilsr_rankings 0.9952 (random tie-breaks). Earlier versions of the kernels
  measured 11.6-20.0x. Before the compiled kernels (numpy passes): ours 0.5-0.65 s, 1.9-4.5x.
  Excluded from the timings: the first call in a process loads the compiled kernels from
  numba's on-disk cache (~0.4 s; on a new install it compiles them once, ~10 s).
* Kemeny-Young with a proven optimum for 20 candidates in <= 10 s (measured 0.02-0.5 s).
* 1,000 models x 1,000,000 samples, 95% missing (~50M measurements, mixed binary/continuous):
  evidence built chunk by chunk from sufficient statistics and `plackett-luce` fitted in <= 60 s
  and <= 8 GB peak RSS, in a fresh process (slow). Measured (load ~1, six runs): evidence
  3.5-4.5 s + fit 1.3-2.4 s = 4.8-6.8 s, peak RSS 1.9-3.3 GiB, tau 0.996. With the numpy passes: 4.8 s + 14.2 s = 19.0 s,
  4.7 GiB; before the first speed-ups (commit 49a5e25): 13.3 s + 16.2 s = 29.5 s, 4.3 GiB.

Why not choix at scale: choix's PL/BT routines take Python lists of rankings/pairs and loop over
them in Python once per iteration (ilsr builds a Markov chain from every ranking in a Python
loop), so 50M measurements mean tens of millions of Python-level operations per iteration. Ours
works on flat int32 arrays: one likelihood/gradient pass is one compiled loop over the ballots,
each ballot handled while it sits in cache (`samplebench/aggregators/kernels.py`).

The whole command in fresh processes, file in and default intervals out, beside the pipeline as
a command: benchmarks/bench_aggregate_cli.py.

Run: pytest benchmarks/bench_aggregators.py -m "slow or not slow" -s --benchmark-columns=mean,rounds
Scale run alone: python benchmarks/bench_aggregators.py scale
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from aggregators_sim import kendall, onebench_sim  # noqa: E402

from samplebench.aggregators import evidence_from_matrix, fit  # noqa: E402
from samplebench.aggregators.evidence import EvidenceBuilder  # noqa: E402


# -- peers -------------------------------------------------------------------------------------
def onebench_polars_pipeline(values: np.ndarray) -> np.ndarray:
    """ONEBench's pipeline as published: long table -> polars self-join on the sample -> pairs
    (a > b wins; a tie counted both ways) -> dense comparison matrix -> choix.ilsr_pairwise_dense."""
    import choix
    import polars as pl

    s, m = np.nonzero(~np.isnan(values))
    long = pl.DataFrame({"sample": s.astype(np.int32), "model": m.astype(np.int32), "value": values[s, m]})
    pairs = (long.join(long, on="sample", suffix="_b")
             .filter((pl.col("model") != pl.col("model_b")) & (pl.col("value") >= pl.col("value_b")))
             .group_by(["model", "model_b"]).len())
    n = values.shape[1]
    comp = np.zeros((n, n))
    comp[pairs["model"].to_numpy(), pairs["model_b"].to_numpy()] = pairs["len"].to_numpy()
    return choix.ilsr_pairwise_dense(comp, alpha=0.0)


def choix_rankings(values: np.ndarray) -> np.ndarray:
    """choix.ilsr_rankings on each sample's full order. choix has no ties, so tied models are put
    in a random (seeded) order; an all-tied sample carries no order and is left out."""
    import choix

    rng = np.random.default_rng(0)
    rankings = []
    for row in values:
        idx = np.flatnonzero(~np.isnan(row))
        if idx.size < 2 or np.all(row[idx] == row[idx][0]):
            continue
        idx = rng.permutation(idx)
        rankings.append(idx[np.argsort(-row[idx], kind="stable")].tolist())
    return choix.ilsr_rankings(values.shape[1], rankings, alpha=0.01)


def ours(values: np.ndarray) -> np.ndarray:
    r = fit(evidence_from_matrix(values), "plackett-luce", ci="none")
    bm = r.by_model()
    return np.array([bm[f"m{i:03d}"].score for i in range(values.shape[1])])


def _compare(values: np.ndarray, mu: np.ndarray, peers: dict, repeats: dict | None = None) -> dict:
    """Seconds (best of `repeats[name]` runs, default 1) and Kendall tau of each peer."""
    out = {}
    for name, fn in peers.items():
        best = float("inf")
        for _ in range((repeats or {}).get(name, 1)):
            t0 = time.perf_counter()
            scores = fn(values)
            best = min(best, time.perf_counter() - t0)
        out[name] = {"seconds": best, "tau": kendall(scores, mu)}
    base = out["samplebench plackett-luce"]["seconds"]
    for row in out.values():
        row["ratio_vs_ours"] = row["seconds"] / base
    return out


def _report(title: str, res: dict) -> None:
    print(f"\n{title}")
    for name, row in res.items():
        print(f"  {name:28s} {row['seconds']:8.2f} s  tau {row['tau']:.4f}  ({row['ratio_vs_ours']:.1f}x ours)")


PEERS = {"samplebench plackett-luce": ours, "onebench polars+ilsr_pairwise": onebench_polars_pipeline,
         "choix.ilsr_rankings": choix_rankings}


def test_pl_vs_onebench_and_choix_10k(benchmark):
    values, mu = onebench_sim(100, 10_000, 0.8, seed=0)
    benchmark.pedantic(ours, args=(values,), rounds=3, iterations=1)
    res = _compare(values, mu, PEERS)
    benchmark.extra_info.update(res)
    _report("100 models x 10,000 samples, 20% density", res)
    assert res["samplebench plackett-luce"]["tau"] >= res["onebench polars+ilsr_pairwise"]["tau"] - 0.005


@pytest.mark.slow
def test_pl_vs_onebench_and_choix_100k(benchmark, monkeypatch):
    from samplebench.aggregators import compiled

    # in-process, with the kernels loaded: what a long-running process (a bootstrap, a service)
    # gets; a fresh `bench aggregate` at 2M takes the numpy paths (bench_aggregate_cli.py)
    monkeypatch.setattr(compiled, "MIN_MEASUREMENTS", 500_000)
    values, mu = onebench_sim(100, 100_000, 0.8, seed=0)
    ours(values)  # first call in the process: loads the compiled kernels (compiles them on a new install)
    benchmark.pedantic(ours, args=(values,), rounds=3, iterations=1)
    best_of_3 = {"samplebench plackett-luce": 3, "onebench polars+ilsr_pairwise": 3}
    runs = [_compare(*onebench_sim(100, 100_000, 0.8, seed=seed), PEERS, best_of_3) for seed in (0, 1, 2)]
    for seed, res in enumerate(runs):
        _report(f"100 models x 100,000 samples, 20% density, seed {seed} (best of 3; ilsr_rankings once)", res)
    mean_tau = {name: float(np.mean([r[name]["tau"] for r in runs])) for name in PEERS}
    ratios = {name: [round(r[name]["ratio_vs_ours"], 1) for r in runs] for name in PEERS}
    print("mean tau over seeds 0-2: " + ", ".join(f"{k} {v:.4f}" for k, v in mean_tau.items()))
    print("time ratio vs ours per seed: " + ", ".join(f"{k} {v}" for k, v in ratios.items()))
    benchmark.extra_info.update({"runs": runs, "mean_tau_3_seeds": mean_tau, "ratios_3_seeds": ratios})
    # Issue bars: >= 10x faster than ONEBench's pipeline and >= 5x than ilsr_rankings, with equal or
    # better tau (one seed's tau differs by a pair or two out of 4,950: the mean over seeds is
    # the comparison).
    assert min(ratios["onebench polars+ilsr_pairwise"]) >= 10
    assert min(ratios["choix.ilsr_rankings"]) >= 5
    assert mean_tau["samplebench plackett-luce"] >= mean_tau["onebench polars+ilsr_pairwise"]
    assert mean_tau["samplebench plackett-luce"] >= mean_tau["choix.ilsr_rankings"]


@pytest.mark.parametrize("profile", ["correlated", "impartial"])
def test_kemeny_20_candidates(benchmark, profile):
    """Correlated voters (noisy copies of one utility) and impartial culture (uniform random
    orders, many majority cycles: the hard case for the integer programme)."""
    from samplebench.aggregators.pairs import pair_counts
    from samplebench.aggregators.social_choice import kemeny

    rng = np.random.default_rng(0)
    util = rng.normal(size=20) if profile == "correlated" else np.zeros(20)
    scale = 2.0 if profile == "correlated" else 1.0
    b = EvidenceBuilder([f"c{i}" for i in range(20)])
    for v in range(201):
        b.add_ballots(np.full(20, v), np.arange(20), util + rng.normal(scale=scale, size=20))
    above, _ = pair_counts(b.build())
    res = benchmark.pedantic(kemeny, args=(above,), rounds=3, iterations=1)
    print(f"\nkemeny 20 candidates ({profile}): exact={res.exact} in {benchmark.stats.stats.max:.2f} s (max of 3)")
    assert res.exact and benchmark.stats.stats.max <= 10.0


# -- the 1,000 x 1,000,000 scale run -----------------------------------------------------------
def scale_run(n_models: int = 1000, n_samples: int = 1_000_000, density: float = 0.05, chunk: int = 20_000,
              seed: int = 0) -> dict:
    """Generate ONEBench-style data chunk by chunk straight into ballots, then fit PL."""
    import resource

    rng = np.random.default_rng(seed)
    mu = rng.uniform(0, 1, n_models)
    b = EvidenceBuilder([f"m{i:04d}" for i in range(n_models)], tasks=["sim"], metrics=["score"])
    t_gen = t_build = 0.0
    n_meas = 0
    for start in range(0, n_samples, chunk):
        t0 = time.perf_counter()
        k = min(chunk, n_samples - start)
        s, m = np.nonzero(rng.random((k, n_models)) < density)
        raw = mu[m] + 0.3 * rng.standard_normal(s.size)
        binary = rng.random(k) < 0.5
        thr = rng.uniform(0, 1, k)
        v = np.where(binary[s], (raw > thr[s]).astype(np.float64), raw)
        t1 = time.perf_counter()
        b.add_ballots(s, m.astype(np.int32), v)
        t_build += time.perf_counter() - t1
        t_gen += t1 - t0
        n_meas += s.size
    t1 = time.perf_counter()
    ev = b.build()
    t_build += time.perf_counter() - t1
    t2 = time.perf_counter()
    r = fit(ev, "plackett-luce", ci="none")
    t_fit = time.perf_counter() - t2
    t3 = time.perf_counter()
    r_default = fit(ev, "plackett-luce")  # with its default intervals
    t_default = time.perf_counter() - t3
    assert all(m.rank_ci is not None for m in r_default.models)
    bm = r.by_model()
    tau = kendall(np.array([bm[f"m{i:04d}"].score for i in range(n_models)]), mu)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2  # KiB -> GiB
    return {"measurements": n_meas, "generate_s": t_gen, "evidence_s": t_build, "fit_s": t_fit,
            "fit_with_default_intervals_s": t_default, "intervals": r_default.diagnostics.ci_method,
            "evidence_plus_fit_s": t_build + t_fit, "iterations": r.diagnostics.iterations,
            "converged": r.diagnostics.converged, "tau": tau, "peak_rss_gib": peak}


@pytest.mark.slow
def test_scale_1000_models_1m_samples_95pct_missing():
    proc = subprocess.run([sys.executable, __file__, "scale"], capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-2000:]
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    print(f"\nscale run: {json.dumps(res)}")
    assert res["fit_s"] <= 60 and res["peak_rss_gib"] <= 8
    assert res["fit_with_default_intervals_s"] - res["fit_s"] <= res["fit_s"]  # intervals cost no more than the fit


if __name__ == "__main__":
    if sys.argv[1:] == ["scale"]:
        print(json.dumps(scale_run()))
