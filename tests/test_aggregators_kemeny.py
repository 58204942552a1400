"""Kemeny-Young with co-optimal orders: winner sets equal pref_voting's `kemeny_young` (every
candidate that leads some optimal order), on random profiles with ties and truncated ballots, on
the PrefLib file and on a profile with exactly two optimal orders; all-tied data ties everyone."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from test_aggregators_reference import _profile_evidence, _pv_profile, _read_soc, _winners

from samplebench.aggregators import evidence_from_matrix, fit
from samplebench.aggregators.pairs import pair_counts
from samplebench.aggregators.social_choice import brute_force_kemeny, kemeny, kemeny_agreement


def _profiles(k: int, seed: int):
    """Small electorates (3-15 voters, one ballot each) over 3-8 candidates, ballots coarsened to
    few levels (ties) and truncated (candidates left out): co-optimal orders are common."""
    rng = np.random.default_rng(seed)
    for _ in range(k):
        n = int(rng.integers(3, 9))
        util = rng.normal(size=n)
        ballots = []
        for _ in range(int(rng.integers(3, 16))):
            u = np.round(util + rng.normal(scale=1.5, size=n))
            keep = np.flatnonzero(rng.random(n) < 0.75)
            if keep.size < 2:
                keep = rng.choice(n, 2, replace=False)
            levels = sorted(set(u[keep].tolist()), reverse=True)
            ballots.append([[int(c) for c in keep if u[c] == lv] for lv in levels])
        yield ballots, [1] * len(ballots), n


def _all_optimal_orders(above: np.ndarray) -> list[tuple[int, ...]]:
    best = brute_force_kemeny(above)
    return [p for p in itertools.permutations(range(above.shape[0])) if kemeny_agreement(above, list(p)) == best]


def test_kemeny_winners_equal_pref_voting_on_200_random_profiles():
    pytest.importorskip("pref_voting")
    from pref_voting.other_methods import kemeny_young

    several = 0
    for ballots, counts, n in _profiles(200, seed=17):
        ev = _profile_evidence(ballots, counts, n)
        r = fit(ev, "kemeny")
        assert _winners(r) == sorted(kemeny_young(_pv_profile(ballots, counts, n)))
        several += (r.diagnostics.kemeny_optimal_orders or 0) > 1
    assert several >= 50  # the profiles do exercise co-optimal orders


def test_kemeny_optimal_order_count_and_positions_match_brute_force():
    for ballots, counts, n in _profiles(40, seed=3):
        ev = _profile_evidence(ballots, counts, n)
        present = ev.samples_per_model() > 0
        idx = np.flatnonzero(present)
        above = pair_counts(ev)[0][np.ix_(idx, idx)]
        res = kemeny(above)
        orders = _all_optimal_orders(above)
        assert res.optimal_orders == len(orders)
        best_pos = [min(o.index(c) for o in orders) for c in range(idx.size)]
        assert res.position.tolist() == best_pos


def test_kemeny_two_optimal_orders_tie_their_leaders():
    """30 strict ballots over c0..c3 whose optimal orders are (c1, c3, c2, c0) and (c3, c1, c2, c0)."""
    pytest.importorskip("pref_voting")
    from pref_voting.other_methods import kemeny_young

    ballots = [[[1], [3], [2], [0]]] * 10 + [[[3], [1], [2], [0]]] * 10 + [[[2], [0], [1], [3]]] * 5 \
        + [[[2], [0], [3], [1]]] * 5
    counts = [1] * 30
    ev = _profile_evidence(ballots, counts, 4)
    above = pair_counts(ev)[0]
    assert sorted(_all_optimal_orders(above)) == [(1, 3, 2, 0), (3, 1, 2, 0)]
    r = fit(ev, "kemeny")
    assert _winners(r) == sorted(kemeny_young(_pv_profile(ballots, counts, 4))) == [1, 3]
    assert r.diagnostics.kemeny_optimal_orders == 2
    assert {m.model: m.rank for m in r.models} == {"1": 1, "3": 1, "2": 3, "0": 4}


def test_kemeny_winners_equal_pref_voting_on_preflib(shared_data):
    pytest.importorskip("pref_voting")
    from pref_voting.other_methods import kemeny_young

    for f in sorted((shared_data / "preflib").glob("*.soc")):
        ballots, counts, n = _read_soc(f)
        r = fit(_profile_evidence(ballots, counts, n), "kemeny")
        assert _winners(r) == sorted(kemeny_young(_pv_profile(ballots, counts, n)))


@pytest.mark.parametrize("method", ["kemeny", "plackett-luce", "bradley-terry", "borda", "copeland", "schulze"])
def test_all_tied_data_gives_one_shared_rank(method):
    """Four models with 1.0 on every sample: no order is preferred, so all share rank 1 (PL used
    to crash with an IndexError, Kemeny to return a strict order and claim a proven optimum)."""
    r = fit(evidence_from_matrix(np.ones((10, 4))), method)
    assert [m.rank for m in r.models] == [1, 1, 1, 1]
    if method == "kemeny":
        assert r.diagnostics.kemeny_optimal_orders == 24


def test_kemeny_beyond_the_exhaustive_limit_ties_zero_margin_neighbours():
    """17 candidates (integer programme): two candidates nobody separates share a position."""
    rng = np.random.default_rng(0)
    values = np.tile(np.arange(17, dtype=float), (9, 1)) + rng.normal(scale=0.1, size=(9, 17))
    values[:, 5] = values[:, 6]  # c5 and c6 always tied
    r = fit(evidence_from_matrix(values), "kemeny")
    assert r.diagnostics.kemeny_solver == "milp" and r.diagnostics.kemeny_exact
    bm = r.by_model()
    assert bm["m005"].rank == bm["m006"].rank
    assert len({m.rank for m in r.models}) == 16
