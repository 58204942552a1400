"""Every registered method through the same checks (in the spirit of sklearn's check_estimator):
parameters validated and reported exactly as used, each parameter changing the result where it
should, seeded methods reproducible and seed-sensitive, ties, pairwise input, intervals,
disconnected graphs, and no method parameter sharing a name with a fit option."""

from __future__ import annotations

import numpy as np
import pytest

from samplebench.aggregators import METHODS, evidence_from_matrix, fit
from samplebench.aggregators.evidence import EvidenceBuilder
from samplebench.aggregators.methods import FIT_OPTIONS, INTERVAL_KINDS, Capabilities, Method, Param
from samplebench.errors import SampleBenchError

NAMES = sorted(METHODS)


def _planted(seed: int = 1, n: int = 6, samples: int = 300, missing: float = 0.3):
    rng = np.random.default_rng(seed)
    values = np.linspace(2, -2, n)[None, :] + rng.gumbel(size=(samples, n))
    values[rng.random(values.shape) < missing] = np.nan
    return evidence_from_matrix(values)


def _two_tasks():
    """Two tasks on different scales, with ties, truncated ballots and a few explicit judgements."""
    rng = np.random.default_rng(5)
    b = EvidenceBuilder([f"m{i}" for i in range(5)], tasks=["t0", "t1"], metrics=["acc"])
    for t in range(2):
        for _ in range(40):
            keep = np.flatnonzero(rng.random(5) < 0.8)
            vals = np.round(np.arange(5, 0, -1)[keep] * (1 + t * 9) + rng.normal(scale=3, size=keep.size))
            b.add_ballots(np.zeros(keep.size, np.int64), keep, vals, sample_task=t)
    b.add_pairs(np.array([0, 1, 2]), np.array([4, 3, 0]), np.array([1.0, 0.5, 0.0]), np.array([0, 0, 1]))
    return b.build()


def _scores(r):
    return {m.model: round(m.score, 9) for m in r.models}


def test_no_method_parameter_shares_a_name_with_a_fit_option():
    import dataclasses

    from samplebench.aggregators.api import FitOptions
    from samplebench.cli.aggregate import _OPTION_PARAMS

    assert set(FIT_OPTIONS) == {f.name for f in dataclasses.fields(FitOptions)} == _OPTION_PARAMS
    for m in METHODS.values():
        assert not {p.name for p in m.params} & set(FIT_OPTIONS), m.name
    with pytest.raises(ValueError, match="clash"):
        Method("bad", lambda ev, seed: None, "x", (Param("seed", 0, "x", kind=int),))


@pytest.mark.parametrize("name", NAMES)
def test_parameters_are_validated_and_reported_as_used(name):
    m = METHODS[name]
    ev = _planted()
    r = fit(ev, name)
    for p in m.params:
        assert p.name in r.params, p.name
    used = r.params
    assert {k: used[k] for k in m.defaults} == {**m.defaults, **({"alpha": 0.0} if used.get("arena") else {})}
    with pytest.raises(SampleBenchError, match="has no parameter"):
        fit(ev, name, no_such_parameter=1)
    for p in m.params:
        bad = "not-a-number" if p.kind in (float, int) else 123 if p.kind is not dict else "x"
        with pytest.raises(SampleBenchError, match=p.name):
            fit(ev, name, **{p.name: bad})
        if p.low is not None:
            with pytest.raises(SampleBenchError, match=p.name):
                fit(ev, name, **{p.name: p.low - 1})


# (method, parameter, other value, evidence builder): the result must change with the value
CHANGES = [
    ("plackett-luce", "alpha", 5.0, _planted),
    ("plackett-luce", "tol", 0.5, _planted),
    ("plackett-luce", "max_iter", 1, _planted),
    ("plackett-luce", "direction", "forward", _planted),
    ("bradley-terry", "alpha", 5.0, _planted),
    ("bradley-terry", "ties", "ignore", _two_tasks),
    ("bradley-terry", "arena", True, _planted),
    ("bradley-terry", "rank_break", False, _two_tasks),
    ("elo", "k", 32.0, _planted),
    ("elo", "n_seeds", 1, _planted),
    ("schulze", "strength", "winning", None),
    ("kemeny", "exact_limit", 0, None),
    ("normalized-mean", "normalization", "baseline", _two_tasks),
    ("normalized-mean", "baselines", {"t0": 3.0}, None),
    ("normalized-mean", "upper", 60.0, None),
]
# parameters that only bound the work: on well-posed data the result does not depend on them
BOUNDS_ONLY = {("kemeny", "time_limit")}


def _schulze_differs():
    """Two-member ballots (truncation) whose majority matrix has margins and winning votes that
    pick different strongest paths: above[i, j] ballots put i over j."""
    above = [[0, 6, 0, 4], [0, 0, 3, 3], [3, 0, 0, 0], [0, 5, 4, 0]]
    b = EvidenceBuilder(["a", "b", "c", "d"])
    for i in range(4):
        for j in range(4):
            for _ in range(above[i][j]):
                b.add_ballots(np.zeros(2, np.int64), np.array([i, j]), np.array([1.0, 0.0]))
    return b.build()


def _kemeny_heuristic_differs():
    rng = np.random.default_rng(0)
    b = EvidenceBuilder([f"c{i}" for i in range(8)])
    for _ in range(7):
        b.add_ballots(np.zeros(8, np.int64), rng.permutation(8), np.arange(8, dtype=float))
    return b.build()


def _baseline_table():
    b = EvidenceBuilder(["a", "b"], tasks=["t0", "t1"], metrics=["acc"])
    b.add_ballots(np.zeros(2, np.int64), np.array([0, 1]), np.array([4.0, 5.0]), sample_task=0)
    b.add_ballots(np.zeros(2, np.int64), np.array([0, 1]), np.array([50.0, 20.0]), sample_task=1)
    return b.build()


SPECIAL = {("schulze", "strength"): _schulze_differs, ("kemeny", "exact_limit"): _kemeny_heuristic_differs,
           ("normalized-mean", "baselines"): _baseline_table, ("normalized-mean", "upper"): _baseline_table}


def test_every_parameter_is_covered():
    declared = {(m.name, p.name) for m in METHODS.values() for p in m.params}
    assert declared == {(m, p) for m, p, _, _ in CHANGES} | BOUNDS_ONLY


@pytest.mark.parametrize(("name", "param", "value", "make"), CHANGES, ids=[f"{m}-{p}" for m, p, _, _ in CHANGES])
def test_each_parameter_changes_the_result(name, param, value, make):
    ev = (make or SPECIAL[(name, param)])()
    base = {"normalization": "baseline"} if name == "normalized-mean" and param != "normalization" else {}
    if name == "kemeny":  # exact_limit decides whether the optimum is searched for and proven
        a, b = fit(ev, name, ci="none").diagnostics, fit(ev, name, ci="none", **{param: value}).diagnostics
        assert (a.kemeny_exact, a.kemeny_solver) != (b.kemeny_exact, b.kemeny_solver)
        return
    a = fit(ev, name, ci="none", **base)
    b = fit(ev, name, ci="none", **base, **{param: value})
    assert b.params[param] == value
    assert _scores(a) != _scores(b)


@pytest.mark.parametrize("name", [n for n in NAMES if METHODS[n].capabilities.seeded])
def test_seeded_methods_are_reproducible_and_seed_sensitive(name):
    ev = _planted()
    a, b, c = fit(ev, name, seed=0), fit(ev, name, seed=0), fit(ev, name, seed=12345)
    assert a.model_dump() == b.model_dump()
    assert _scores(a) != _scores(c)
    assert c.params["seed"] == 12345


@pytest.mark.parametrize("name", [n for n in NAMES if not METHODS[n].capabilities.seeded])
def test_unseeded_methods_do_not_depend_on_the_seed(name):
    ev = _planted()
    assert _scores(fit(ev, name, seed=0, ci="none")) == _scores(fit(ev, name, seed=99, ci="none"))


@pytest.mark.parametrize("name", NAMES)
def test_ties_and_pairwise_input(name):
    caps = METHODS[name].capabilities
    ev = _two_tasks()
    r = fit(ev, name, on_disconnected="per-component")
    assert len(r.models) == 5 and all(np.isfinite(m.score) for m in r.models)
    # a tie is a tie: swapping two tied models' names swaps nothing in their scores
    tied = EvidenceBuilder(["a", "b", "c"], tasks=["t"], metrics=["acc"])
    for s in range(20):
        tied.add_ballots(np.zeros(3, np.int64), np.array([0, 1, 2]), np.array([1.0, 1.0, float(s % 2)]))
    t = fit(tied.build(), name, ci="none")
    a_, b_ = t.by_model()["a"].score, t.by_model()["b"].score
    if caps.seeded:  # random orders make exchangeable models differ by the seeds' noise only
        assert abs(a_ - b_) <= 3 * t.diagnostics.seed_sd_max + 1e-9
    elif caps.ties:
        assert a_ == pytest.approx(b_)
    # explicit judgements move a pairwise method's scores, and leave the others alone
    def ballots(with_pairs: bool):
        b = EvidenceBuilder([f"m{i}" for i in range(5)], tasks=["t"], metrics=["acc"])
        rng = np.random.default_rng(2)
        for _ in range(30):
            b.add_ballots(np.zeros(5, np.int64), np.arange(5), rng.normal(size=5))
        if with_pairs:
            b.add_pairs(np.full(40, 4), np.full(40, 0), np.ones(40))
        return b.build()

    moved = _scores(fit(ballots(False), name, ci="none")) != _scores(fit(ballots(True), name, ci="none"))
    assert moved == caps.pairwise


@pytest.mark.parametrize("name", NAMES)
def test_intervals_declared_and_refused(name):
    caps = METHODS[name].capabilities
    ev = _planted()
    r = fit(ev, name)
    if caps.intervals:
        assert r.diagnostics.ci_method in caps.intervals
        assert all(m.ci_low <= m.score <= m.ci_high and m.rank_ci[0] <= m.rank <= m.rank_ci[1] for m in r.models)
    else:
        assert r.diagnostics.ci_method == "none" and all(m.ci_low is None for m in r.models)
    for kind in INTERVAL_KINDS:
        if kind in caps.intervals:
            assert fit(ev, name, ci=kind).diagnostics.ci_method == kind
        else:
            with pytest.raises(SampleBenchError, match=kind):
                fit(ev, name, ci=kind)
    boot = fit(ev, name, bootstrap=8, seed=1)
    assert boot.diagnostics.ci_method == "bootstrap" and all(m.rank_ci is not None for m in boot.models)


@pytest.mark.parametrize("name", NAMES)
def test_disconnected_graphs(name):
    caps = METHODS[name].capabilities
    rng = np.random.default_rng(4)
    values = rng.normal(size=(60, 6)) + np.arange(6)
    values[:30, 3:] = np.nan
    values[30:, :3] = np.nan
    ev = evidence_from_matrix(values)
    if caps.needs_connected:
        with pytest.raises(SampleBenchError, match="disconnected"):
            fit(ev, name)
        r = fit(ev, name, on_disconnected="per-component")
        assert sorted(set(r.diagnostics.component_of.values())) == [0, 1]
        assert len(r.diagnostics.per_component) == 2
    else:
        r = fit(ev, name)
        assert any("components" in n for n in r.diagnostics.notes)
    assert not r.diagnostics.connected and len(r.models) == 6


def test_capabilities_are_declared_not_named():
    """fit never branches on a method's name: a new method with PL's capabilities runs through it."""
    from samplebench.aggregators import methods

    pl = METHODS["plackett-luce"]
    clone = Method("pl-clone", pl.func, "copy", pl.params, Capabilities(**vars(pl.capabilities)), pl.interval_work)
    methods.METHODS["pl-clone"] = clone
    try:
        ev = _planted()
        a, b = fit(ev, "plackett-luce"), fit(ev, "pl-clone")
        assert a.model_dump(exclude={"method"}) == b.model_dump(exclude={"method"})
    finally:
        del methods.METHODS["pl-clone"]
