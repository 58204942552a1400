"""Results store speed and memory (issue 2).

* append 1,000,000 rows: samplebench (validation + atomic publish + manifest) beside a bare
  `pyarrow.parquet.write_table` of the same table; the bar is < 5 s.
* read the 10,000,000 rows of one model out of a 50,000,000-row store, in a fresh process, with
  peak RSS under 2 GB, beside pyarrow's own filtered `read_table` of the same shards (slow).

Run: pytest benchmarks/bench_store.py -m "slow or not slow" --benchmark-columns=mean,stddev,rounds
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from samplebench.results import ResultStore


def make_rows(n: int, models: int, offset: int = 0, seed: int = 0) -> pa.Table:
    rng = np.random.default_rng(seed)
    ids = np.arange(offset, offset + n)
    model_idx = ids % models
    return pa.table({
        "model": pa.DictionaryArray.from_arrays(pa.array(model_idx.astype(np.int32)),
                                                pa.array([f"org/model-{i}" for i in range(models)])),
        "task": pa.array(np.where(ids % 2 == 0, "task-a", "task-b")),
        "sample_id": pa.array((ids // models).astype(str)),
        "metric": pa.array(["score"] * n),
        "value": pa.array(rng.random(n)),
    })


def test_append_one_million_rows(benchmark, tmp_path):
    table = make_rows(1_000_000, models=10)
    counter = iter(range(1000))

    def append():
        ResultStore(tmp_path / f"s{next(counter)}").append(table)

    benchmark.pedantic(append, rounds=3, iterations=1)
    ours = benchmark.stats.stats.mean
    import time

    start = time.perf_counter()
    for i in range(3):
        pq.write_table(table, tmp_path / f"bare{i}.parquet")
    bare = (time.perf_counter() - start) / 3
    benchmark.extra_info.update(samplebench_s=ours, bare_write_table_s=bare, ratio=ours / bare)
    print(f"\nappend 1M rows: samplebench {ours:.2f} s, bare pyarrow write {bare:.2f} s, ratio {ours / bare:.2f}")
    assert ours < 5.0


READER = textwrap.dedent("""
    import json, resource, sys, time
    import pyarrow.parquet as pq, pyarrow.dataset as ds
    from samplebench.results import ResultStore
    store, mode = ResultStore(sys.argv[1]), sys.argv[2]
    start = time.perf_counter()
    if mode == "samplebench":
        n = store.scan(models=["org/model-0"]).num_rows
    else:  # the peer: pyarrow's own filtered read of the same shards, no de-duplication
        n = pq.read_table([str(p) for p in store.shard_paths()], filters=[("model", "=", "org/model-0")]).num_rows
    elapsed = time.perf_counter() - start
    print(json.dumps({"rows": n, "seconds": elapsed, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
""")


@pytest.mark.slow
def test_read_one_model_of_fifty_million_rows(tmp_path):
    store = ResultStore(tmp_path / "big")
    shard = 2_500_000
    with store.run(kind="write") as w:
        for i in range(20):  # 20 shards x 2.5M rows = 50M rows, 5 models
            w.write(make_rows(shard, models=5, offset=i * shard, seed=i))
    results = {}
    for mode in ("samplebench", "pyarrow"):
        out = subprocess.run([sys.executable, "-c", READER, str(store.root), mode], capture_output=True, text=True, check=True)
        results[mode] = json.loads(out.stdout)
    print("\nread 10M of 50M rows:", json.dumps(results))
    ours = results["samplebench"]
    assert ours["rows"] == 10_000_000
    assert ours["peak_rss_mb"] < 2048
