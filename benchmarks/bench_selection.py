"""The selection layer's reads, as a user runs them, in fresh processes beside a peer.

* `--input FILE` (issue 17, the reading part): `read_file` + the Evidence build of a 50M-row
  Parquet file (1,000 models x 1,000,000 samples, 95% missing, string ids) beside polars reading
  the same columns (the first step of ONEBench's pipeline); time and peak RSS of each. Set
  `SAMPLEBENCH_BIG_INPUT` to an existing file to skip writing one (~300 MB).
* `bench aggregate --benchmark "MTEB(eng, v2)"` and `bench results table` over a store of the
  whole public MTEB results repository (issue 13: <= 30 s, <= 2 GB) beside mteb's own
  `ResultCache.load_results` of the benchmark from the same repository. Needs
  `SAMPLEBENCH_MTEB_STORE` (the imported store) and `SAMPLEBENCH_MTEB_RESULTS` (the repository).

Run: pytest benchmarks/bench_selection.py -m "slow or not slow" -s

Measured 2026-12-01 on the 2-core machine under load, fresh processes:
* 50M-row input (49,990,077 measurements, 488 MB Parquet): `bench aggregate --input big.parquet
  --ci none --json` 23.2 s, 5.0 GiB peak RSS (before the lean reading: 21.3 s, 7.9 GiB); with the
  default intervals 13.8 s, 5.6 GiB. In-process, read_file holds 1.6 GiB (peak 2.9 GiB) and the
  ballots' build peaks at 4.8 GiB.
* the whole MTEB repository (35,677,338 rows): `bench aggregate --benchmark "MTEB(eng, v2)"
  --method borda-mteb` 4.6 s, 0.41 GiB; `bench results table` 3.5 s, 0.40 GiB; mteb's
  `load_results` of the same benchmark 4.4 s (MTEB(Multilingual, v2): ours 5.3 s, mteb 38.7 s).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

READ = textwrap.dedent("""
    import json, resource, sys, time
    start = time.perf_counter()
    path, mode = sys.argv[1], sys.argv[2]
    if mode == "samplebench":
        from samplebench.selection import Selection, evidence, read_file
        m = read_file(path, Selection())
        read_s = time.perf_counter() - start
        ev = evidence(m)
        n = ev.n_measurements
    else:  # the peer: polars reads the same columns (ONEBench's pipeline starts so)
        import polars as pl
        n = pl.read_parquet(path, columns=["model", "task", "sample_id", "metric", "value"]).height
        read_s = time.perf_counter() - start
    print(json.dumps({"rows": n, "read_s": read_s, "total_s": time.perf_counter() - start,
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
""")


def write_big_input(path: Path, n_models: int = 1000, n_samples: int = 1_000_000, density: float = 0.05,
                    chunk: int = 50_000, seed: int = 0) -> None:
    """Canonical columns, string model and sample ids, written chunk by chunk."""
    rng = np.random.default_rng(seed)
    theta = rng.normal(size=n_models)
    names = pa.array([f"org/model-{i:04d}" for i in range(n_models)])
    with pq.ParquetWriter(path, pa.schema([("model", pa.string()), ("task", pa.string()), ("sample_id", pa.string()),
                                           ("metric", pa.string()), ("value", pa.float64())])) as w:
        for s0 in range(0, n_samples, chunk):
            n = min(chunk, n_samples - s0)
            s, m = np.nonzero(rng.random((n, n_models)) < density)
            sid = pa.array([f"sample-{i:07d}" for i in range(s0, s0 + n)])
            w.write_table(pa.table({
                "model": names.take(pa.array(m)), "task": pa.array(["task"] * s.size),
                "sample_id": sid.take(pa.array(s)), "metric": pa.array(["score"] * s.size),
                "value": pa.array(theta[m] + rng.gumbel(size=s.size))}))


def _run(script: str, *args: str) -> dict:
    out = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_read_fifty_million_row_input(tmp_path):
    path = Path(os.environ.get("SAMPLEBENCH_BIG_INPUT", tmp_path / "big.parquet"))
    if not path.exists():
        write_big_input(path)
    pytest.importorskip("polars")
    res = {mode: _run(READ, str(path), mode) for mode in ("samplebench", "polars")}
    ours, peer = res["samplebench"], res["polars"]
    print(f"\n--input {path.name}: samplebench read {ours['read_s']:.1f} s, read + ballots {ours['total_s']:.1f} s, "
          f"peak {ours['peak_rss_mb']:,.0f} MB; polars read {peer['read_s']:.1f} s, peak {peer['peak_rss_mb']:,.0f} MB; "
          f"read ratio {ours['read_s'] / peer['read_s']:.2f}")
    assert ours["rows"] == peer["rows"]
    assert ours["peak_rss_mb"] < 8 * 1024


TIMED = textwrap.dedent("""
    import json, resource, subprocess, sys, time
    start = time.perf_counter()
    out = subprocess.run(sys.argv[1:], capture_output=True, text=True)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(json.dumps({"rc": out.returncode, "seconds": time.perf_counter() - start,
                      "peak_rss_mb": usage.ru_maxrss / 1024, "stderr": out.stderr[-2000:]}))
""")

MTEB_LOAD = textwrap.dedent("""
    import json, resource, sys, time, warnings, tempfile, os
    warnings.filterwarnings("ignore")
    start = time.perf_counter()
    import mteb
    from mteb.cache import ResultCache
    cache = tempfile.mkdtemp()
    os.symlink(sys.argv[1], os.path.join(cache, "remote"))
    bench = mteb.get_benchmark("MTEB(eng, v2)")
    res = ResultCache(cache).load_results(tasks=bench, validate_and_filter=True, only_main_score=True)
    n = sum(1 for m in res.model_results for t in m.task_results)
    print(json.dumps({"task_results": n, "seconds": time.perf_counter() - start,
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
""")


@pytest.mark.slow
def test_benchmark_aggregate_over_the_whole_mteb_repository():
    store, repo = os.environ.get("SAMPLEBENCH_MTEB_STORE"), os.environ.get("SAMPLEBENCH_MTEB_RESULTS")
    if not store or not repo or not Path(store).is_dir():
        pytest.skip("set SAMPLEBENCH_MTEB_STORE (the imported repository) and SAMPLEBENCH_MTEB_RESULTS (its clone)")
    bench = str(Path(sys.executable).with_name("bench"))
    agg = _run(TIMED, bench, "aggregate", "--store", store, "--benchmark", "MTEB(eng, v2)", "--method", "borda-mteb")
    table = _run(TIMED, bench, "results", "table", "--store", store, "--benchmark", "MTEB(eng, v2)", "--format",
                 "csv", "--out", os.devnull)
    peer = _run(MTEB_LOAD, repo)
    print(f"\nMTEB(eng, v2) over the whole repository: bench aggregate {agg['seconds']:.1f} s / "
          f"{agg['peak_rss_mb']:,.0f} MB, bench results table {table['seconds']:.1f} s / {table['peak_rss_mb']:,.0f} MB; "
          f"mteb load_results {peer['seconds']:.1f} s / {peer['peak_rss_mb']:,.0f} MB; "
          f"ratio {peer['seconds'] / agg['seconds']:.1f}x")
    assert agg["rc"] == 0 and table["rc"] == 0, agg["stderr"] + table["stderr"]
    assert agg["seconds"] <= 30 and agg["peak_rss_mb"] <= 2048
