"""`bench aggregate --input FILE` as users run it (issue 17): the whole command in a fresh process,
file in, ranking with its DEFAULT intervals out, beside ONEBench's pipeline on the same file in the
same run (`benchmarks/onebench_pipeline.py`: polars self-join to pairs + choix.ilsr_pairwise_dense,
also a fresh process), reported as a ratio, with Kendall tau to the true order.

* `test_mid_file_vs_onebench_pipeline` (slow): 100 models x 100,000 samples at 20% density (2M
  measurements, half binary, half continuous: `aggregators_sim.onebench_sim`), a 12 MB Parquet
  file in the canonical columns with string model and sample ids. Bar: >= 10x faster than the
  pipeline, tau at least the pipeline's. Runs alternate (ours, peer) three times; best of three each.
  Measured (2 cores, alone under the heavy-jobs lock): before the selection layer's file reader,
  ours 2.76-4.65 s (tau 0.9956), the pipeline 7.15-10.07 s (tau 0.9931, 7.7 GB peak): 2.6x; with
  it (methods + selection branches merged), ours 1.34-1.63 s, the pipeline 5.79-6.71 s: 4.3x,
  NOT the 10x bar. Where ours goes (in-process): reading the file into ballots ~0.7-1.2 s, imports
  ~0.3 s, fit ~0.7 s and default (diagonal) intervals ~0.35 s on the numpy paths (the compiled
  kernels would cost more to load than they save at 2M); a fresh Python with numpy and pyarrow
  alone takes ~0.3 s, so 10x (~0.6 s) leaves nothing for the work.
* `test_big_file_50m` (slow, run it under `flock /tmp/heavy.lock`): 1,000 models x 1,000,000
  samples at 95% missing (~50M measurements, string ids, ~317 MB Parquet): the whole command with
  its default intervals in <= 60 s and <= 8 GB peak RSS (the child's). Measured (methods + selection
  branches merged, alone under the lock): 27.9 s, 5.04 GiB, diagonal intervals, tau 0.9960 (the
  issue's figure before: 47.3 s, 12.3 GB).
* `test_default_intervals_cost_no_more_than_the_fit` (default suite, in-process): on the mid shape
  at 1/10 of the samples, the time the default intervals add to a fit (fit with them minus fit
  with `ci="none"`) is at most the fit's own time.

Run: flock /tmp/heavy.lock pytest benchmarks/bench_aggregate_cli.py -m "slow or not slow" -s
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from aggregators_sim import kendall, onebench_sim  # noqa: E402

ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
BENCH = [sys.executable, "-c", "from samplebench.cli import main; main()"]


def write_sim_file(path: Path, n_models: int, n_samples: int, missing: float, seed: int = 0,
                   chunk: int = 50_000) -> np.ndarray:
    """ONEBench-protocol measurements in the canonical columns, written chunk by chunk (bounded
    memory); returns the true means (model i is `org/model-{i:04d}`)."""
    rng = np.random.default_rng(seed)
    mu = rng.uniform(0, 1, n_models)
    names = pa.array([f"org/model-{i:04d}" for i in range(n_models)])
    writer = None
    for start in range(0, n_samples, chunk):
        k = min(chunk, n_samples - start)
        s, m = np.nonzero(rng.random((k, n_models)) >= missing)
        raw = mu[m] + 0.3 * rng.standard_normal(s.size)
        binary = rng.random(k) < 0.5
        thr = rng.uniform(0, 1, k)
        v = np.where(binary[s], (raw > thr[s]).astype(np.float64), raw)
        ids = pa.array(np.char.add("s", (s + start).astype(str)))
        t = pa.table({"model": pa.DictionaryArray.from_arrays(pa.array(m.astype(np.int32)), names).cast(pa.string()),
                      "task": pa.array(np.where(binary[s], "binary", "continuous")), "sample_id": ids,
                      "metric": pa.array(np.full(s.size, "score")), "value": v})
        if writer is None:
            writer = pq.ParquetWriter(path, t.schema)
        writer.write_table(t)
    writer.close()
    return mu


def run_timed(cmd: list[str]) -> tuple[float, str]:
    """(wall seconds, stdout) of a command in a fresh process."""
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=ENV)
    wall = time.perf_counter() - t0
    assert proc.returncode == 0, proc.stderr[-2000:]
    return wall, proc.stdout


def tau_of(scores: dict[str, float], mu: np.ndarray) -> float:
    return kendall(np.array([scores[f"org/model-{i:04d}"] for i in range(mu.size)]), mu)


def ours(path: Path) -> tuple[float, dict[str, float], dict]:
    wall, out = run_timed([*BENCH, "aggregate", "--input", str(path), "--json"])
    r = json.loads(out)
    return wall, {m["model"]: m["score"] for m in r["models"]}, r


def peer(path: Path) -> tuple[float, dict[str, float]]:
    wall, out = run_timed([sys.executable, str(ROOT / "benchmarks" / "onebench_pipeline.py"), str(path)])
    return wall, json.loads(out)


def _median(xs: list[float]) -> float:
    return float(np.median(xs))


ROUNDS = 5  # alternating (ours, peer) runs; the ratio is of the medians


@pytest.mark.slow
def test_mid_file_vs_onebench_pipeline(tmp_path):
    f = tmp_path / "mid.parquet"
    mu = write_sim_file(f, 100, 100_000, 0.8)
    ours(f)  # a first run reads the file into the page cache and compiles the byte code
    t_ours, t_peer = [], []
    for _ in range(ROUNDS):
        w, s_ours, r = ours(f)
        t_ours.append(w)
        w, s_peer = peer(f)
        t_peer.append(w)
    tau_ours, tau_peer = tau_of(s_ours, mu), tau_of(s_peer, mu)
    ratio = _median(t_peer) / _median(t_ours)
    print(f"\n100 models x 100,000 samples, 20% density ({r['diagnostics']['evidence']['measurements']:,} "
          f"measurements), default intervals ({r['diagnostics']['ci_method']}):\n"
          f"  bench aggregate --input   {[round(t, 2) for t in t_ours]} s  median {_median(t_ours):.2f} s  "
          f"tau {tau_ours:.4f}\n"
          f"  ONEBench pipeline         {[round(t, 2) for t in t_peer]} s  median {_median(t_peer):.2f} s  "
          f"tau {tau_peer:.4f}\n"
          f"  ratio of medians          {ratio:.1f}x")
    assert all(m["rank_ci"] is not None for m in r["models"])
    assert tau_ours >= tau_peer
    assert ratio >= 10


# In a fresh process: the file's ballots, then the default fit with and without its intervals
# (best of two each), so the intervals' own cost is the difference.
_INTERVALS_VS_FIT = """
import json, sys, time
from samplebench.aggregators.api import fit
from samplebench.selection.evidence import evidence_from_file
ev = evidence_from_file(sys.argv[1])
best = {}
for ci in ("none", "auto", "none", "auto"):
    t = time.perf_counter()
    r = fit(ev, "plackett-luce", ci=ci)
    best[ci] = min(best.get(ci, float("inf")), time.perf_counter() - t)
    if ci == "auto":
        method = r.diagnostics.ci_method
print(json.dumps({"fit_s": best["none"], "intervals_s": best["auto"] - best["none"], "ci_method": method}))
"""


@pytest.mark.slow
def test_big_file_50m(tmp_path):
    f = tmp_path / "big.parquet"
    mu = write_sim_file(f, 1000, 1_000_000, 0.95)
    cmd = [*BENCH, "aggregate", "--input", str(f), "--json"]
    code = ("import resource, subprocess, sys, time, json\n"
            "t = time.perf_counter(); p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
            "w = time.perf_counter() - t\n"
            "rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024 ** 2\n"
            "assert p.returncode == 0, p.stderr[-2000:]\n"
            "print(json.dumps({'wall_s': w, 'peak_rss_gib': rss}))\n"
            "print(p.stdout)\n")
    proc = subprocess.run([sys.executable, "-c", code, *cmd], capture_output=True, text=True, env=ENV)
    assert proc.returncode == 0, proc.stderr[-2000:]
    head, _, body = proc.stdout.partition("\n")
    stats, r = json.loads(head), json.loads(body)
    tau = tau_of({m["model"]: m["score"] for m in r["models"]}, mu)
    parts = subprocess.run([sys.executable, "-c", _INTERVALS_VS_FIT, str(f)], capture_output=True, text=True,
                           env=ENV)
    assert parts.returncode == 0, parts.stderr[-2000:]
    cost = json.loads(parts.stdout.strip().splitlines()[-1])
    share = cost["intervals_s"] / cost["fit_s"]
    print(f"\n1,000 models x 1,000,000 samples, 95% missing ({r['diagnostics']['evidence']['measurements']:,} "
          f"measurements, {f.stat().st_size / 1e6:.0f} MB): {stats['wall_s']:.1f} s, peak RSS "
          f"{stats['peak_rss_gib']:.2f} GiB, intervals {r['diagnostics']['ci_method']}, tau {tau:.4f}\n"
          f"  in a fresh process: fit {cost['fit_s']:.2f} s, its default intervals ({cost['ci_method']}) "
          f"{cost['intervals_s']:.2f} s: {share:.2f} of the fit")
    assert all(m["rank_ci"] is not None for m in r["models"])
    assert stats["wall_s"] <= 60 and stats["peak_rss_gib"] <= 8
    assert share <= 1.0


def test_default_intervals_cost_no_more_than_the_fit():
    from samplebench.aggregators import evidence_from_matrix, fit

    values, _ = onebench_sim(100, 10_000, 0.8, seed=0)
    ev = evidence_from_matrix(values)
    fit(ev, "plackett-luce")  # warm (imports)
    best = {}
    for ci in ("none", "auto"):
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            fit(ev, "plackett-luce", ci=ci)
            times.append(time.perf_counter() - t0)
        best[ci] = min(times)
    added = best["auto"] - best["none"]
    print(f"\nfit {best['none']:.3f} s; default intervals add {added:.3f} s")
    assert added <= best["none"]
