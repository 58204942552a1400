"""Aggregators against reference implementations: mteb's leaderboard Borda, pref_voting, brute-force
Kemeny, a row-level logistic regression for the arena fit, and choix."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from samplebench.aggregators import evidence_from_matrix, fit
from samplebench.aggregators.evidence import EvidenceBuilder
from samplebench.aggregators.pairs import pair_counts
from samplebench.aggregators.social_choice import brute_force_kemeny, kemeny


# -- MTEB ----------------------------------------------------------------------------------------
def test_borda_mteb_equals_mteb_leaderboard_borda(shared_data):
    pl = pytest.importorskip("polars")
    pytest.importorskip("mteb")
    import pyarrow as pa
    from mteb.benchmarks._create_table import _borda_rank_from_long

    df = pl.read_csv(shared_data / "mteb" / "eng_v2_main_scores.csv")
    b = EvidenceBuilder()
    b.add_table(pa.table({"model": df["model"].to_list(), "task": df["task"].to_list(),
                          "sample_id": ["main"] * df.height, "metric": ["main_score"] * df.height,
                          "value": df["main_score"].to_list()}))
    ranking = fit(b.build(), "borda-mteb")
    n_scored = df.group_by("model").agg(pl.col("main_score").is_not_null().any().alias("ok"))["ok"].sum()
    assert len(ranking.models) == n_scored == 324  # the 82 all-null models are not ranked (as in MTEB)
    ref = _borda_rank_from_long(df.rename({"task": "task_name", "model": "model_name", "main_score": "score"}),
                                n_models=n_scored)
    ref_rank = dict(zip(ref["model_name"].to_list(), ref["Rank (Borda)"].to_list(), strict=True))
    ours = {m.model: m.rank for m in ranking.models}
    assert ours == {m: ref_rank[m] for m in ours}


# -- pref_voting ---------------------------------------------------------------------------------
def _profile_evidence(ballots: list[list[list[int]]], counts: list[int], n: int):
    """Ballots as lists of tie groups, best first (a candidate left out is not ranked)."""
    b = EvidenceBuilder([str(i) for i in range(n)])
    s, cands, vals, samples = 0, [], [], []
    for ballot, c in zip(ballots, counts, strict=True):
        for _ in range(c):
            for level, group in enumerate(ballot):
                cands += group
                vals += [-float(level)] * len(group)
                samples += [s] * len(group)
            s += 1
    b.add_ballots(np.asarray(samples), np.asarray(cands), np.asarray(vals))
    return b.build()


def _read_soc(path):
    ballots, counts, n = [], [], 0
    for line in path.read_text().splitlines():
        if line.startswith("# NUMBER ALTERNATIVES:"):
            n = int(line.split(":")[1])
        elif line and not line.startswith("#"):
            c, order = line.split(":")
            counts.append(int(c))
            ballots.append([[int(x) - 1] for x in order.split(",")])
    return ballots, counts, n


def _pv_profile(ballots, counts, n):
    from pref_voting.profiles_with_ties import ProfileWithTies

    rankings = [{c: level for level, group in enumerate(b) for c in group} for b in ballots]
    ranked = sorted({c for r in rankings for c in r})  # a candidate nobody ranked is not in our evidence
    return ProfileWithTies(rankings, rcounts=counts, candidates=ranked)


def _winners(r):
    top = min(m.rank for m in r.models)
    return sorted(int(m.model) for m in r.models if m.rank == top)


def _random_profiles(k: int = 25, *, ties: bool = False, seed: int = 11):
    """Correlated voters (noisy copies of one utility); with `ties`, coarsened and truncated ballots."""
    rng = np.random.default_rng(seed)
    for _ in range(k):
        n = int(rng.integers(3, 7))
        util = rng.normal(size=n)
        ballots = []
        for _ in range(int(rng.integers(2, 9))):
            u = util + rng.normal(scale=1.5, size=n)
            if ties:
                u = np.round(u)
                keep = np.flatnonzero(rng.random(n) < 0.8)
                if keep.size < 2:
                    keep = np.arange(n)
            else:
                keep = np.arange(n)
            levels = sorted(set(u[keep].tolist()), reverse=True)
            ballots.append([[int(c) for c in keep if u[c] == lv] for lv in levels])
        counts = [int(c) for c in rng.integers(1, 6, len(ballots))]
        yield ballots, counts, n


def _check_margin_rules(ballots, counts, n):
    from pref_voting.c1_methods import copeland
    from pref_voting.margin_based_methods import beat_path, ranked_pairs

    prof = _pv_profile(ballots, counts, n)
    ev = _profile_evidence(ballots, counts, n)
    assert _winners(fit(ev, "copeland")) == sorted(copeland(prof))
    assert _winners(fit(ev, "schulze")) == sorted(beat_path(prof))
    ours_rp = _winners(fit(ev, "ranked-pairs"))
    assert set(ours_rp) <= set(ranked_pairs(prof))  # pref_voting: winners under any tie-breaking
    above, _ = pair_counts(ev)
    margins = (above - above.T)[np.triu_indices(n, 1)]
    if len(set(np.abs(margins).tolist())) == np.count_nonzero(margins) == n * (n - 1) // 2:
        assert ours_rp == sorted(ranked_pairs(prof))  # no equal or zero margins: one winner


def _check_strict_rules(ballots, counts, n):
    from pref_voting.other_methods import kemeny_young
    from pref_voting.scoring_methods import borda_for_profile_with_ties

    prof = _pv_profile(ballots, counts, n)
    ev = _profile_evidence(ballots, counts, n)
    assert _winners(fit(ev, "borda")) == sorted(borda_for_profile_with_ties(prof))
    r = fit(ev, "kemeny")
    assert set(_winners(r)) <= set(kemeny_young(prof))
    above, _ = pair_counts(ev)
    assert r.diagnostics.kemeny_agreement == pytest.approx(brute_force_kemeny(above))
    # classical Borda points: n - 1 - position, summed over voters
    pts = np.zeros(n)
    for b, c in zip(ballots, counts, strict=True):
        for pos, group in enumerate(b):
            pts[group[0]] += c * (n - 1 - pos)
    np.testing.assert_allclose([r2.score for r2 in sorted(fit(ev, "borda").models, key=lambda m: int(m.model))], pts)


def test_rules_agree_with_pref_voting_on_preflib(shared_data):
    pytest.importorskip("pref_voting")
    files = sorted((shared_data / "preflib").glob("*.soc"))
    assert files, "no PrefLib .soc file"
    for f in files:
        prof = _read_soc(f)
        _check_margin_rules(*prof)
        _check_strict_rules(*prof)


def test_rules_agree_with_pref_voting_on_random_profiles():
    pytest.importorskip("pref_voting")
    for prof in _random_profiles():
        _check_margin_rules(*prof)
        _check_strict_rules(*prof)


def test_margin_rules_agree_with_pref_voting_with_ties_and_truncation():
    pytest.importorskip("pref_voting")
    for prof in _random_profiles(40, ties=True, seed=5):
        _check_margin_rules(*prof)


def test_kemeny_brute_force_random_matrices_and_heuristic_bound():
    rng = np.random.default_rng(4)
    for n in range(2, 8):
        above = rng.integers(0, 10, (n, n)).astype(float)
        np.fill_diagonal(above, 0)
        assert kemeny(above).agreement == pytest.approx(brute_force_kemeny(above))
    above = rng.integers(0, 10, (7, 7)).astype(float)
    np.fill_diagonal(above, 0)
    heur = kemeny(above, exact_limit=0)
    assert not heur.exact and heur.agreement <= brute_force_kemeny(above) <= heur.upper_bound


def test_kemeny_20_candidates_proves_optimum():
    rng = np.random.default_rng(0)
    util = rng.normal(size=20)
    ballots = [[[int(c)] for c in np.argsort(-(util + rng.normal(scale=2.0, size=20)))] for _ in range(50)]
    ev = _profile_evidence(ballots, [1] * 50, 20)
    r = fit(ev, "kemeny")
    assert r.diagnostics.kemeny_exact is True
    assert r.diagnostics.kemeny_agreement == r.diagnostics.kemeny_upper_bound


# -- arena BT vs logistic regression ------------------------------------------------------------
def _battles(seed=0, n_models=8, n=3000):
    rng = np.random.default_rng(seed)
    elo = rng.normal(1000, 120, n_models)
    a = rng.integers(0, n_models, n)
    b = (a + rng.integers(1, n_models, n)) % n_models
    p = 1 / (1 + 10 ** ((elo[b] - elo[a]) / 400))
    u = rng.random(n)
    outcome = np.where(u < 0.1, 0.5, np.where(rng.random(n) < p, 1.0, 0.0))
    return a, b, outcome, n_models


def _logistic_regression_ratings(a, b, outcome, n_models):
    """A straightforward row-level fit: one row per battle (a tie = two half-weight rows), design
    x[a] = +ln 10, x[b] = -ln 10, no intercept; Newton-IRLS with the last coefficient fixed to 0,
    then the sum-zero gauge, rating = 400 * coef + 1000 (Chatbot Arena's compute_mle_elo)."""
    rows_a = np.r_[a, a[outcome == 0.5]]
    rows_b = np.r_[b, b[outcome == 0.5]]
    y = np.r_[np.where(outcome == 0.5, 1.0, outcome), np.zeros((outcome == 0.5).sum())]
    w = np.r_[np.where(outcome == 0.5, 0.5, 1.0), np.full((outcome == 0.5).sum(), 0.5)]
    X = np.zeros((rows_a.size, n_models))
    X[np.arange(rows_a.size), rows_a] = np.log(10)
    X[np.arange(rows_a.size), rows_b] = -np.log(10)
    X = X[:, :-1]
    beta = np.zeros(n_models - 1)
    for _ in range(100):
        p = 1 / (1 + np.exp(-X @ beta))
        grad = X.T @ (w * (y - p))
        H = X.T @ (X * (w * p * (1 - p))[:, None])
        step = np.linalg.solve(H, grad)
        beta += step
        if np.abs(step).max() < 1e-14:
            break
    coef = np.r_[beta, 0.0]
    return 400 * (coef - coef.mean()) + 1000


def test_arena_bt_matches_logistic_regression_within_1e_6():
    a, b, o, n = _battles()
    ev = EvidenceBuilder([f"m{i}" for i in range(n)])
    ev.add_pairs(a, b, o)
    r = fit(ev.build(), "bradley-terry", arena=True)
    ours = np.array([r.by_model()[f"m{i}"].score for i in range(n)])
    ref = _logistic_regression_ratings(a, b, o, n)
    assert np.abs(ours - ref).max() < 1e-6
    assert r.score_scale.startswith("arena")
    assert all(m.ci_low < m.score < m.ci_high for m in r.models)


def test_arena_bt_close_to_sklearn():
    sklearn = pytest.importorskip("sklearn.linear_model")
    a, b, o, n = _battles(seed=1)
    rows_a = np.r_[a, a[o == 0.5]]
    rows_b = np.r_[b, b[o == 0.5]]
    y = np.r_[np.where(o == 0.5, 1.0, o), np.zeros((o == 0.5).sum())]
    X = np.zeros((rows_a.size, n))
    X[np.arange(rows_a.size), rows_a] = np.log(10)
    X[np.arange(rows_a.size), rows_b] = -np.log(10)
    w = np.r_[np.where(o == 0.5, 0.5, 1.0), np.full((o == 0.5).sum(), 0.5)]  # a tie = half a win each way
    lr = sklearn.LogisticRegression(fit_intercept=False, C=np.inf, tol=1e-10, max_iter=10_000)
    lr.fit(X, y, sample_weight=w)
    ref = 400 * lr.coef_[0] + 1000
    ev = EvidenceBuilder([f"m{i}" for i in range(n)])
    ev.add_pairs(a, b, o)
    ours = np.array([fit(ev.build(), "bradley-terry", arena=True).by_model()[f"m{i}"].score for i in range(n)])
    assert np.abs(ours - ref).max() < 1e-3


def test_elo_recovers_order_and_is_seeded():
    a, b, o, n = _battles(seed=2, n=6000)
    ev = EvidenceBuilder([f"m{i}" for i in range(n)])
    ev.add_pairs(a, b, o)
    e = ev.build()
    r1, r2 = fit(e, "elo", seed=3), fit(e, "elo", seed=3)
    assert r1.model_dump() == r2.model_dump()
    bt = fit(e, "bradley-terry", arena=True)
    from samplebench.aggregators import kendall_tau

    assert kendall_tau(r1, bt) > 0.7


def test_bt_rank_broken_equals_choix_pairwise():
    import choix

    rng = np.random.default_rng(9)
    values = rng.normal(size=(200, 6)) + np.arange(6) * 0.4
    values[rng.random(values.shape) < 0.3] = np.nan
    ev = evidence_from_matrix(values)
    r = fit(ev, "bradley-terry", alpha=0.0, ci="none")
    above, _ = pair_counts(ev)
    ref = choix.ilsr_pairwise_dense(above, alpha=0.0, tol=1e-12)
    np.testing.assert_allclose([r.by_model()[f"m{i:03d}"].score for i in range(6)], ref - ref.mean(), atol=1e-6)


def test_pair_counts_match_a_loop():
    rng = np.random.default_rng(2)
    values = rng.integers(0, 3, (30, 5)).astype(float)
    values[rng.random(values.shape) < 0.3] = np.nan
    above, tied = pair_counts(evidence_from_matrix(values))
    ref_above = np.zeros((5, 5))
    ref_tied = np.zeros((5, 5))
    for row in values:
        for i, j in itertools.permutations(range(5), 2):
            if np.isnan(row[i]) or np.isnan(row[j]):
                continue
            ref_above[i, j] += row[i] > row[j]
            ref_tied[i, j] += row[i] == row[j]
    np.testing.assert_array_equal(above, ref_above)
    np.testing.assert_array_equal(tied, ref_tied)
