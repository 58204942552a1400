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
    # and the import says so: each of them is listed as a subset absent from its file
    assert all(" ".join(c) in s.details["absent_subsets"] for c in check["missing_and_absent"])
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
    assert t.num_rows == 1600 and len(set(t["model"].to_pylist())) == 16 and t["model"][0].as_py().startswith("SUM_EVAL/") and len(set(t["sample_id"].to_pylist())) == 100


def _aggregators():
    try:
        from samplebench.aggregators import fit
        from samplebench.selection import select_evidence
    except ImportError:
        pytest.skip("samplebench.aggregators.fit/select_evidence are not available yet")
    return fit, select_evidence


def test_full_mteb_table_ranks_with_plackett_luce_and_borda_mteb(store, shared_data):
    fit, select_evidence = _aggregators()
    from scipy.stats import kendalltau

    IMPORTERS["mteb-scores"](store, shared_data / "mteb" / "eng_v2_main_scores.csv")
    ev = select_evidence(store)
    pl = fit(ev, "plackett-luce")
    borda = fit(ev, "borda-mteb")
    assert pl.diagnostics.connected and len(pl.models) == len(borda.models) == 324
    assert all(m.ci_low is not None and m.ci_low <= m.score <= m.ci_high for m in pl.models)
    a, b = pl.by_model(), borda.by_model()
    # borda-mteb counts a missing task as 0 points, PL only compares models where both ran: over
    # all models they agree loosely, over the models that ran every task closely
    tau_all = kendalltau([a[m].score for m in a], [b[m].score for m in a]).statistic
    full = [m for m in a if b[m].n_samples == 41]
    tau_full = kendalltau([a[m].score for m in full], [b[m].score for m in full]).statistic
    assert 0.3 < tau_all < tau_full and tau_full > 0.8, (tau_all, tau_full)
    # both put a model that ran every task among the best ten
    assert set(pl.order()[:10]) & set(full) and set(borda.order()[:10]) & set(full)


def test_colombo_two_level_borda_pl_and_mean_agree(store, shared_data):
    fit, select_evidence = _aggregators()
    from scipy.stats import kendalltau

    IMPORTERS["colombo"](store, shared_data / "colombo" / "instance_level")
    taus = {}
    for task in ("SUM_EVAL", "TAC_08"):
        ev = select_evidence(store, tasks=[task], all_metrics=True)
        rankings = {
            "borda-two": fit(ev, "borda", level="two", ci="none"),
            "plackett-luce": fit(ev, "plackett-luce", ci="none"),
            "mean": fit(ev, "mean", ci="none"),
        }
        ref = rankings["borda-two"].by_model()
        for name in ("plackett-luce", "mean"):
            other = rankings[name].by_model()
            taus[task, name] = kendalltau([ref[m].score for m in ref], [other[m].score for m in ref]).statistic
    # the rank-based aggregations agree closely; the mean of raw scores across metrics of different
    # scales (BLEU 0-100 next to ROUGE 0-1) is pulled away from them, most on SUM_EVAL
    assert taus["SUM_EVAL", "plackett-luce"] > 0.9 and taus["TAC_08", "plackett-luce"] > 0.9, taus
    assert taus["SUM_EVAL", "mean"] < 0.6 < taus["TAC_08", "mean"], taus
