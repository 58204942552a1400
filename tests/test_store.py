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
    assert "cells: 10" in listed.output


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
    assert run.state() == "interrupted"  # ... and that its writer is gone (issue 16 item 4)
    assert run.n_rows in (t.num_rows, t.num_rows - ROWS)  # checkpointed after every shard but the one in flight


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


# -- issue 16: hostile and degenerate inputs on the store side ----------------------------------------------


def test_nonfinite_values_become_error_rows_on_every_write_path(tmp_path):
    """Item 1: NaN and ±inf are never stored as values, whichever path writes them."""
    s = ResultStore(tmp_path)
    values = [0.5, float("nan"), float("inf"), float("-inf"), None]
    t = rows(n=5).set_column(4, "value", pa.array(values))
    t = t.append_column("error", pa.array([None, None, None, "timeout", "crashed"]))
    s.append(t)
    with s.run() as w:  # the validated fast path (simulations) goes through the same rule
        canon = normalise(rows(model="v", n=2), run_id=w.run_id)
        w.write(canon.set_column(6, "value", pa.array([1.0, float("nan")])), validated=True)
    got = {(r["model"], r["sample_id"]): (r["value"], r["error"]) for r in s.scan().to_pylist()}
    assert got[("m", "0")] == (0.5, None)
    assert got[("m", "1")] == (None, "non-finite value (nan) is not a measurement")
    assert got[("m", "2")] == (None, "non-finite value (inf) is not a measurement")
    assert got[("m", "3")] == (None, "timeout")  # a row that already says why keeps its reason
    assert got[("m", "4")] == (None, "crashed")
    assert got[("v", "1")] == (None, "non-finite value (nan) is not a measurement")
    assert not np.isnan(np.array(s.scan()["value"].drop_null().to_pylist())).any()
    assert s.runs()[0].n_errors == 4


def test_jsonl_and_csv_imports_store_nan_and_inf_as_errors(bench, home, tmp_path):
    jsonl = tmp_path / "m.jsonl"
    jsonl.write_text('{"model": "a", "task": "t", "sample_id": "1", "metric": "acc", "value": NaN}\n'
                     '{"model": "a", "task": "t", "sample_id": "2", "metric": "acc", "value": Infinity}\n'
                     '{"model": "a", "task": "t", "sample_id": "3", "metric": "acc", "value": 1.0}\n')
    csv = tmp_path / "m.csv"
    csv.write_text("model,task,sample_id,metric,value\nb,t,1,acc,inf\nb,t,2,acc,-inf\nb,t,3,acc,0.25\n")
    assert bench("results", "import", "--format", "jsonl", jsonl).exit_code == 0
    assert bench("results", "import", "--format", "csv", csv).exit_code == 0
    t = ResultStore().scan()
    assert t["value"].null_count == 4 and t["error"].null_count == 2
    assert all(np.isfinite(v) for v in t["value"].drop_null().to_pylist())


IMPORT_ONE = """
import sys, time
from pathlib import Path
from samplebench.results import ResultStore
from samplebench.results.io import import_file
start = float(sys.argv[3])
time.sleep(max(0.0, start - time.time()))
r = import_file(ResultStore(sys.argv[1]), Path(sys.argv[2]), "parquet")
print("imported" if r else "skipped")
"""


def test_simultaneous_imports_of_one_file_import_it_once(tmp_path):
    """Item 4: three processes import the same file at the same instant: one run, no duplicate rows."""
    src = tmp_path / "in.parquet"
    pq.write_table(rows(n=20_000), src)
    store = tmp_path / "store"
    start = str(time.time() + 2.0)
    procs = [subprocess.Popen([sys.executable, "-c", IMPORT_ONE, str(store), str(src), start],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(3)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    assert sorted(o for o, _ in outs) == ["imported\n", "skipped\n", "skipped\n"]
    s = ResultStore(store)
    assert [r.status for r in s.runs()] == ["finished"]
    assert s.scan(latest=False).num_rows == 20_000


CRASH_IMPORT = """
import os, sys
from pathlib import Path
import samplebench.results.store as store_module
from samplebench.results import ResultStore
from samplebench.results.io import import_file
real_rename = os.rename
def dying_rename(src, dst):
    if sys.argv[3] == "after":
        real_rename(src, dst)
    os._exit(9)  # SIGKILL-like: no cleanup, no finally
store_module.os.rename = dying_rename
import_file(ResultStore(sys.argv[1]), Path(sys.argv[2]), "parquet")
"""


@pytest.mark.parametrize("when", ["before", "after"])
def test_crash_while_publishing_an_import_leaves_no_duplicates(tmp_path, when):
    """Item 4: killed just before/after its shards were renamed into place, an import is completed by
    the next import of the same file (not imported twice), and no shard is ever without a manifest."""
    src = tmp_path / "in.parquet"
    pq.write_table(rows(n=100), src)
    store = tmp_path / "store"
    crash = subprocess.run([sys.executable, "-c", CRASH_IMPORT, str(store), str(src), when], capture_output=True)
    assert crash.returncode == 9, crash.stderr
    s = ResultStore(store)
    (run,) = s.runs()  # the manifest exists before any shard is visible
    assert run.status == "publishing" and run.state() == "interrupted"
    assert s.scan(latest=False).num_rows == (100 if when == "after" else 0)
    from samplebench.results.io import import_file

    assert import_file(s, src, "parquet") is None  # completed, so already imported
    (run,) = s.runs()
    assert run.status == "finished" and "recovered" in run.meta
    assert s.scan(latest=False).num_rows == 100
    assert not list((store / "_staging").glob("*"))


DIE_WHILE_ASSEMBLING = """
import os, sys
from pathlib import Path
from samplebench.results import RunWriter, ResultStore
from samplebench.results.io import import_file
real_write = RunWriter.write
def write_then_die(self, *a, **k):
    real_write(self, *a, **k)
    os._exit(9)
RunWriter.write = write_then_die
import_file(ResultStore(sys.argv[1]), Path(sys.argv[2]), "parquet")
"""


def test_import_killed_while_assembling_leaves_nothing_visible_and_check_cleans_up(bench, home, tmp_path):
    src = tmp_path / "in.parquet"
    pq.write_table(rows(n=100), src)
    store = ResultStore()
    crash = subprocess.run([sys.executable, "-c", DIE_WHILE_ASSEMBLING, str(store.root), str(src)], capture_output=True)
    assert crash.returncode == 9, crash.stderr
    assert store.runs() == [] and store.scan().num_rows == 0
    (left,) = (store.root / "_staging").iterdir()
    r = bench("results", "check")
    assert r.exit_code == 0 and f"note: {left} is the unpublished part of an import" in r.output
    r = bench("results", "check", "--quarantine")
    assert r.exit_code == 0 and f"removed {left}" in r.output and not left.exists()
    assert "imported 100" in bench("results", "import", "--format", "parquet", src).output


def test_results_list_counts_cells_not_superseded_rows(bench, home):
    """Item 4: rows that later runs replaced are not counted as cells."""
    s = ResultStore()
    s.append(rows(n=10, value=0.0))
    s.append(rows(n=10, value=1.0))
    s.append(rows(model="b", n=4))
    summary = s.summary()
    assert summary["rows"] == 14 and summary["superseded_rows"] == 10
    assert summary["models"] == {"b": 4, "m": 10}
    out = bench("results", "list").output
    assert "cells: 14 (+10 superseded rows)" in out


def test_cell_counts_match_a_full_de_duplicating_scan(tmp_path):
    """`summary` reads pair counts from statistics and re-scans only pairs several shards share, in
    small batches: the same numbers as de-duplicating everything at once."""
    rng = np.random.default_rng(1)
    s = ResultStore(tmp_path)
    for _ in range(6):
        n = int(rng.integers(50, 400))
        s.append(pa.table({"model": [f"m{i}" for i in rng.integers(0, 7, n)],
                           "task": [f"t{i}" for i in rng.integers(0, 3, n)],
                           "sample_id": [str(i) for i in rng.permutation(n)], "metric": ["acc"] * n,
                           "value": rng.random(n)}))
    s.append(rows("solo", n=9))  # a pair in one shard only: counted from its statistics
    full = s.scan(columns=["model", "task"]).to_pylist()
    raw, cells = s._cell_counts(batch_rows=100)
    expected: dict = {}
    for r in full:
        expected[(r["model"], r["task"])] = expected.get((r["model"], r["task"]), 0) + 1
    assert cells == expected and raw == s.scan(latest=False).num_rows
    assert s.summary()["superseded_rows"] == raw - len(full) > 0


KILLED_RUN = """
import sys, time
import pyarrow as pa
from samplebench.results import ResultStore
with ResultStore(sys.argv[1]).run(kind="evaluate") as w:
    w.write(pa.table({"model": ["m"] * 3, "task": ["t"] * 3, "sample_id": ["1", "2", "3"],
                      "metric": ["acc"] * 3, "value": [1.0, 0.0, 1.0]}))
    print("written", flush=True)
    time.sleep(600)
"""


def test_killed_run_shows_interrupted_with_its_rows(bench, home):
    """Item 4: a run whose process died is `interrupted`, with the rows it published, not `running, 0 rows`."""
    store = ResultStore()
    proc = subprocess.Popen([sys.executable, "-c", KILLED_RUN, str(store.root)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "written"
        (run,) = store.runs()
        assert run.state() == "running" and run.n_rows == 3  # alive: still running
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    (run,) = store.runs()
    assert run.state() == "interrupted" and run.n_rows == 3
    out = bench("results", "list").output
    assert "interrupted" in out and " running " not in out


def _bad_shards(store: Path) -> dict[str, Path]:
    """One shard of every kind of damage, each in a run directory of its own."""
    d = {}
    for name in ("truncated", "empty", "garbage", "foreign"):
        d[name] = store / "measurements" / f"20990101T000000000000-{name}" / "part-000001.parquet"
        d[name].parent.mkdir(parents=True)
    good = ResultStore(store).shard_paths()[0]
    d["truncated"].write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    d["empty"].write_bytes(b"")
    d["garbage"].write_bytes(os.urandom(2000))
    pq.write_table(pa.table({"user": ["x"], "password": ["y"]}), d["foreign"])
    return d


@pytest.mark.parametrize("damage", ["truncated", "empty", "garbage", "foreign"])
def test_one_bad_shard_names_itself_and_check_quarantines_it(bench, home, damage):
    """Item 8: a bad shard stops readers with one line naming it (exit 2); `results check --quarantine`
    moves it aside and the store is usable again with every good row."""
    store = ResultStore()
    store.append(pa.concat_tables([rows("a", n=6), rows("b", n=6, value=0.5)]))
    bad = _bad_shards(store.root)
    for other in set(bad) - {damage}:
        bad[other].unlink()
    path = bad[damage]
    for args in (("results", "list"), ("aggregate", "--method", "mean"), ("results", "export", "--out",
                                                                         home / "x.csv", "--format", "csv")):
        r = bench(*args)
        assert r.exit_code == 2, (args, r.output)
        assert str(path) in r.output and "Traceback" not in r.output and len(r.output.strip().splitlines()) <= 2
    r = bench("results", "check")
    assert r.exit_code == 2 and f"bad shard: {path}" in r.output and "1 of 2 shard(s) ok" in r.output
    r = bench("results", "check", "--quarantine")
    assert r.exit_code == 0, r.output
    assert not path.exists() and (store.root / "_quarantine" / "measurements" / path.parent.name / path.name).exists()
    assert bench("results", "check").exit_code == 0
    listed = bench("results", "list")
    assert listed.exit_code == 0 and "cells: 12" in listed.output
    assert bench("aggregate", "--method", "mean").exit_code == 0


@pytest.fixture
def read_only():
    """Make a folder read-only for this process: chmod for a normal user; for root (whom permission
    bits do not stop) the immutable attribute, when the filesystem supports it."""
    import shutil

    made: list[Path] = []

    def make(folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        if os.geteuid() != 0:
            for p in [folder, *(q for q in folder.rglob("*") if q.is_dir())]:
                p.chmod(0o555)
        else:
            if not shutil.which("chattr"):
                pytest.skip("running as root without chattr: cannot make a folder read-only")
            for p in [folder, *(q for q in folder.rglob("*") if q.is_dir())]:
                if subprocess.run(["chattr", "+i", str(p)], capture_output=True).returncode:
                    pytest.skip("running as root on a filesystem without the immutable attribute")
                made.append(p)
        return folder

    yield make
    for p in made:
        subprocess.run(["chattr", "-i", str(p)], capture_output=True)


def test_read_only_store_fails_before_the_work(bench, home, tmp_path, read_only):
    """Item 9: evaluate and import on a read-only store exit 2 at once, in one line."""
    store = ResultStore()
    store.append(rows())
    read_only(store.root)
    t0 = time.perf_counter()
    r = bench("evaluate", "random", "--tasks", "bundled-sts", "--quiet")
    assert r.exit_code == 2 and "results store" in r.output and "not writable" in r.output
    assert "Traceback" not in r.output and "model built" not in r.output
    assert time.perf_counter() - t0 < 5
    src = tmp_path / "in.parquet"
    pq.write_table(rows("z"), src)
    r = bench("results", "import", "--format", "parquet", src)
    assert r.exit_code == 2 and "not writable" in r.output
    assert bench("results", "list").exit_code == 0  # reading a read-only store still works


def test_read_only_registry_and_output_fail_before_the_work(bench, home, tmp_path, read_only):
    from leaderboard_common import MINIMAL

    read_only(home / "tasks")
    spec = tmp_path / "t.yaml"
    spec.write_text("name: ro\n")  # the writability check comes before the spec is even read
    r = bench("add-task", spec)
    assert r.exit_code == 2 and "task registry" in r.output and "not writable" in r.output
    ResultStore().append(pa.concat_tables([rows("a"), rows("b", value=0.0)]))
    lb = tmp_path / "lb.yaml"
    lb.write_text(MINIMAL)
    out = read_only(tmp_path / "out")
    r = bench("leaderboard", "build", lb, "--out", out / "site")
    assert r.exit_code == 2 and "output folder" in r.output and "not writable" in r.output


def test_csv_export_neutralises_spreadsheet_formulas_and_reads_back_exactly(bench, home, tmp_path):
    """Item 7: text cells that a spreadsheet would run are prefixed with ' (OWASP); import restores them."""
    names = ["=cmd|' /C calc'!A0", "+1+1", "-2", "@SUM(A1)", "\tx", "\rx", "'=quoted", "plain", "a=b"]
    t = pa.table({"model": names, "task": ["t"] * len(names), "sample_id": [f"s{i}" for i in range(len(names))],
                  "metric": ["acc"] * len(names), "value": [1.0] * len(names)})
    ResultStore().append(t)
    out = tmp_path / "x.csv"
    assert bench("results", "export", "--format", "csv", "--out", out).exit_code == 0
    import csv

    with open(out, newline="") as fh:
        cells = [row["model"] for row in csv.DictReader(fh)]
    for cell in cells:
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
    assert "'=cmd|' /C calc'!A0" in cells and "plain" in cells and "a=b" in cells and "''=quoted" in cells
    other = ResultStore(tmp_path / "other")
    from samplebench.results.io import import_file

    import_file(other, out, "csv")
    assert sorted(other.scan()["model"].to_pylist()) == sorted(names)


def test_export_of_an_unknown_model_exits_2_with_the_closest_names(bench, home, tmp_path):
    """Item 14: `export --model nosuch` names the model instead of writing 0 rows."""
    ResultStore().append(pa.concat_tables([rows("org/model-large"), rows("org/model-small")]))
    out = tmp_path / "x.parquet"
    r = bench("results", "export", "--out", out, "--model", "org/model-larg")
    assert r.exit_code == 2 and "no model 'org/model-larg'" in r.output and "org/model-large" in r.output
    assert not out.exists()
    r = bench("results", "export", "--out", out, "--task", "nosuch")
    assert r.exit_code == 2 and "no task 'nosuch'" in r.output
    assert bench("results", "export", "--out", out, "--model", "org/model-small").exit_code == 0
