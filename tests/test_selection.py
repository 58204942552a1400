"""The selection layer: one scan per command, benchmarks as selections, main scores, directions."""

from __future__ import annotations

import csv
import json
import math
from collections import defaultdict

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from samplebench.errors import SampleBenchError
from samplebench.results import ResultStore
from samplebench.results.manifest import MetricInfo
from samplebench.selection import Benchmark, Selection, read_store, resolve_benchmark, select_evidence
from samplebench.selection.benchmarks import snapshot

ENG_V2 = "MTEB(eng, v2)"


@pytest.fixture
def count_scans(monkeypatch):
    """Counts ResultStore reads of measurements (scans, and `distinct` passes over the shards)."""
    calls: list[str] = []
    scan, distinct = ResultStore.scan, ResultStore.distinct

    def counted_scan(self, *, kind="measurements", **kw):
        if kind == "measurements":
            calls.append("scan")
        return scan(self, kind=kind, **kw)

    def counted_distinct(self, column, kind="measurements"):
        if kind == "measurements":
            calls.append("distinct")
        return distinct(self, column, kind)

    monkeypatch.setattr(ResultStore, "scan", counted_scan)
    monkeypatch.setattr(ResultStore, "distinct", counted_distinct)
    return calls


def _mteb_reference(shared_data, bench: Benchmark) -> dict[tuple[str, str], float]:
    """(model, task) -> mteb's task score from the table mteb itself loads: the mean main score
    over the benchmark's (split, subset) cells, missing when one is missing."""
    cells: dict[tuple[str, str], dict] = defaultdict(dict)
    with open(shared_data / "mteb" / "eng_v2_main_scores.csv") as fh:
        for r in csv.DictReader(fh):
            cells[(r["model"], r["task"])][(r["split"], r["subset"])] = float(r["main_score"] or "nan")
    out = {}
    for (model, task), got in cells.items():
        e = bench.task(task)
        vals = [got.get((sp, sub), math.nan) for sp in e.splits for sub in e.subsets]
        if not any(math.isnan(v) for v in vals):
            out[(model, task)] = float(np.mean(vals))
    return out


# -- one scan per command ------------------------------------------------------------------------
def test_aggregate_over_41_tasks_reads_the_store_once(mteb_store, bench, count_scans):
    tasks = mteb_store.distinct("task")
    count_scans.clear()
    assert len(tasks) == 41
    res = bench("aggregate", "--store", mteb_store.root, "--tasks", ",".join(tasks), "--method", "borda-mteb",
                "--registry", mteb_store.root / "no-registry")
    assert res.exit_code == 0, res.output
    assert count_scans == ["scan"]


def test_benchmark_aggregate_table_and_leaderboard_read_once(mteb_store, bench, count_scans, tmp_path):
    res = bench("aggregate", "--store", mteb_store.root, "--benchmark", ENG_V2, "--method", "borda-mteb")
    assert res.exit_code == 0, res.output
    assert count_scans == ["scan"]
    count_scans.clear()
    res = bench("results", "table", "--store", mteb_store.root, "--benchmark", ENG_V2, "--format", "csv")
    assert res.exit_code == 0, res.output
    assert count_scans == ["scan"]
    count_scans.clear()
    spec = tmp_path / "board.yaml"
    spec.write_text('name: eng\ntitle: Eng\nselection: {benchmark: "MTEB(eng, v2)"}\naggregator: borda-mteb\n')
    res = bench("leaderboard", "build", spec, "--store", mteb_store.root, "--out", tmp_path / "out")
    assert res.exit_code == 0, res.output
    assert count_scans == ["scan"]


def test_one_scan_equals_one_scan_per_task_for_every_task(mteb_store, tmp_path):
    """Cutting the one scan by task gives each task exactly the Evidence a scan of that task gives."""
    from samplebench.aggregators.evidence import merge_evidence
    from samplebench.selection import task_evidence

    info = mteb_store.metric_info()
    ev = select_evidence(mteb_store, registry=tmp_path / "no-registry")
    parts = [task_evidence(mteb_store, t, {}, {t: info.get(t, {})}, models=None, metrics=None, pairwise=True,
                           all_metrics=False) for t in sorted(mteb_store.distinct("task"))]
    one = merge_evidence(parts)
    assert (ev.models, ev.tasks, ev.metrics) == (one.models, one.tasks, one.metrics)
    for name in ("offsets", "member_model", "member_level", "member_value", "sample_task", "sample_metric"):
        np.testing.assert_array_equal(getattr(ev, name), getattr(one, name), err_msg=name)


# -- benchmarks ----------------------------------------------------------------------------------
def test_mteb_benchmarks_come_from_mteb_and_the_snapshot_records_its_version():
    mteb = pytest.importorskip("mteb")
    snap = snapshot()
    assert snap["mteb_version"] and len(snap["benchmarks"]) > 50
    eng = resolve_benchmark(ENG_V2)
    assert resolve_benchmark("MTEB(eng)") == eng  # alias
    live = mteb.get_benchmark(ENG_V2)
    assert eng.task_names() == [t.metadata.name for t in live.tasks]
    for t in live.tasks:
        e = eng.task(t.metadata.name)
        assert e.splits == tuple(t.eval_splits) and set(e.subsets) == set(t.hf_subsets)
    assert eng.task("STS17").subsets == ("en-en",)
    assert eng.task("SprintDuplicateQuestions").splits == ("test",)


def test_snapshot_is_used_when_mteb_is_absent(monkeypatch):
    from samplebench.selection import benchmarks

    monkeypatch.setattr(benchmarks, "_installed_mteb", lambda: None)
    eng = benchmarks.resolve_benchmark(ENG_V2)
    assert len(eng.tasks) == 41 and eng.source.startswith("mteb ")
    with pytest.raises(SampleBenchError, match="unknown benchmark 'MTEB\\(eng, v9\\)'"):
        benchmarks.resolve_benchmark("MTEB(eng, v9)")


def test_results_table_equals_mteb_cell_for_cell(mteb_store, bench, shared_data, tmp_path):
    """mteb's task score: mean of main_score over the benchmark's splits and subsets (STS17:
    en-en only, SprintDuplicateQuestions: test only), missing when a cell is missing."""
    eng = resolve_benchmark(ENG_V2)
    ref = _mteb_reference(shared_data, eng)
    out = tmp_path / "t.parquet"
    res = bench("results", "table", "--store", mteb_store.root, "--benchmark", ENG_V2, "--format", "parquet",
                "--out", out)
    assert res.exit_code == 0, res.output
    table = pq.read_table(out)
    assert table.column_names == ["model", *eng.task_names()]
    checked = 0
    for row in table.to_pylist():
        for task in eng.task_names():
            want = ref.get((row["model"], task))
            if want is None:
                assert row[task] is None, (row["model"], task)
            else:
                assert row[task] == pytest.approx(want, abs=1e-9), (row["model"], task)
                checked += 1
    assert table.num_rows == 16 and checked == 599
    md = bench("results", "table", "--store", mteb_store.root, "--benchmark", ENG_V2, "--format", "markdown").output
    assert md.startswith("| model | ArguAna |") and "|---|---:|" in md


def test_yaml_benchmark_selects_its_splits_and_subsets(mteb_store, home, bench):
    (home / "benchmarks").mkdir(parents=True)
    (home / "benchmarks" / "sts.yaml").write_text(
        "name: my-sts\ndescription: STS17 in two language pairs\n"
        "tasks:\n  - {task: STS17, splits: [test], subsets: [en-en, es-es]}\n  - STS12\n")
    m = read_store(mteb_store, Selection.of(benchmark="my-sts"))
    ids = {t: sorted(set(tab["sample_id"].to_pylist())) for t, tab in m.tables().items()}
    assert ids["STS17"] == ["test/en-en", "test/es-es"]
    assert ids["STS12"] == ["test/default"]
    assert m.metrics == {"STS17": ["main_score"], "STS12": ["main_score"]}
    res = bench("aggregate", "--store", mteb_store.root, "--benchmark", "my-sts", "--method", "mean")
    assert res.exit_code == 0, res.output
    res = bench("aggregate", "--store", mteb_store.root, "--benchmark", "no-such-bench")
    assert res.exit_code == 2 and "unknown benchmark 'no-such-bench'" in res.output
    (home / "benchmarks" / "bad.yaml").write_text("name: bad\ntasks: []\n")
    res = bench("aggregate", "--store", mteb_store.root, "--benchmark", str(home / "benchmarks" / "bad.yaml"))
    assert res.exit_code == 2 and "tasks" in res.output and "Traceback" not in res.output


def test_benchmark_aggregate_votes_on_main_scores_only(mteb_store, bench):
    """The main score marked at import drives the ranking, not every score in the files."""
    res = bench("aggregate", "--store", mteb_store.root, "--benchmark", ENG_V2, "--json")
    assert res.exit_code == 0, res.output
    notes = json.loads(res.output)["diagnostics"]["notes"]
    assert not any("no main metric known" in n for n in notes)
    ev = select_evidence(mteb_store, benchmark=ENG_V2)
    assert ev.metrics == ["main_score"] and len(ev.tasks) == 41
    assert ev.n_samples == 41  # one cell per task: STS17 en-en, SprintDuplicateQuestions test, ...


def test_tagged_tasks_use_the_imported_main_score(mteb_store, bench):
    """`--tag mteb-eng-v2` over imported results: the registry's built-in specs name per-sample
    metrics the files lack; the imported `main_score` votes, and no 'all metrics vote' note."""
    ev = select_evidence(mteb_store, tags=["mteb-eng-v2"])
    assert ev.metrics == ["main_score"]
    assert not any("no main metric known" in n for n in ev.notes)


def test_unknown_directions_never_vote_beside_known_ones(tmp_path):
    store = ResultStore(tmp_path / "s")
    rows = [{"model": m, "task": "t", "sample_id": str(i), "metric": k, "value": v}
            for i in range(5) for m, v in (("a", 1.0), ("b", 0.0)) for k in ("acc", "acc_threshold", "ami_std")]
    info = {"t": {"acc": MetricInfo(higher_is_better=True)}}  # acc declared, the other two not
    with store.run(kind="import", metric_info=info) as w:
        w.write(rows)
    ev = select_evidence(store, registry=tmp_path / "no-registry")
    assert ev.metrics == ["acc"] and ev.n_samples == 5
    lines = [n for n in ev.notes if "unknown" in n]
    assert len(lines) == 1 and "t/acc_threshold, t/ami_std" in lines[0] and "left out" in lines[0]


def test_require_all_tasks_reproduces_mteb_population(mteb_store, tmp_path, shared_data):
    from samplebench.leaderboards import build_leaderboard
    from samplebench.registry.leaderboard_spec import leaderboard_spec_from_dict

    spec = leaderboard_spec_from_dict({"name": "eng", "title": "Eng", "aggregator": "borda-mteb",
                                       "selection": {"benchmark": ENG_V2, "require_all_tasks": True}})
    b = build_leaderboard(spec, mteb_store, tmp_path / "out")
    ref = _mteb_reference(shared_data, resolve_benchmark(ENG_V2))
    complete = {m for m in {m for m, _ in ref} if all((m, t) in ref for t in resolve_benchmark(ENG_V2).task_names())}
    ranked = set(b.table["model"].to_pylist())
    stored = set(mteb_store.distinct("model"))
    assert ranked == complete & stored and len(ranked) == 11
    assert all(c == 1.0 for c in b.table["coverage"].to_pylist())  # coverage relative to the selection
    assert all("require_all_tasks" in why for why in b.excluded.values())


def test_sample_ids_hook_keeps_only_those_samples(mteb_store):
    m = read_store(mteb_store, Selection.of(tasks=["STS17"], sample_ids={"STS17": ["test/en-en", "test/ko-ko"]},
                                            all_metrics=True))
    assert sorted(set(m.tables()["STS17"]["sample_id"].to_pylist())) == ["test/en-en", "test/ko-ko"]


def test_file_input_reads_only_the_needed_columns_as_dictionaries(tmp_path):
    from samplebench.selection import read_file

    n = 2000
    rng = np.random.default_rng(0)
    table = pa.table({"model": [f"m{i % 7}" for i in range(n)], "task": ["t"] * n,
                      "sample_id": [f"s{i // 7}" for i in range(n)], "metric": ["x"] * n,
                      "value": rng.random(n), "prediction": ["long text " * 20] * n})
    pq.write_table(table, tmp_path / "m.parquet")
    m = read_file(tmp_path / "m.parquet", Selection.of(models=["m1", "m2", "m3"]))
    t = m.chunks[0].table
    assert "prediction" not in t.column_names
    assert all(pa.types.is_dictionary(t[c].type) for c in ("model", "task", "sample_id", "metric"))
    assert set(t["model"].to_pylist()) == {"m1", "m2", "m3"}
    assert m.metrics == {"t": ["x"]} and any("direction of t/x unknown" in n for n in m.notes)
    table.to_pandas().to_csv(tmp_path / "m.csv", index=False)
    c = read_file(tmp_path / "m.csv", Selection.of(models=["m1", "m2", "m3"])).chunks[0].table
    assert c.num_rows == t.num_rows and "prediction" not in c.column_names


def test_exclude_models_drops_their_rows(mteb_store):
    some = sorted(mteb_store.distinct("model"))[:2]
    m = read_store(mteb_store, Selection.of(benchmark=ENG_V2, exclude_models=some))
    left = {x for t in m.tables().values() for x in t["model"].to_pylist()}
    assert left and not left & set(some)
