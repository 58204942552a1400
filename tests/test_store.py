"""Results store: contract validation, latest-row reads, atomic publication, crash and concurrency safety."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from samplebench.errors import SampleBenchError
from samplebench.results import MetricInfo, ResultStore, normalise

WRITER = Path(__file__).with_name("store_writer.py")


def rows(model="m", task="t", n=5, metric="acc", value=1.0, **extra):
    return pa.table({
        "model": [model] * n, "task": [task] * n, "sample_id": [str(i) for i in range(n)],
        "metric": [metric] * n, "value": [value] * n, **{k: [v] * n for k, v in extra.items()},
    })


def test_append_and_scan_latest_row_wins(tmp_path):
    s = ResultStore(tmp_path)
    s.append(rows(value=1.0))
    s.append(rows(value=2.0, n=2))
    t = s.scan()
    assert t.num_rows == 5
    values = dict(zip(t["sample_id"].to_pylist(), t["value"].to_pylist(), strict=True))
    assert values == {"0": 2.0, "1": 2.0, "2": 1.0, "3": 1.0, "4": 1.0}
    assert s.scan(latest=False).num_rows == 7


def test_filters_and_columns(tmp_path):
    s = ResultStore(tmp_path)
    s.append(pa.concat_tables([rows("a", "t1"), rows("b", "t1"), rows("a", "t2", metric="f1")]))
    assert s.scan(models=["a"]).num_rows == 10
    assert s.scan(models=["a"], tasks=["t2"]).num_rows == 5
    assert s.scan(metrics=["acc"]).num_rows == 10
    t = s.scan(models=["b"], columns=["model", "value"])
    assert t.column_names == ["model", "value"] and set(t["model"].to_pylist()) == {"b"}
    with pytest.raises(SampleBenchError, match="unknown column"):
        s.scan(columns=["nope"])


def test_group_column_is_part_of_the_cell(tmp_path):
    s = ResultStore(tmp_path)
    s.append(pa.concat_tables([rows(group="age=young"), rows(group="age=old", value=0.0)]))
    assert s.scan().num_rows == 10


def test_error_rows_and_manifest(tmp_path):
    s = ResultStore(tmp_path)
    t = pa.table({"model": ["m", "m"], "task": ["t", "t"], "sample_id": ["1", "2"], "metric": ["acc", "acc"],
                  "value": [1.0, None], "error": [None, "timeout after 30 s"]})
    info = {"t": {"acc": MetricInfo(higher_is_better=True, kind="binary", main=True)}}
    with s.run(kind="evaluate", metric_info=info) as w:
        w.write(t)
    (run,) = s.runs()
    assert run.status == "finished" and run.n_rows == 2 and run.n_errors == 1
    assert run.models == ["m"] and run.tasks == ["t"] and run.metrics == ["acc"]
    assert s.metric_info()["t"]["acc"].main


@pytest.mark.parametrize(
    ("table", "needle"),
    [
        (pa.table({"model": ["m"], "task": ["t"], "sample_id": ["1"], "value": [1.0]}), "missing column(s) metric"),
        (pa.table({"model": ["m"], "task": ["t"], "sample_id": ["1"], "metric": ["a"], "value": ["high"]}), "'value' has type"),
        (pa.table({"model": ["m", "m"], "task": ["t", "t"], "sample_id": ["1", "1"], "metric": ["a", "a"], "value": [1.0, 2.0]}), "duplicate cell"),
        (pa.table({"model": ["m"], "task": ["t"], "sample_id": ["1"], "metric": ["a"], "value": pa.array([None], pa.float64())}), "neither a value nor an error"),
        (pa.table({"model": [None], "task": ["t"], "sample_id": ["1"], "metric": ["a"], "value": [1.0]}), "'model' is empty at row 1"),
    ],
)
def test_contract_violations_are_refused(table, needle):
    with pytest.raises(SampleBenchError, match=needle.replace("(", r"\(").replace(")", r"\)")):
        normalise(table, run_id="r", where="in.parquet")


def test_pairwise_table(tmp_path):
    s = ResultStore(tmp_path)
    t = pa.table({"task": ["arena"] * 2, "sample_id": ["1", "2"], "model_a": ["x", "y"], "model_b": ["y", "z"],
                  "winner": ["a", "tie"], "judge": ["human", "human"]})
    s.append(t, kind="pairwise")
    assert s.scan(kind="pairwise", models=["z"]).num_rows == 1
    with pytest.raises(SampleBenchError, match="winner must be one of"):
        normalise(t.set_column(4, "winner", pa.array(["a", "draw"])), kind="pairwise", run_id="r")


def test_import_is_atomic_and_idempotent(bench, home, tmp_path):
    good = tmp_path / "good.parquet"
    pq.write_table(rows(n=50), good)
    r = bench("results", "import", "--format", "parquet", good)
    assert r.exit_code == 0 and "imported 50 measurement rows" in r.output
    again = bench("results", "import", "--format", "parquet", good)
    assert again.exit_code == 0 and "already imported" in again.output
    store = ResultStore()
    assert store.scan().num_rows == 50
    bad = tmp_path / "bad.csv"
    bad.write_text("model,task,sample_id,metric,value\nm2,t,1,acc,0.5\nm2,t,1,acc,0.7\n")
    r = bench("results", "import", "--format", "csv", bad)
    assert r.exit_code == 2 and "duplicate cell" in r.output and "bad.csv" in r.output
    assert store.scan().num_rows == 50 and not list((store.root / "_staging").glob("*"))


def test_export_roundtrip(bench, home, tmp_path):
    store = ResultStore()
    store.append(pa.concat_tables([rows("a"), rows("b", value=0.5)]))
    for fmt in ("parquet", "csv", "jsonl"):
        out = tmp_path / f"out.{fmt}"
        r = bench("results", "export", "--format", fmt, "--out", out, "--model", "b")
        assert r.exit_code == 0 and "wrote 5 rows" in r.output
        other = ResultStore(tmp_path / f"store-{fmt}")
        from samplebench.results.importers import IMPORTERS

        summary = IMPORTERS[fmt](other, out)
        assert summary.rows == 5 and summary.models == ["b"]
        back = other.scan()
        assert sorted(back["value"].to_pylist()) == [0.5] * 5
    listed = bench("results", "list")
    assert "rows: 10" in listed.output


def rows_per_batch(store: ResultStore) -> dict[str, dict[int, int]]:
    """writer model -> batch number -> visible rows; reading every shard fails loudly if one is corrupt."""
    seen: dict[str, dict[int, int]] = {}
    for path in store.shard_paths():
        g = pq.read_table(path).group_by(["model", "value"]).aggregate([([], "count_all")])
        for model, value, count in zip(g["model"].to_pylist(), g["value"].to_pylist(), g["count_all"].to_pylist(), strict=True):
            batches = seen.setdefault(model, {})
            batches[int(value)] = batches.get(int(value), 0) + count
    return seen


ROWS = 20_000


@pytest.mark.parametrize("trial", range(20))
def test_sigkill_never_leaves_a_partial_shard(tmp_path, trial):
    store_dir = tmp_path / "store"
    proc = subprocess.Popen([sys.executable, str(WRITER), str(store_dir), "w", "1000", str(ROWS)],
                            stdout=subprocess.PIPE, text=True)
    rng = random.Random(trial)
    # wait for the first batch (imports take a while), then kill at a random point after it
    first = proc.stdout.readline()
    assert first.strip() == "0"
    time.sleep(rng.uniform(0.0, 0.4))
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    store = ResultStore(store_dir)
    batches = rows_per_batch(store).get("model-w", {})
    assert batches, "the first batch was reported written, so it must be visible"
    assert all(n == ROWS for n in batches.values()), "a visible batch must be complete"
    assert sorted(batches) == list(range(len(batches))), "batches become visible in order, none skipped"
    t = store.scan()
    assert t.num_rows == ROWS * len(batches)
    (run,) = store.runs()
    assert run.status == "running"  # the manifest tells the run did not finish


def test_two_processes_write_at_once_lose_and_duplicate_nothing(tmp_path):
    store_dir = tmp_path / "store"
    procs = [subprocess.Popen([sys.executable, str(WRITER), str(store_dir), w, "15", "3000"],
                              stdout=subprocess.DEVNULL) for w in ("p", "q")]
    for p in procs:
        assert p.wait(timeout=120) == 0
    store = ResultStore(store_dir)
    t = store.scan(latest=False)
    assert t.num_rows == 2 * 15 * 3000
    assert pc.count_distinct(t["sample_id"]).as_py() == t.num_rows
    assert {r.status for r in store.runs()} == {"finished"}
    assert len(store.runs()) == 2


def test_large_append_is_columnar_and_fast(tmp_path):
    n = 200_000
    t = pa.table({"model": pa.array(np.repeat(["a", "b"], n // 2)), "task": pa.array(["t"] * n),
                  "sample_id": pa.array(np.arange(n).astype(str)), "metric": pa.array(["acc"] * n),
                  "value": pa.array(np.random.default_rng(0).random(n))})
    start = time.perf_counter()
    ResultStore(tmp_path).append(t)
    assert time.perf_counter() - start < 5
    assert ResultStore(tmp_path).scan(models=["b"]).num_rows == n // 2


def test_latest_per_cell_matches_a_plain_python_reference():
    from samplebench.results import latest_per_cell

    rng = random.Random(7)
    for _ in range(100):
        n = rng.randint(1, 80)
        cells = [(rng.choice(["a", "b", None]), rng.choice("xy"), str(rng.randint(0, 6)), rng.choice(["m1", "m2"]))
                 for _ in range(n)]
        chunks = []
        cut = rng.randint(0, n)
        for lo, hi in ((0, cut), (cut, n)):  # two chunks whose dictionaries differ
            part = cells[lo:hi]
            chunks.append(pa.table({
                "model": pa.array([c[0] for c in part], pa.string()).dictionary_encode(),
                "task": pa.array([c[1] for c in part], pa.string()),
                "sample_id": pa.array([c[2] for c in part], pa.string()),
                "metric": pa.array([c[3] for c in part], pa.string()),
                "row": pa.array(range(lo, hi), pa.int64()),
            }))
        table = pa.concat_tables(chunks)
        expected = sorted({c: i for i, c in enumerate(cells)}.values())
        got = latest_per_cell(table, ["model", "task", "sample_id", "metric"])["row"].to_pylist()
        assert got == expected


def test_distinct_reads_statistics_and_falls_back_to_the_column(tmp_path):
    s = ResultStore(tmp_path)
    big = 300_000  # > one row group, clustered: most groups hold a single task
    s.append(pa.table({"model": ["m"] * big, "task": np.repeat(["a", "b", "c"], big // 3).tolist(),
                       "sample_id": np.arange(big).astype(str), "metric": ["x"] * big, "value": np.ones(big)}))
    s.append(pa.concat_tables([rows(task="d", n=3), rows(task="e", n=3)]))  # one small mixed group
    assert s.distinct("task") == ["a", "b", "c", "d", "e"]
    assert s.distinct("model") == ["m"]
    assert s.distinct("task", kind="pairwise") == []
