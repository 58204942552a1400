"""A rerun over a complete store is cheap and says the same: one store scan, cached built-in specs,
Parquet reads that match the pyarrow.dataset path row for row."""

from __future__ import annotations

import os

import pyarrow as pa
import pyarrow.dataset as ds
import pytest

from samplebench.errors import SampleBenchError
from samplebench.registry import SpecRegistry, TaskRegistry, TaskSpec
from samplebench.registry import registry as registry_mod
from samplebench.results import ResultStore
from samplebench.results.store import int_array, int_view, string_array
from samplebench.runners import evaluate
from samplebench.runners.runner import completed_samples, stored_mean

TASKS = ["bundled-sts", "bundled-paraphrase", "bundled-news-topics"]


# ------------------------------------------------------------------------ store read path


def _rows(model: str, task: str, ids: range, metric: str, value: float, **extra) -> dict[str, list]:
    n = len(ids)
    out = {"model": [model] * n, "task": [task] * n, "sample_id": [f"s{i}" for i in ids], "metric": [metric] * n,
           "value": [value + i for i in ids], "task_revision": ["r1"] * n}
    out.update({k: [v] * n if not isinstance(v, list) else v for k, v in extra.items()})
    return out


@pytest.fixture
def varied_store(tmp_path) -> ResultStore:
    """Several runs and shards: rewritten cells, a `group` detail column in some shards only,
    error rows with null values, two models and tasks interleaved, and pairwise rows."""
    store = ResultStore(tmp_path / "store")
    with store.run(kind="write") as w:
        w.write(pa.table(_rows("a", "t1", range(30), "acc", 0.0)))
        w.write(pa.table(_rows("b", "t1", range(30), "acc", 100.0)))
        w.write(pa.table({k: v + v2 for (k, v), v2 in zip(_rows("a", "t2", range(10), "f1", 0.5).items(),
                                                           _rows("b", "t2", range(10), "f1", 7.5).values(), strict=True)}))
    with store.run(kind="write") as w:  # newer values for some cells, per-group rows, an error row
        w.write(pa.table(_rows("a", "t1", range(5, 15), "acc", 1000.0)))
        w.write(pa.table(_rows("a", "t1", range(3), "acc", 50.0, group=["g1", "g2", None])))
        w.write(pa.table({**_rows("b", "t2", range(2), "f1", 0.0), "value": [None, 3.0],
                          "error": ["boom", None], "prediction": ["x", "y"]}))
    store.append(pa.table({"task": ["t1", "t1"], "sample_id": ["s1", "s2"], "model_a": ["a", "b"],
                           "model_b": ["b", "c"], "winner": ["a", "tie"]}), kind="pairwise")
    return store


@pytest.mark.parametrize("kwargs", [
    {}, {"latest": False}, {"models": ["a"]}, {"models": ["b"], "tasks": ["t2"]}, {"metrics": ["acc"]},
    {"models": ["a", "zzz"], "columns": ["sample_id", "value", "group"]}, {"tasks": ["nope"]},
    {"models": ["b"], "columns": ["model", "error", "prediction"], "latest": False},
    {"kind": "pairwise"}, {"kind": "pairwise", "models": ["c"]}, {"kind": "pairwise", "tasks": ["t1"], "metrics": ["x"]},
])
def test_parquet_scan_equals_dataset_scan(varied_store, kwargs):
    fast = varied_store.scan(**kwargs)
    reference = varied_store.scan(**kwargs, filter=ds.scalar(True))  # the pyarrow.dataset path
    assert fast.schema.equals(reference.schema)
    assert fast.to_pylist() == reference.to_pylist()


def test_parquet_scan_keeps_the_newest_row_per_cell(varied_store):
    t = varied_store.scan(models=["a"], tasks=["t1"], columns=["sample_id", "value", "group"]).to_pylist()
    overall = {r["sample_id"]: r["value"] for r in t if r["group"] is None}
    assert overall["s7"] == 1007.0 and overall["s20"] == 20.0 and overall["s2"] == 52.0  # rewritten in run 2
    assert sorted(r["sample_id"] for r in t if r["group"] is not None) == ["s0", "s1"]
    assert varied_store.column_names() == [*varied_store.scan().column_names]
    assert ResultStore(varied_store.root / "empty").column_names() == []


def test_buffer_built_arrays_match_pyarrow_conversion():
    values = ["", "a", "ünï", "x" * 1000, "a"]
    assert string_array(values).equals(pa.array(values, pa.string()))
    assert string_array([]).equals(pa.array([], pa.string()))
    with pytest.raises((pa.ArrowInvalid, pa.ArrowTypeError)):
        string_array(["a", 3])
    assert int_array([3, -1, 2**40]).to_pylist() == [3, -1, 2**40]
    arr = pa.array(range(10), pa.uint64()).slice(3, 4)
    assert int_view(arr).tolist() == [3, 4, 5, 6]
    assert int_view(pa.chunked_array([pa.array([1], pa.int32()), pa.array([2, 3], pa.int32())])).tolist() == [1, 2, 3]
    with pytest.raises(ValueError, match="nulls"):
        int_view(pa.array([1, None]))


# ---------------------------------------------------------------------------------- runner


def test_complete_rerun_scans_the_store_once_and_reports_what_the_first_run_did(home, tmp_path, monkeypatch):
    store = ResultStore(tmp_path / "store")
    first = evaluate("tfidf", TASKS, store=store, limit=12, progress=False)
    scans, runs = [], []
    real_scan, real_runs = ResultStore.scan, ResultStore.runs
    monkeypatch.setattr(ResultStore, "scan", lambda self, **kw: scans.append(kw) or real_scan(self, **kw))
    monkeypatch.setattr(ResultStore, "runs", lambda self: runs.append(1) or real_runs(self))
    again = evaluate("tfidf", TASKS, store=store, limit=12, progress=False)
    assert not again.model_loaded and len(scans) == 1 and len(runs) == 1
    assert sorted(scans[0]["tasks"]) == sorted(TASKS) and scans[0]["models"] == ["baseline/tfidf"]
    assert "prediction" not in scans[0]["columns"]  # only the columns resuming and means need
    for a, b in zip(first.tasks, again.tasks, strict=True):
        assert (b.n_computed, b.n_reused) == (0, a.n_samples)
        assert b.main_value == pytest.approx(a.main_value, abs=1e-12) and b.task_scores == a.task_scores


def test_rerun_after_partial_run_matches_per_task_reads(home, tmp_path):
    """The one-scan resume agrees with the per-task helpers (used by the Ray executor) on every task."""
    from samplebench.tasks._data import task_revision

    store = ResultStore(tmp_path / "store")
    evaluate("random", TASKS[:2], store=store, limit=8, progress=False)
    rep = evaluate("random", TASKS, store=store, limit=10, progress=False)  # 2 extra per task, 1 new task
    assert [t.n_computed for t in rep.tasks] == [2, 2, 10]
    reg = TaskRegistry()
    for t in rep.tasks:
        spec = reg.get(t.task)
        assert len(completed_samples(store, "baseline/random", spec, task_revision(spec))) == 10
        ids = sorted(completed_samples(store, "baseline/random", spec, task_revision(spec)))
        assert t.main_value == pytest.approx(stored_mean(store, "baseline/random", spec, ids))
    again = evaluate("random", TASKS, store=store, limit=10, progress=False)
    assert [t.main_value for t in again.tasks] == pytest.approx([t.main_value for t in rep.tasks])


# ------------------------------------------------------------------------- registry cache

SPEC = """name: {name}
version: "1"
description: a toy STS task
type: sts
dataset: {{path: ./data.csv}}
columns: {{text1: a, text2: b, score: s}}
metrics: [{{name: rank_error, kind: continuous, higher_is_better: false}}]
main_metric: rank_error
languages: [eng-Latn]
tags: [{tag}]
"""


def _registry(tmp_path) -> SpecRegistry:
    return SpecRegistry(TaskSpec, tmp_path / "builtin", tmp_path / "user")


def test_builtin_specs_are_cached_and_rebuilt_when_a_file_changes(home, tmp_path, monkeypatch):
    (tmp_path / "builtin").mkdir()
    for i in range(3):
        (tmp_path / "builtin" / f"t{i}.yaml").write_text(SPEC.format(name=f"t{i}", tag="x"))
    first = _registry(tmp_path).all()
    cached = list((home / "cache" / "registry").glob("spec-*.pickle"))
    assert len(cached) == 1 and (cached[0].stat().st_mode & 0o077) == 0

    loads = []
    real = registry_mod.load_spec
    monkeypatch.setattr(registry_mod, "load_spec", lambda cls, path: loads.append(path) or real(cls, path))
    again = _registry(tmp_path).all()
    assert loads == [] and [s.model_dump() for s in again] == [s.model_dump() for s in first]
    assert [s.source for s in again] == [s.source for s in first]

    (tmp_path / "builtin" / "t1.yaml").write_text(SPEC.format(name="t1", tag="changed"))
    assert _registry(tmp_path).get("t1").tags == ["changed"] and len(loads) == 3
    assert len(list((home / "cache" / "registry").glob("spec-*.pickle"))) == 1  # the stale one is gone

    (tmp_path / "builtin" / "t3.yaml").write_text(SPEC.format(name="t3", tag="x").replace("eng-Latn", "english"))
    with pytest.raises(SampleBenchError, match="languages"):
        _registry(tmp_path).all()  # a bad file is never hidden by the cache
    (tmp_path / "builtin" / "t3.yaml").unlink()
    assert _registry(tmp_path).names() == ["t0", "t1", "t2"]


def test_user_specs_are_read_every_time_and_override_builtins(home, tmp_path):
    (tmp_path / "builtin").mkdir()
    (tmp_path / "user").mkdir()
    (tmp_path / "builtin" / "t0.yaml").write_text(SPEC.format(name="t0", tag="builtin"))
    assert _registry(tmp_path).get("t0").tags == ["builtin"]
    (tmp_path / "user" / "t0.yaml").write_text(SPEC.format(name="t0", tag="mine"))
    assert _registry(tmp_path).get("t0").tags == ["mine"]
    (tmp_path / "user" / "t0.yaml").unlink()
    assert _registry(tmp_path).get("t0").tags == ["builtin"]


@pytest.mark.parametrize("damage", ["garbage", "group-writable"])
def test_a_bad_or_foreign_cache_file_is_not_trusted(home, tmp_path, damage):
    (tmp_path / "builtin").mkdir()
    (tmp_path / "builtin" / "t0.yaml").write_text(SPEC.format(name="t0", tag="x"))
    _registry(tmp_path).all()
    (cache,) = (home / "cache" / "registry").glob("spec-*.pickle")
    if damage == "garbage":
        cache.write_bytes(b"not a pickle")
    else:
        import pickle

        fake = {"t0": TaskSpec.model_validate({**_registry(tmp_path).get("t0").model_dump(), "tags": ["forged"]})}
        cache.write_bytes(pickle.dumps(fake))
        os.chmod(cache, 0o664)
    assert _registry(tmp_path).get("t0").tags == ["x"]


def test_builtin_registry_from_cache_equals_fresh_parse(home):
    fresh = {s.name: s.model_dump() for s in TaskRegistry().all()}  # cold: parses and writes the cache
    cached = {s.name: s.model_dump() for s in TaskRegistry().all()}
    assert cached == fresh and len(fresh) > 40
