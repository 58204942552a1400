"""Importers on the real data in ../shared/data (skipped in a clone without it)."""

from __future__ import annotations

import csv

import pytest

from samplebench.results import ResultStore
from samplebench.results.importers import IMPORTERS
from samplebench.results.importers.mteb import check_main_scores


@pytest.fixture
def store(home) -> ResultStore:
    return ResultStore(home / "store")


def test_mteb_results_sample_reproduces_leaderboard_main_scores(store, shared_data):
    """Every (task, split, subset) main score eng_v2_main_scores.csv lists for the 17 sample models,
    within 1e-9; the cells the table lists without a main score stay absent (not invented)."""
    mteb = shared_data / "mteb"
    s = IMPORTERS["mteb"](store, mteb / "results-sample")
    assert len(s.models) == 17 and len(s.tasks) == 41
    assert s.details["missing_main_scores"] == []  # every entry in these files carries main_score
    check = check_main_scores(store, mteb / "eng_v2_main_scores.csv", models=s.models)
    assert check["mismatched"] == [] and check["absent"] == [] and check["invented"] == []
    assert check["matched"] == 599
    # the 7 cells the leaderboard lists without a main score: the files lack that subset
    assert len(check["missing_and_absent"]) == 7
    assert ("BAAI/bge-m3", "MTOPDomainClassification", "test/en") in check["missing_and_absent"]
    # the revision kept is the one the leaderboard used
    with open(mteb / "eng_v2_main_scores.csv", newline="") as fh:
        want = {(r["model"], r["task"]): r["model_revision"] for r in csv.DictReader(fh) if r["main_score"]}
    got = store.scan(metrics=["main_score"], columns=["model", "task", "model_revision"], latest=False).to_pylist()
    kept = {(r["model"], r["task"]): r["model_revision"] for r in got}
    assert all(kept[k] == v for k, v in want.items() if k in kept)


def test_mteb_results_sample_json_only(store, shared_data):
    """Without mteb's registry (JSON alone) the same 599 cells are reproduced."""
    mteb = shared_data / "mteb"
    IMPORTERS["mteb"](store, mteb / "results-sample", use_mteb=False)
    check = check_main_scores(store, mteb / "eng_v2_main_scores.csv")
    assert check["matched"] == 599 and not check["mismatched"] and not check["absent"]


def test_mteb_full_main_score_table(store, shared_data):
    s = IMPORTERS["mteb-scores"](store, shared_data / "mteb" / "eng_v2_main_scores.csv")
    assert s.rows == 10_332 - 257 and sum(s.skipped.values()) == 257
    assert len(s.tasks) == 41
    assert len(s.models) + len(s.details["models_without_any_main_score"]) == 406
    assert store.metric_info()["ArguAna"]["main_score"].main


def test_colombo_instance_level_tables(store, shared_data):
    folder = shared_data / "colombo" / "instance_level"
    s = IMPORTERS["colombo"](store, folder)
    expected = 0
    for f in sorted(folder.glob("*.csv")):
        with open(f, newline="") as fh:
            header, *body = list(csv.reader(fh))
        expected += len(body) * (len(header) - 2)
    assert s.rows == expected and len(s.tasks) == 9
    assert any(m.startswith("H:") for m in s.metrics)
    t = store.scan(tasks=["SUM_EVAL"], metrics=["H:coherence"], latest=False)
    assert t.num_rows == 1600 and len(set(t["model"].to_pylist())) == 16 and len(set(t["sample_id"].to_pylist())) == 100
