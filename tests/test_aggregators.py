"""Aggregators: evidence from the store, the public API, the CLI, diagnostics, intervals."""

from __future__ import annotations

import json

import numpy as np
import pytest

from samplebench.aggregators import METHODS, evidence_from_matrix, fit
from samplebench.aggregators.evidence import EvidenceBuilder
from samplebench.errors import SampleBenchError
from samplebench.results import MetricInfo, ResultStore
from samplebench.selection import select_evidence


def _rows(model: str, task: str, metric: str, values: dict[str, float | None]) -> list[dict]:
    return [{"model": model, "task": task, "sample_id": s, "metric": metric, "value": v,
             "error": None if v is not None else "timeout"} for s, v in values.items()]


@pytest.fixture
def store(tmp_path) -> ResultStore:
    """Three models; 'good' best on acc (higher better) and on err (lower better); one error row."""
    st = ResultStore(tmp_path / "store")
    rows = []
    acc = {"good": [1, 1, 1, 0, 1, 1], "mid": [1, 0, 1, 0, 1, 0], "bad": [0, 0, 1, 0, 0, 0]}
    for m, vals in acc.items():
        rows += _rows(m, "qa", "acc", {f"q{i}": float(v) for i, v in enumerate(vals)})
    err = {"good": [0.1, 0.2, 0.1, 0.3], "mid": [0.3, 0.25, 0.4, 0.3], "bad": [0.9, 0.8, None, 0.7]}
    for m, vals in err.items():
        rows += _rows(m, "reg", "err", {f"r{i}": v for i, v in enumerate(vals)})
    info = {"qa": {"acc": MetricInfo(higher_is_better=True, kind="binary", main=True)},
            "reg": {"err": MetricInfo(higher_is_better=False, kind="continuous", main=True)}}
    with st.run(kind="evaluate", metric_info=info) as w:
        w.write(rows)
    return st


def test_select_evidence_builds_ballots_with_directions(store):
    ev = select_evidence(store, registry=store.root / "no-registry")
    assert ev.n_models == 3 and set(ev.tasks) == {"qa", "reg"}
    assert ev.higher_is_better[("reg", "err")] is False
    assert ev.n_samples == 10
    assert ev.n_measurements == 18 + 11  # one error row left out
    assert any("without a value" in n for n in ev.notes)
    # in every reg ballot 'good' (lowest error) is at level 0
    good = ev.models.index("good")
    reg = ev.tasks.index("reg")
    for s in np.flatnonzero(ev.sample_task == reg):
        a = ev.offsets[s]
        assert ev.member_model[a] == good and ev.member_level[a] == 0


def test_unknown_direction_is_noted(tmp_path):
    st = ResultStore(tmp_path / "s")
    st.append(_rows("a", "t", "x", {"1": 1.0}) + _rows("b", "t", "x", {"1": 0.0}))
    ev = select_evidence(st, registry=tmp_path / "reg")
    assert any("direction of t/x unknown" in n for n in ev.notes)
    assert ev.higher_is_better[("t", "x")] is True


@pytest.mark.parametrize("method", sorted(METHODS))
def test_every_method_ranks_the_planted_order(method):
    rng = np.random.default_rng(1)
    theta = np.linspace(2, -2, 6)
    values = theta[None, :] + rng.gumbel(size=(400, 6))
    values[rng.random(values.shape) < 0.3] = np.nan
    r = fit(evidence_from_matrix(values), method)
    assert r.order() == [f"m{i:03d}" for i in range(6)]
    assert [m.rank for m in r.models] == sorted(m.rank for m in r.models)
    assert all(m.n_samples > 0 for m in r.models)


def test_plackett_luce_matches_choix_without_ties():
    import choix

    rng = np.random.default_rng(3)
    values = rng.normal(size=(300, 7)) + np.arange(7)[None, :] * 0.3
    values[rng.random(values.shape) < 0.4] = np.nan
    r = fit(evidence_from_matrix(values), "plackett-luce", alpha=0.0, tol=1e-10, ci="none",
            direction="forward")
    rankings = []
    for row in values:
        idx = np.flatnonzero(~np.isnan(row))
        if idx.size >= 2:
            rankings.append(list(idx[np.argsort(-row[idx])]))
    ref = choix.ilsr_rankings(7, rankings, alpha=0.0, tol=1e-12)
    ours = np.array([r.by_model()[f"m{i:03d}"].score for i in range(7)])
    np.testing.assert_allclose(ours, ref - ref.mean(), atol=1e-5)


def test_plackett_luce_tie_model_is_breslow():
    """One ballot {a, b} > {c}: each of a, b is chosen from {a, b, c}; the gradient says so."""
    from samplebench.aggregators.plackett_luce import Stages

    b = EvidenceBuilder(["a", "b", "c"])
    b.add_ballots(np.zeros(3, int), np.arange(3), np.array([1.0, 1.0, 0.0]))
    st = Stages.from_evidence(b.build())
    theta = np.array([0.3, -0.2, 0.1])
    ll, grad, _ = st.loglik_grad(theta, 0.0)
    w = np.exp(theta)
    expected = theta[0] + theta[1] - 2 * np.log(w.sum())
    assert ll == pytest.approx(expected)
    np.testing.assert_allclose(grad, np.array([1, 1, 0]) - 2 * w / w.sum())


def test_fisher_information_matches_numerical_hessian():
    from samplebench.aggregators.plackett_luce import fisher_exact, fit_pl

    values = np.round(np.random.default_rng(5).normal(size=(200, 5)) * 2) / 2  # many ties
    values[np.random.default_rng(6).random(values.shape) < 0.3] = np.nan
    f = fit_pl(evidence_from_matrix(values), alpha=0.0, direction="forward")
    H = fisher_exact(f.stages, f.theta, 0.0)
    eps = 1e-5
    num = np.array([-(f.stages.loglik_grad(f.theta + eps * e, 0)[1] - f.stages.loglik_grad(f.theta - eps * e, 0)[1])
                    / (2 * eps) for e in np.eye(5)])
    np.testing.assert_allclose(H, num, atol=1e-4 * np.abs(H).max())


def test_disconnected_graph_refused_or_fitted_per_component():
    values = np.full((40, 4), np.nan)
    rng = np.random.default_rng(0)
    values[:20, :2] = rng.normal(size=(20, 2)) + [1, 0]
    values[20:, 2:] = rng.normal(size=(20, 2)) + [1, 0]
    ev = evidence_from_matrix(values)
    with pytest.raises(SampleBenchError, match="disconnected"):
        fit(ev, "plackett-luce")
    r = fit(ev, "plackett-luce", on_disconnected="per-component")
    assert not r.diagnostics.connected and len(r.diagnostics.components) == 2
    comp = r.diagnostics.component_of
    assert comp["m000"] == comp["m001"] != comp["m002"]
    assert {m.rank for m in r.models} == {1, 2}
    b = fit(ev, "borda")  # a rule runs, and says the graph was split
    assert not b.diagnostics.connected and any("components" in n for n in b.diagnostics.notes)


def test_bootstrap_is_seeded_and_independent_of_jobs():
    values = np.random.default_rng(2).normal(size=(150, 5)) + np.arange(5)[None, :] * 0.2
    ev = evidence_from_matrix(values)
    a = fit(ev, "plackett-luce", bootstrap=30, seed=7)
    b = fit(ev, "plackett-luce", bootstrap=30, seed=7, n_jobs=2)
    assert a.model_dump() == b.model_dump()
    assert all(m.ci_low <= m.score <= m.ci_high for m in a.models)
    assert all(m.rank_ci[0] <= m.rank <= m.rank_ci[1] for m in a.models)


def test_unknown_method_and_param_are_user_errors():
    ev = evidence_from_matrix(np.eye(3))
    with pytest.raises(SampleBenchError, match="unknown aggregation method"):
        fit(ev, "plakett-luce")
    with pytest.raises(SampleBenchError, match="no parameter"):
        fit(ev, "borda", alpha=1)


def test_levels_task_and_two(store):
    ev = select_evidence(store, registry=store.root / "none")
    for level in ("task", "two"):
        r = fit(ev, "borda", level=level)
        assert r.order()[0] == "good" and r.order()[-1] == "bad"
    r = fit(ev, "plackett-luce", level="task", ci="none")
    assert r.diagnostics.evidence["ballots"] == 2


def test_cli_aggregate_table_and_json(bench, store):
    res = bench("aggregate", "--store", store.root, "--method", "plackett-luce")
    assert res.exit_code == 0, res.output
    assert "good" in res.output.splitlines()[2]
    assert "converged: True" in res.output
    res = bench("aggregate", "--store", store.root, "--method", "borda", "--json")
    data = json.loads(res.output)
    assert data["method"] == "borda" and data["models"][0]["model"] == "good"
    res = bench("aggregate", "--store", store.root, "--compare", "plackett-luce,borda,mean")
    assert res.exit_code == 0 and "Kendall tau" in res.output
    res = bench("aggregate", "--store", store.root, "--method", "nope")
    assert res.exit_code == 2 and "unknown aggregation method" in res.output
    res = bench("aggregate", "--store", store.root, "--tasks", "qa", "--bootstrap", "20", "--method", "win-rate")
    assert res.exit_code == 0 and "rank ci" in res.output
    res = bench("aggregate", "--store", store.root, "--ci", "fisher-diagonal", "--json")
    data = json.loads(res.output)
    assert data["params"]["ci"] == "fisher-diagonal"
    assert all(m["ci_low"] <= m["score"] <= m["ci_high"] for m in data["models"])


def test_cli_input_file(bench, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = _rows("a", "t", "x", {"1": 1.0, "2": 0.5}) + _rows("b", "t", "x", {"1": 0.0, "2": 0.1})
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "m.parquet")
    res = bench("aggregate", "--input", tmp_path / "m.parquet", "--method", "mean", "--json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["models"][0]["model"] == "a"


@pytest.fixture
def group_store(tmp_path) -> ResultStore:
    """Two rater groups that disagree on half the items; one model copies each group, one hedges."""
    st = ResultStore(tmp_path / "gstore")
    rows = []
    score = {  # per-item score by group (higher = better agreement)
        "copies-young": {"young": 1.0, "old": 0.0},
        "copies-old": {"young": 0.0, "old": 1.0},
        "hedges": {"young": 0.6, "old": 0.6},
    }
    for model, by_group in score.items():
        for item in range(10):
            for group, v in by_group.items():
                contested = item < 5
                rows.append({"model": model, "task": "safety", "sample_id": str(item), "metric": "agreement",
                             "value": v if contested else 1.0, "group": f"rater_age={group}"})
            rows.append({"model": model, "task": "safety", "sample_id": str(item), "metric": "agreement",
                         "value": 0.5, "group": None})
    # the young group is larger on the overall mean: copies-young is best on average
    info = {"safety": {"agreement": MetricInfo(higher_is_better=True, kind="continuous", main=True)}}
    with st.run(kind="evaluate", metric_info=info) as w:
        w.write(rows)
    return st


def test_fit_by_group_maximin_and_across(group_store):
    from samplebench.aggregators import fit_by_group

    ev = select_evidence(group_store, registry=group_store.root / "none")
    res = fit_by_group(ev, "rater_age", "mean")
    assert set(res.groups) == {"young", "old"}
    assert res.groups["young"].order()[0] == "copies-young"
    assert res.groups["old"].order()[0] == "copies-old"
    assert res.maximin.order()[0] == "hedges"
    assert res.maximin.diagnostics.worst_group["copies-young"] == "old"
    assert {m.model for m in res.across.models} == {"copies-young", "copies-old", "hedges"}
    pl = fit_by_group(ev, "rater_age", "plackett-luce", rule="schulze")
    assert pl.groups["young"].order()[0] == "copies-young" and pl.maximin.order()[0] == "hedges"
    with pytest.raises(SampleBenchError, match="rater_gender"):
        fit_by_group(ev, "rater_gender")


def test_cli_by_group(bench, group_store):
    res = bench("aggregate", "--store", group_store.root, "--by-group", "rater_age", "--method", "mean")
    assert res.exit_code == 0, res.output
    assert "== rater_age = old" in res.output and "worst group (maximin)" in res.output
    res = bench("aggregate", "--store", group_store.root, "--by-group", "rater_age", "--json",
                "--group-rule", "schulze")
    data = json.loads(res.output)
    assert data["maximin"]["models"][0]["model"] == "hedges"
    assert data["across"]["method"].startswith("schulze")
    res = bench("aggregate", "--store", group_store.root, "--by-group", "rater_gender")
    assert res.exit_code == 2 and "rater_age" in res.output


def test_worst_first_reading_shares_the_stage_arrays():
    """loglik_grad_rev on the best-first structure equals best-first PL on reversed ballots."""
    from samplebench.aggregators.plackett_luce import Stages

    values = np.round(np.random.default_rng(8).normal(size=(60, 6)), 1)
    values[np.random.default_rng(9).random(values.shape) < 0.3] = np.nan
    ev = evidence_from_matrix(values)
    st = Stages.from_evidence(ev)
    rev = Stages.from_evidence(ev, reverse=True)
    theta = np.random.default_rng(1).normal(size=6)
    ll_a, g_a = st.loglik_grad_rev(theta)
    ll_b, g_b, _ = rev.loglik_grad(theta, 0.0)
    assert ll_a == pytest.approx(ll_b)
    np.testing.assert_allclose(g_a, g_b, atol=1e-10)
    np.testing.assert_allclose(st.wins_rev, rev.wins)


def test_tags_and_registry_directions(store, tmp_path):
    """--tag selects registered tasks; a registered spec's direction wins over what a run recorded,
    and its main_metric picks the voting metric."""
    reg = tmp_path / "registry"
    reg.mkdir()
    (reg / "reg.yaml").write_text(
        "name: reg\nversion: '1'\ndescription: regression error\ntype: classification\n"
        "dataset: {path: ./reg.csv}\ncolumns: {text: text, label: label}\n"
        "metrics:\n  - {name: err, kind: continuous, higher_is_better: true}\n"
        "main_metric: err\ntags: [numeric]\n", encoding="utf-8")
    from samplebench.registry import TaskRegistry

    registry = TaskRegistry(reg, builtin=False)
    ev = select_evidence(store, tags=["numeric"], registry=registry)
    assert ev.tasks == ["reg"]
    assert ev.higher_is_better[("reg", "err")] is True  # the spec says so, the run said lower
    r = fit(ev, "borda")
    assert r.order()[0] == "bad"  # largest error now counts as best
    with pytest.raises(SampleBenchError, match="no registered task has tag"):
        select_evidence(store, tags=["nope"], registry=registry)
    with pytest.raises(SampleBenchError, match="have no results"):
        select_evidence(store, tasks=["qaa"], registry=registry)


def test_pairwise_judgements_from_the_store_and_levels(tmp_path):
    st = ResultStore(tmp_path / "pw")
    rows = []
    rng = np.random.default_rng(0)
    strength = {"a": 1.0, "b": 0.0, "c": -1.0}
    names = list(strength)
    for i in range(300):
        x, y = rng.choice(3, 2, replace=False)
        p = 1 / (1 + np.exp(strength[names[y]] - strength[names[x]]))
        rows.append({"task": "arena", "sample_id": str(i), "model_a": names[x], "model_b": names[y],
                     "winner": "a" if rng.random() < p else "b", "judge": "human"})
    st.append(rows, kind="pairwise")
    ev = select_evidence(st, registry=tmp_path / "none")
    assert ev.n_pairs == 300 and ev.n_measurements == 0
    for method in ("bradley-terry", "plackett-luce", "elo", "copeland", "win-rate"):
        assert fit(ev, method).order() == ["a", "b", "c"], method
    assert fit(ev, "borda", level="task").order() == ["a", "b", "c"]
    assert fit(ev, "borda", level="two").order() == ["a", "b", "c"]


def test_one_level_ballots_change_nothing():
    """Single-member and all-tied ballots carry no PL information, kept or dropped."""
    from samplebench.aggregators.plackett_luce import fit_pl

    rng = np.random.default_rng(12)
    values = rng.normal(size=(200, 6)) + np.arange(6) * 0.2
    values[rng.random(values.shape) < 0.3] = np.nan
    extra = np.full((30, 6), np.nan)
    extra[:10, 2] = 1.0  # single members
    extra[10:, :] = 0.5  # everyone tied
    base = fit_pl(evidence_from_matrix(values))
    mixed = fit_pl(evidence_from_matrix(np.vstack([values, extra])))  # < 20% of members: kept
    np.testing.assert_allclose(base.theta, mixed.theta, atol=1e-6)
    assert base.loglik == pytest.approx(mixed.loglik, rel=1e-9)


def _one_score_per_task(n_tasks: int = 12, n_models: int = 6, seed: int = 3):
    """A leaderboard-style table: every task holds a single score per model (lower is better)."""
    rng = np.random.default_rng(seed)
    b = EvidenceBuilder([f"m{i}" for i in range(n_models)], tasks=[f"t{j}" for j in range(n_tasks)],
                        metrics=["err"], higher_is_better={(f"t{j}", "err"): False for j in range(n_tasks)})
    for j in range(n_tasks):
        v = np.arange(n_models) + rng.normal(0, 1.5, n_models)
        b.add_ballots(np.zeros(n_models, np.int64), np.arange(n_models), v, oriented=-v, sample_task=j)
    return b.build()


def test_bootstrap_within_tasks_keeps_task_sums_on_their_scale():
    from samplebench.aggregators.evidence_ops import resample_within

    strata = np.repeat([0, 1, 2], [5, 1, 3])
    idx = resample_within(np.random.default_rng(0), strata)
    assert np.bincount(strata[idx]).tolist() == [5, 1, 3]
    ev = _one_score_per_task()
    r = fit(ev, "borda-mteb", bootstrap=40, seed=1)
    assert any("zero width" in n for n in r.diagnostics.notes)
    by_tasks = fit(ev, "borda-mteb", bootstrap=200, seed=1, resample="tasks")
    assert by_tasks.params["resample"] == "tasks"
    for m in by_tasks.models:
        assert m.ci_low <= m.score <= m.ci_high
    assert any(m.ci_high > m.ci_low for m in by_tasks.models)
    pl = fit(ev, "plackett-luce", bootstrap=100, seed=1, resample="tasks")
    assert pl.order()[0] == "m0"
    for m in pl.models:
        assert m.ci_low <= m.score <= m.ci_high


@pytest.mark.parametrize("compiled_path", [True, False])
@pytest.mark.parametrize("case", ["grouped", "grouped-wide", "inf", "ungrouped", "ungrouped-wide-codes"])
def test_rank_levels_paths_agree_with_lexsort(case, compiled_path, monkeypatch):
    """The compiled per-ballot sort (insertion sort, merge sort for a wide ballot), after the
    grouping sort for ungrouped input (16-bit radix or int64 codes), and the numpy path give
    lexsort's permutation exactly and the dense levels of a plain loop."""
    from samplebench.aggregators import compiled
    from samplebench.aggregators.evidence import rank_levels

    monkeypatch.setattr(compiled, "MIN_MEASUREMENTS", 0 if compiled_path else 1 << 62)
    calls = []
    monkeypatch.setattr(compiled, "call", lambda name, *a, _call=compiled.call: calls.append(name) or _call(name, *a))
    rng = np.random.default_rng(3)
    counts = rng.integers(1, 30, 500)
    if case == "grouped-wide":
        counts[7] = 5000  # beyond the insertion sort's size: merge sort
    if case == "ungrouped-wide-codes":
        counts = rng.integers(1, 4, 70_000)  # codes beyond 16 bits
    code = np.repeat(np.arange(counts.size), counts)
    v = np.round(rng.normal(size=code.size), 1)
    if case == "inf":
        v[::17] = -np.inf
        v[::23] = np.inf
    if case.startswith("ungrouped"):
        perm = rng.permutation(code.size)
        code, v = code[perm], v[perm]
    order, s, level = rank_levels(code, v)
    assert calls == (["segment_levels"] if compiled_path else [])
    ref = np.lexsort((-v, code))
    np.testing.assert_array_equal(order, ref)  # the same permutation: stable, ties in input order
    np.testing.assert_array_equal(s, code[ref])
    first = (np.r_[True, s[1:] != s[:-1]]).tolist()
    vo = v[order].tolist()
    expected = [0] * code.size
    for i in range(1, code.size):  # dense rank inside the sample, by a plain loop
        expected[i] = 0 if first[i] else expected[i - 1] + (vo[i] != vo[i - 1])
    np.testing.assert_array_equal(level, expected)


@pytest.mark.parametrize("bridge", [True, False])
def test_components_and_win_loss_read_past_a_connected_prefix(bridge):
    """Components and win/loss presence read ballots in growing prefixes; a bridge or a single
    win in the very last ballot must still count."""
    from samplebench.aggregators.evidence_ops import comparison_components, win_loss_presence

    rng = np.random.default_rng(0)
    b = EvidenceBuilder([f"m{i:02d}" for i in range(20)])
    n_b = 6000
    for s in range(n_b - 1):
        grp = np.arange(10) if s < n_b // 2 else np.arange(10, 20)
        members = rng.choice(grp, 4, replace=False)
        vals = rng.normal(size=4)
        if 19 in members:
            vals[members == 19] = -10.0  # m19 never wins before the last ballot
        b.add_ballots(np.full(4, s), members, vals)
    last = np.array([0, 19]) if bridge else np.array([18, 19])
    b.add_ballots(np.full(2, n_b - 1), last, np.array([0.0, 1.0]))  # m19 wins once, at the end
    ev = b.build()
    active = ev.samples_per_model() > 0
    comps = comparison_components(ev, active)
    assert len(comps) == (1 if bridge else 2)
    won, lost = win_loss_presence(ev, active)
    assert won.all() and lost.all()
    assert "m19" not in fit(ev, "borda", ci="none").diagnostics.no_wins


def test_cli_choices_follow_the_library_vocabularies():
    """The CLI lists its choices literally (to import fast); they must not drift from the library's."""
    from samplebench.aggregators.api import CI_KINDS, LEVELS, RESAMPLE_UNITS
    from samplebench.cli.aggregate import aggregate
    from samplebench.selection import EXECUTORS

    choices = {p.name: set(p.type.choices) for p in aggregate.params if hasattr(p.type, "choices")}
    assert choices["ci"] == set(CI_KINDS)
    assert choices["level"] == set(LEVELS)
    assert choices["resample"] == set(RESAMPLE_UNITS)
    assert choices["executor"] == set(EXECUTORS)


@pytest.mark.parametrize("decimals", [None, 1, 0])  # untied, some ties, mostly ties
@pytest.mark.parametrize("shape", [(500, 12, 0.3), (300, 70, 0.1), (800, 40, 0.6)])  # padded and exact blocks
def test_blocks_passes_match_the_flat_stages_reference(decimals, shape):
    """The numpy passes on ballots stacked by size (`Blocks`) give the flat `Stages` reference's
    log-likelihood and gradient in both readings, and the compiled kernel's diagonal terms, with
    ties, one-member and all-tied ballots and padded blocks."""
    from samplebench.aggregators import kernels
    from samplebench.aggregators.plackett_luce import Blocks, Stages

    n_s, n_m, missing = shape
    rng = np.random.default_rng(n_m)
    v = rng.normal(size=(n_s, n_m))
    if decimals is not None:
        v = np.round(v, decimals)
    v[rng.random(v.shape) < missing] = np.nan
    v[3] = 0.5  # all tied
    v[4, 1:] = np.nan  # one member
    ev = evidence_from_matrix(v)
    theta = rng.normal(size=n_m)
    st, bl = Stages.from_evidence(ev), Blocks(ev)
    ll, g, _ = st.loglik_grad(theta, 0.0)
    d = st.wins - g
    ll_r, g_r = st.loglik_grad_rev(-theta)
    e, e_r = np.exp(theta - theta.max()), np.exp(-theta - (-theta).max())
    for both, ref in ((True, (ll + ll_r, g - g_r, d + st.wins_rev - g_r)), (False, (ll, g, d))):
        out = bl.evaluate(theta, both)
        assert out[0] == pytest.approx(ref[0], rel=1e-10)
        np.testing.assert_allclose(out[1], ref[1], rtol=1e-9, atol=1e-8)
        np.testing.assert_allclose(out[2], ref[2], rtol=1e-9)
        H, J = kernels.pl_diagonal(ev.offsets, ev.member_model, ev.member_level, e, e_r, both, ev.largest_ballot())
        H_b, J_b = bl.diagonal(theta, both)
        np.testing.assert_allclose(H_b, H, rtol=1e-9)
        np.testing.assert_allclose(J_b, J, rtol=1e-9)


def test_component_labels_match_scipy_on_random_graphs():
    """Connected components by hook-and-compress (numpy, no scipy import) equal scipy's, on
    random sparse graphs and on long paths (the most rounds), each labelled by its smallest node."""
    import scipy.sparse as sp
    from scipy.sparse.csgraph import connected_components

    from samplebench.aggregators.evidence_ops import _component_labels

    rng = np.random.default_rng(0)
    for trial in range(200):
        n = int(rng.integers(1, 80))
        if trial % 3 == 0:
            p = rng.permutation(n)
            u, v = p[:-1], p[1:]
        else:
            m = int(rng.integers(0, 2 * n))
            u, v = rng.integers(0, n, m), rng.integers(0, n, m)
        labels = _component_labels(n, u, v)
        k, ref = connected_components(sp.csr_matrix((np.ones(len(u)), (u, v)), shape=(n, n)), directed=False)
        assert len(set(zip(labels.tolist(), ref.tolist(), strict=True))) == k == len(set(labels.tolist()))
        assert all(c == np.flatnonzero(labels == c).min() for c in set(labels.tolist()))


def test_arrow_columns_reach_numpy_through_their_buffers():
    """`numpy_values` reads integer and float columns (sliced, chunked, with nulls) like
    `to_numpy`, without the pandas import pyarrow's own conversion pays."""
    import pyarrow as pa

    from samplebench._arrow import numpy_values

    f = pa.chunked_array([pa.array([1.5, None, 3.0, 4.0]).slice(1), pa.array([7.0])])
    np.testing.assert_array_equal(numpy_values(f), [np.nan, 3.0, 4.0, 7.0])
    i = pa.array([5, None, 7], pa.int32()).slice(1)
    np.testing.assert_array_equal(numpy_values(i, null=-1), [-1, 7])
    with pytest.raises(ValueError):
        numpy_values(i)
    d = pa.array(["a", "b", "a"]).dictionary_encode()
    np.testing.assert_array_equal(numpy_values(d.indices), [0, 1, 0])
