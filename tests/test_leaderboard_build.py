"""`bench leaderboard build`: every artifact, checked against the store and the aggregators directly."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
import yaml
from leaderboard_common import MINIMAL

from samplebench.aggregators import fit
from samplebench.leaderboards import build_leaderboard
from samplebench.leaderboards.simulate import simulate_store
from samplebench.registry.leaderboard_spec import leaderboard_spec_from_dict
from samplebench.results import ResultStore
from samplebench.selection import select_evidence

FILES = ["README.md", "index.html", "leaderboard.csv", "leaderboard.json", "leaderboard.parquet", "ranking.png"]


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    root = tmp_path_factory.mktemp("lbstore")
    store = ResultStore(root / "store")
    truth = simulate_store(store, n_models=9, n_tasks=5, n_samples=60, task_coverage=0.7, seed=3)
    spec = root / "board.yaml"
    spec.write_text(MINIMAL)
    return store, truth, spec


@pytest.fixture(scope="module")
def built(sim, tmp_path_factory):
    store, _, spec = sim
    out = tmp_path_factory.mktemp("lbout") / "board"
    return build_leaderboard(spec, store, out), out


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_cli_build_writes_every_artifact_and_rebuilds_byte_identically(bench, sim, tmp_path):
    store, truth, spec = sim
    r = bench("leaderboard", "build", spec, "--out", tmp_path / "a", "--store", store.root)
    assert r.exit_code == 0, r.output
    assert "wrote" in r.output and "model-" in r.output
    r = bench("leaderboard", "build", spec, "--out", tmp_path / "b", "--store", store.root)
    assert r.exit_code == 0, r.output
    a, b = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert set(FILES) <= set(a)
    assert sorted(p for p in a if p.startswith("samples/")) == [f"samples/{t}.parquet" for t in truth.tasks]
    assert a.keys() == b.keys()
    differing = [p for p in a if a[p] != b[p]]
    assert differing == [], f"rebuild differs in {differing}"
    assert a["ranking.png"][:8] == b"\x89PNG\r\n\x1a\n"
    assert b"Software" not in a["ranking.png"][:4096]  # no matplotlib version chunk


def test_table_matches_the_aggregators_and_the_store(built, sim):
    b, out = built
    store, truth, _ = sim
    table = pq.read_table(out / "leaderboard.parquet")
    assert table.equals(b.table)
    assert table.num_rows == len(truth.models)
    assert table["rank"].to_pylist() == sorted(table["rank"].to_pylist())
    # the ranking is exactly aggregators.fit on the selected evidence (nothing re-implemented here)
    ev = select_evidence(store)
    direct = fit(ev, "plackett-luce").by_model()
    for row in table.to_pylist():
        d = direct[row["model"]]
        assert row["score"] == pytest.approx(d.score, abs=1e-12)
        assert row["rank"] == d.rank and row["ci_low"] == pytest.approx(d.ci_low)
        assert (row["rank_ci_low"], row["rank_ci_high"]) == tuple(d.rank_ci)
        assert row["ci_low"] <= row["score"] <= row["ci_high"]
    for method in ("mean", "borda"):
        other = fit(ev, method, ci="none").by_model()
        assert {r["model"]: r[f"rank:{method}"] for r in table.to_pylist()} == {m: o.rank for m, o in other.items()}
    # recovers the simulated truth roughly: best true model in the top 3, worst in the bottom 3
    order = table["model"].to_pylist()
    assert order.index(truth.models[0]) < 3 and order.index(truth.models[-1]) >= len(order) - 3


def test_coverage_and_task_columns_recomputed_from_raw_rows(built, sim):
    b, _ = built
    store, truth, _ = sim
    raw = store.scan().to_pandas()
    raw = raw[raw["value"].notna()]
    ballots = raw.groupby(["task", "sample_id"]).ngroups
    rows = {r["model"]: r for r in b.table.to_pylist()}
    for model, row in rows.items():
        mine = raw[raw["model"] == model]
        assert row["samples_measured"] == len(mine)
        assert row["samples_selected"] == ballots
        assert row["coverage"] == pytest.approx(len(mine) / ballots)
        assert row["tasks_measured"] == len(truth.measured[model])
        for task in truth.tasks:
            got = row[f"task:{task}"]
            vals = mine[mine["task"] == task]["value"]
            if task in truth.measured[model]:
                assert got == pytest.approx(vals.mean())
            else:
                assert got is None and vals.empty


def test_samples_are_the_measurements_used(built, sim):
    _, out = built
    store, truth, _ = sim
    got = pa.concat_tables([pq.read_table(p) for p in sorted((out / "samples").glob("*.parquet"))])
    want = store.scan()
    assert got.num_rows == want.num_rows == truth.n_rows
    assert got.column_names == ["model", "model_revision", "task", "task_revision", "sample_id", "metric", "value",
                                "error", "run_id", "created_at"]
    key = ["model", "task", "sample_id", "metric"]

    def norm(t):
        t = pa.table({c: t[c].cast(t[c].type.value_type) if pa.types.is_dictionary(t[c].type) else t[c]
                      for c in t.column_names})
        return t.sort_by([(k, "ascending") for k in key]).select(got.column_names)

    assert norm(got).equals(norm(want))
    assert got["error"].null_count < got.num_rows  # the simulated errors are kept, flagged


def test_json_csv_and_card(built, sim):
    b, out = built
    store, truth, _ = sim
    doc = json.loads((out / "leaderboard.json").read_text())
    assert doc["name"] == "sim-board" and doc["spec_hash"] == b.spec_hash
    assert doc["run_ids"] == truth.run_ids == b.run_ids
    assert [r["model"] for r in doc["rows"]] == b.table["model"].to_pylist()
    csv = (out / "leaderboard.csv").read_text().splitlines()
    assert len(csv) == 1 + len(truth.models) and csv[0].startswith('"rank","model","score"')
    card = (out / "README.md").read_text()
    assert card.startswith("---\n")
    meta = yaml.safe_load(card.split("\n---\n", 1)[0].removeprefix("---\n"))
    assert "leaderboard" in meta["tags"] and meta["license"] == "cc-by-4.0"
    configs = {c["config_name"]: c for c in meta["configs"]}
    assert configs["leaderboard"]["data_files"][0]["path"] == "leaderboard.parquet"
    assert configs["samples"]["data_files"][0]["path"] == "samples/*.parquet"
    assert "<!-- samplebench-leaderboard: sim-board -->" in card
    for needle in ("## Ranking", "Plackett-Luce", "## Coverage and warnings", "coverage", b.spec_hash,
                   "samplebench 0.", truth.run_ids[0], "method: plackett-luce", "| 1 | "):
        assert needle in card, needle
    table_lines = [ln for ln in card.splitlines() if ln.startswith("| ") and ln[2].isdigit()]
    assert len(table_lines) == len(truth.models)


def test_load_dataset_reads_the_configs(built, sim, tmp_path):
    datasets = pytest.importorskip("datasets")
    b, out = built
    lb = datasets.load_dataset(str(out), "leaderboard", split="train", cache_dir=str(tmp_path / "cache"))
    assert lb.num_rows == b.table.num_rows
    assert list(lb["model"]) == b.table["model"].to_pylist()
    samples = datasets.load_dataset(str(out), "samples", split="train", cache_dir=str(tmp_path / "cache"))
    assert samples.num_rows == sim[1].n_rows


def test_selection_min_coverage_and_exclusion(sim, tmp_path):
    store, truth, _ = sim
    cov = {m: len(t) / len(truth.tasks) for m, t in truth.measured.items()}
    threshold = sorted(cov.values())[2] + 1e-9  # drops at least the two least-covered models
    spec = leaderboard_spec_from_dict({
        "name": "cut", "title": "Cut", "also_show": ["mean"],
        "selection": {"min_coverage": threshold * 0.97, "exclude_models": [truth.models[4]],
                      "tasks": truth.tasks[:4]},
    })
    b = build_leaderboard(spec, store, tmp_path / "cut")
    ranked = set(b.table["model"].to_pylist())
    assert truth.models[4] not in ranked and truth.models[4] in b.excluded
    assert all(r["coverage"] >= threshold * 0.97 - 0.05 for r in b.table.to_pylist())
    assert ranked | set(b.excluded) == set(truth.models)
    assert len(b.excluded) >= 2
    assert set(b.coverage_tasks) == set(truth.tasks[:4])
    assert not (tmp_path / "cut" / "samples" / f"{truth.tasks[4]}.parquet").exists()
    card = (tmp_path / "cut" / "README.md").read_text()
    assert "left out" in card and truth.models[4] in card


def test_group_view(tmp_path):
    store = ResultStore(tmp_path / "store")
    truth = simulate_store(store, n_models=5, n_tasks=2, n_samples=30, task_coverage=1.0, groups=["age=18-24", "age=65+"])
    spec = leaderboard_spec_from_dict({"name": "g", "title": "Groups", "groups": {"column": "age"}})
    b = build_leaderboard(spec, store, tmp_path / "out")
    g = pq.read_table(tmp_path / "out" / "groups.parquet")
    views = set(g["view"].to_pylist())
    assert views == {"group", "across", "maximin"}
    per_group = g.filter(pc.equal(g["view"], "group"))
    assert set(per_group["group"].to_pylist()) == {"18-24", "65+"}
    assert per_group.num_rows == 2 * len(truth.models)
    assert "## Per-group view" in (tmp_path / "out" / "README.md").read_text()
    assert b.table.num_rows == len(truth.models)


def test_user_errors_exit_2(bench, sim, tmp_path):
    store, _, _ = sim
    spec = tmp_path / "s.yaml"
    spec.write_text(MINIMAL.replace("{tasks: all}", "{tasks: [task-000, no-such-task]}"))
    r = bench("leaderboard", "build", spec, "--out", tmp_path / "o", "--store", store.root)
    assert r.exit_code == 2 and "no-such-task" in r.output and "Traceback" not in r.output
    spec.write_text(MINIMAL.replace("plackett-luce", "plackett-lucy"))
    r = bench("leaderboard", "build", spec, "--out", tmp_path / "o", "--store", store.root)
    assert r.exit_code == 2 and "plackett-lucy" in r.output and "plackett-luce" in r.output
    r = bench("leaderboard", "build", spec, "--out", tmp_path / "o", "--store", tmp_path / "empty")
    assert r.exit_code == 2


def test_disconnected_comparisons_are_refused_or_reported(tmp_path):
    store = ResultStore(tmp_path / "store")
    rows = []
    for task, models in (("left", ["a", "b"]), ("right", ["c", "d"])):
        for i in range(20):
            for j, m in enumerate(models):
                rows.append({"model": m, "task": task, "sample_id": f"s{i}", "metric": "acc",
                             "value": float((i + j) % 3 == 0)})
    store.append(rows)
    spec = {"name": "split", "title": "Split"}
    with pytest.raises(Exception, match="disconnected"):
        build_leaderboard(leaderboard_spec_from_dict(spec), store, tmp_path / "o1")
    spec["aggregator"] = {"method": "plackett-luce", "params": {"on_disconnected": "per-component"}}
    b = build_leaderboard(leaderboard_spec_from_dict(spec), store, tmp_path / "o2")
    assert any("not connected" in w for w in b.warnings) or any("component" in n for n in b.notes)
    assert "not connected" in (tmp_path / "o2" / "README.md").read_text() or \
        "component" in (tmp_path / "o2" / "README.md").read_text()
    assert np.isfinite(b.table["score"].to_numpy()).all()


def test_one_read_answers_exactly_what_the_store_would(tmp_path):
    """The selection's one scan, cut by task, gives each task the rows a scan of that task gives
    (the leaderboard writes samples/ from them)."""
    from samplebench.selection import Selection, read_store

    store = ResultStore(tmp_path / "store")
    truth = simulate_store(store, n_models=5, n_tasks=3, n_samples=20, seed=4)
    # a later run re-measures some cells of two tasks: the latest row must win in both paths
    redo = store.scan(tasks=[truth.tasks[0], truth.tasks[2]]).slice(0, 30).to_pylist()
    keep = ("model", "task", "sample_id", "metric")
    store.append([{**{k: r[k] for k in keep}, "value": 0.5} for r in redo])
    tables = read_store(store, Selection(all_metrics=True), tmp_path / "no-registry").tables()
    for task in truth.tasks:
        got, want = tables[task], store.scan(tasks=[task])
        assert got.to_pylist() == want.to_pylist()
        got = read_store(store, Selection(tasks=(task,), metrics=("accuracy",)), tmp_path / "no-registry").tables()
        assert got[task].to_pylist() == store.scan(tasks=[task], metrics=["accuracy"]).to_pylist()
    assert set(tables) == set(truth.tasks)


def test_bootstrap_intervals_are_seeded(sim, tmp_path):
    store, _, _ = sim
    spec = leaderboard_spec_from_dict({"name": "boot", "title": "Boot", "bootstrap": {"n": 20, "seed": 3},
                                       "selection": {"tasks": ["task-000", "task-001"]}})
    a = build_leaderboard(spec, store, tmp_path / "a")
    b = build_leaderboard(spec, store, tmp_path / "b")
    assert a.table.equals(b.table)
    assert (tmp_path / "a" / "leaderboard.parquet").read_bytes() == (tmp_path / "b" / "leaderboard.parquet").read_bytes()
    direct = fit(select_evidence(store, tasks=["task-000", "task-001"]), "plackett-luce", bootstrap=20, seed=3)
    assert a.table["ci_low"].to_pylist() == [direct.by_model()[m].ci_low for m in a.table["model"].to_pylist()]
    assert "from 20 resamples within each task with seed 3" in (tmp_path / "a" / "README.md").read_text()
