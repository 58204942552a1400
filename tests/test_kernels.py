"""The compiled kernels against the numpy paths they replace on large inputs.

Production code takes the compiled path only from `compiled.MIN_MEASUREMENTS` measurements on;
these tests lower that line to 0 (`on_kernels`) or raise it out of reach (`on_numpy`) so the
two paths run on the same small data.
"""

from __future__ import annotations

import contextlib

import numba
import numpy as np
import pytest

from samplebench.aggregators import compiled, evidence_from_matrix, fit, kernels
from samplebench.aggregators.evidence import EvidenceBuilder
from samplebench.aggregators.plackett_luce import Objective, Stages


@contextlib.contextmanager
def _line(n: int):
    before = compiled.MIN_MEASUREMENTS
    compiled.MIN_MEASUREMENTS = n
    try:
        yield
    finally:
        compiled.MIN_MEASUREMENTS = before


def on_kernels():
    return _line(0)


def on_numpy():
    return _line(1 << 62)


@pytest.fixture(autouse=True)
def _kernels_by_default():
    with on_kernels():
        yield


def _values(seed: int, n_samples: int, n_models: int, *, decimals: int | None, missing: float = 0.3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    v = rng.normal(size=(n_samples, n_models))
    if decimals is not None:
        v = np.round(v, decimals)  # ties
    v[rng.random(v.shape) < missing] = np.nan
    return v


def _reference(ev, theta: np.ndarray, direction: str) -> tuple[float, np.ndarray]:
    """Log-likelihood and gradient from the numpy Stages passes (the readable reference)."""
    st = Stages.from_evidence(ev)
    ll, grad, _ = st.loglik_grad(theta, 0.0)
    if direction == "both":
        ll_r, g_r = st.loglik_grad_rev(-theta)
        ll, grad = ll + ll_r, grad - g_r
    return ll, grad


@pytest.mark.parametrize("direction", ["both", "forward"])
@pytest.mark.parametrize("decimals", [None, 1, 0])  # untied, some ties, mostly ties
@pytest.mark.parametrize("stride", [1, 3])
def test_pl_pass_matches_the_numpy_reference(direction, decimals, stride):
    ev = evidence_from_matrix(_values(1, 400, 9, decimals=decimals))
    theta = np.random.default_rng(2).normal(size=9)
    f = Objective(ev, direction, stride=stride)
    ll, grad, diag = f(theta, 0.0)
    sub = ev.take_samples(np.arange(0, ev.n_samples, stride))
    ll_ref, grad_ref = _reference(sub, theta, direction)
    assert ll == pytest.approx(ll_ref, rel=1e-12)
    np.testing.assert_allclose(grad, grad_ref, atol=1e-9)
    st = Stages.from_evidence(sub)
    expected_diag = st.wins - st.loglik_grad(theta, 0.0)[1]
    if direction == "both":
        expected_diag += st.wins_rev - st.loglik_grad_rev(-theta)[1]
    np.testing.assert_allclose(diag, expected_diag, rtol=1e-12)


def _loglik_by_ballot(ev, theta: np.ndarray) -> float:
    """Both readings' log-likelihood, ballot by ballot with logsumexp (Breslow ties)."""
    from scipy.special import logsumexp

    total = 0.0
    for b in range(ev.n_samples):
        sl = slice(ev.offsets[b], ev.offsets[b + 1])
        models, levels = ev.member_model[sl], ev.member_level[sl]
        for sign in (1.0, -1.0):
            x = sign * theta[models]
            lv = levels if sign > 0 else levels.max() - levels
            for k in range(int(lv.max())):  # stage k: level k chosen from levels k..last
                chosen, risk = lv == k, lv >= k
                total += x[chosen].sum() - chosen.sum() * logsumexp(x[risk])
    return total


@pytest.mark.parametrize("direction", ["both", "forward"])
def test_many_chunks_match_the_numpy_path(direction):
    """Evidence spanning several parallel chunks (> 65,536 measurements each), with empty,
    single-member and all-tied rows: the kernel path equals the numpy path."""
    values = _values(9, 30_000, 12, decimals=1, missing=0.4)
    values[::97] = np.nan
    values[1::89, 1:] = np.nan
    values[2::83] = 0.5
    theta = np.random.default_rng(10).normal(size=12) * 0.7
    with on_numpy():
        ev_np = evidence_from_matrix(values)
        ll_np, g_np, d_np = Objective(ev_np, direction)(theta, 0.01)
        counts_np = (ev_np.samples_per_model(), ev_np.comparisons_per_model())
    ev = evidence_from_matrix(values)
    assert ev.n_measurements > 3 * 65_536
    for col in ("offsets", "member_model", "member_level", "member_value"):
        np.testing.assert_array_equal(getattr(ev, col), getattr(ev_np, col))
    ll, g, d = Objective(ev, direction)(theta, 0.01)
    assert ll == pytest.approx(ll_np, rel=1e-12)
    np.testing.assert_allclose(g, g_np, rtol=1e-9, atol=1e-7)
    np.testing.assert_allclose(d, d_np, rtol=1e-10)
    np.testing.assert_array_equal(ev.samples_per_model(), counts_np[0])
    np.testing.assert_array_equal(ev.comparisons_per_model(), counts_np[1])


def test_pl_pass_survives_extreme_strengths():
    """Strengths spanning e^-690..1: the per-ballot product of risk-set sums leaves the safe
    range and the kernel falls back to stage-by-stage logs. (The numpy reference loses these
    sums to cancellation: it takes them as differences of one global cumulative sum.)"""
    ev = evidence_from_matrix(_values(3, 200, 6, decimals=None, missing=0.0))
    theta = np.array([0.0, -300.0, -650.0, -100.0, -5.0, -690.0])
    ll, _, _ = Objective(ev, "both")(theta, 0.0)
    assert np.isfinite(ll) and ll == pytest.approx(_loglik_by_ballot(ev, theta), rel=1e-12)
    mild = theta / 100  # where the reference is exact, the check above is, too
    assert Objective(ev, "both")(mild, 0.0)[0] == pytest.approx(_loglik_by_ballot(ev, mild), rel=1e-12)


@pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="needs 2 threads to compare with 1")
def test_kernels_give_identical_results_on_any_thread_count():
    values = _values(4, 60_000, 30, decimals=2, missing=0.5)
    theta = np.random.default_rng(5).normal(size=30) * 0.3
    before = numba.get_num_threads()
    try:
        out = []
        for threads in (1, before):
            numba.set_num_threads(threads)
            ev = evidence_from_matrix(values)
            out.append((ev.member_model, ev.member_level, *Objective(ev, "both")(theta, 0.01)))
    finally:
        numba.set_num_threads(before)
    for a, b in zip(*out, strict=True):
        assert np.array_equal(np.asarray(a), np.asarray(b))  # bit for bit, not approximately


@pytest.mark.parametrize("hib", [True, False])
def test_matrix_and_long_table_ballots_equal_on_both_paths(hib):
    """add_matrix (one compiled pass over the matrix) and add_ballots from the long (sample,
    model, value) arrays, each on the compiled and the numpy path, build the same ballots,
    tied members in the same order; an all-missing row is no ballot."""
    values = _values(6, 500, 12, decimals=1)
    values[7] = np.nan
    s, m = np.nonzero(~np.isnan(values))
    v = values[s, m]
    perm = np.random.default_rng(0).permutation(s.size)  # ungrouped input: the grouping sort runs first
    grouped, shuffled = [], []
    for path in (on_kernels, on_numpy):
        with path():
            grouped.append(evidence_from_matrix(values, higher_is_better=hib))
            for order, out in ((np.arange(s.size), grouped), (perm, shuffled)):
                b = EvidenceBuilder([f"m{i:03d}" for i in range(12)], tasks=["task"], metrics=["score"],
                                    higher_is_better={("task", "score"): hib})
                b.add_ballots(s[order], m[order], v[order], oriented=(v if hib else -v)[order])
                out.append(b.build())
    first = grouped[0]
    assert first.n_samples == 499
    for other in grouped[1:] + shuffled:
        for col in ("offsets", "member_level", "member_value"):
            np.testing.assert_array_equal(getattr(first, col), getattr(other, col))
    for other in grouped[1:]:  # same input order: tied members in the same order, too
        np.testing.assert_array_equal(first.member_model, other.member_model)
    np.testing.assert_array_equal(shuffled[0].member_model, shuffled[1].member_model)


def test_fit_agrees_on_both_paths():
    ev = evidence_from_matrix(_values(8, 3000, 15, decimals=1, missing=0.5))
    with on_numpy():
        a = fit(ev, "plackett-luce", ci="fisher")
    b = fit(ev, "plackett-luce", ci="fisher")
    np.testing.assert_allclose([m.score for m in a.models], [m.score for m in b.models], atol=1e-9)
    np.testing.assert_allclose([m.ci_high for m in a.models], [m.ci_high for m in b.models], atol=1e-8)
    assert a.order() == b.order()
    assert [(m.n_samples, m.n_comparisons) for m in a.models] == [(m.n_samples, m.n_comparisons) for m in b.models]


def test_membership_counts_match_bincount():
    ev = evidence_from_matrix(_values(7, 300, 10, decimals=1, missing=0.6))
    sizes = ev.sizes()
    n_in, n_co = kernels.membership_counts(ev.offsets, ev.member_model, ev.n_models)
    np.testing.assert_array_equal(n_in, np.bincount(ev.member_model, minlength=10))
    np.testing.assert_array_equal(n_co, np.bincount(ev.member_model, weights=np.repeat(sizes - 1, sizes),
                                                    minlength=10).astype(np.int64))


def test_far_apart_strengths_fit_exactly_and_only_extreme_ones_switch_to_the_kernel_pass(monkeypatch):
    """A model that always wins and one that always loses drive the strengths ~24 log-units
    apart (the prior stops them) or ~40 (no prior). The numpy passes sum inside each ballot, so
    at ~24 they lose nothing (the fit equals the all-compiled fit); beyond 30 log-units the
    evaluations run compiled, and the fit stays finite without a prior. Ordinary spreads never
    load the kernels."""
    values = _values(11, 3000, 8, decimals=None, missing=0.0)
    values[:, 0] += 100
    values[:, 7] -= 100
    ev = evidence_from_matrix(values)
    calls = []
    real = compiled.call
    monkeypatch.setattr(compiled, "call", lambda name, *a: calls.append(name) or real(name, *a))
    with on_numpy():
        switched = fit(ev, "plackett-luce", ci="none")
        assert 20 < np.ptp([m.score for m in switched.models]) < 30
        free = fit(ev, "plackett-luce", ci="none", alpha=0.0)
        assert "pl_pass" in calls
        calls.clear()
        fit(evidence_from_matrix(_values(12, 3000, 8, decimals=None)), "plackett-luce", ci="none")
        assert calls == []
    kernel = fit(ev, "plackett-luce", ci="none")
    np.testing.assert_allclose([m.score for m in switched.models], [kernel.by_model()[m.model].score
                                                                    for m in switched.models], atol=1e-7)
    assert np.ptp([m.score for m in free.models]) > 30 and all(np.isfinite(m.score) for m in free.models)


@pytest.mark.parametrize("direction", ["both", "forward"])
@pytest.mark.parametrize("decimals", [None, 1, 0])
def test_diagonal_information_matches_the_numpy_path(direction, decimals):
    """`PLFit.diagonal_terms` (diagonal of H and of J, behind ci="fisher-diagonal") in one
    compiled pass equals the numpy computation."""
    from samplebench.aggregators.plackett_luce import fit_pl

    ev = evidence_from_matrix(_values(13, 2000, 9, decimals=decimals))
    f = fit_pl(ev, direction=direction)
    H, J = f.diagonal_terms()
    with on_numpy():
        H_np, J_np = fit_pl(ev, direction=direction).diagonal_terms()
    np.testing.assert_allclose(H, H_np, rtol=1e-9)
    np.testing.assert_allclose(J, J_np, rtol=1e-9)


def test_compiling_the_kernels_is_announced_once_on_stderr(tmp_path):
    """With an empty numba cache the first kernel call says so on stderr, once; a later process
    that finds the compiled copy on disk says nothing."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    code = ("import numpy as np\nfrom samplebench.aggregators import compiled\n"
            "for _ in range(2):\n"
            "    compiled.call('membership_counts', np.array([0, 2, 3]), np.array([0, 1, 1], np.int32), 2)\n")
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "numba"),
           "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    first = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600)
    assert first.returncode == 0, first.stderr
    assert first.stderr.count("compiling kernels, once per install, ~20 s") == 1
    second = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600)
    assert second.returncode == 0 and "compiling kernels" not in second.stderr
