"""Vendi score family, quality-weighted Vendi and GRADE entropy against the reference values.

The reference values in ../shared/data/reference were computed with `vendi-score` 0.0.3 on the
inputs rebuilt below (their key names describe them; the CUBE-style case follows the similarity
of google-deepmind/cube's cultural_diversity notebook: 1 for the same continent, else 0).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import samplebench
from samplebench import SampleBenchError, grade_entropy, quality_weighted_vendi, vendi_score
from samplebench.tasks.diversity import diversity_results, mean_grade_entropy, renyi_entropy

TOL = 1e-9
EPS = np.finfo(float).eps


@pytest.fixture
def ref(shared_data):
    return json.loads((shared_data / "reference" / "vendi_reference_values.json").read_text())


def _block_3_2() -> np.ndarray:
    K = np.zeros((5, 5))
    K[:3, :3] = 1
    K[3:, 3:] = 1
    return K


def _rand_20x8() -> np.ndarray:
    return np.random.default_rng(0).standard_normal((20, 8))


def _unit(X: np.ndarray) -> np.ndarray:
    return X / np.linalg.norm(X, axis=1, keepdims=True)


def test_exported_from_top_level():
    from samplebench.tasks import diversity

    assert samplebench.vendi_score is diversity.vendi_score
    assert samplebench.quality_weighted_vendi is diversity.quality_weighted_vendi
    assert samplebench.grade_entropy is diversity.grade_entropy


def test_kernel_reference_values(ref):
    assert abs(vendi_score(K=np.eye(5)) - ref["identity_n5_q1"]) < TOL
    assert abs(vendi_score(K=np.ones((5, 5))) - ref["ones_n5_q1"]) < TOL
    s = np.array([0, 0, 10, 10, 20, 20], dtype=float)
    assert abs(vendi_score(K=np.exp(-np.abs(s[:, None] - s[None, :]))) - ref["readme_samples_exp_abs"]) < TOL
    K3 = np.array([[1.0, 0.9, 0.0], [0.9, 1.0, 0.0], [0.0, 0.0, 1.0]])
    assert abs(vendi_score(K=K3) - ref["readme_K3"]) < TOL
    assert abs(vendi_score(K=[[1.0]]) - ref["n1_kernel"]) < TOL
    assert abs(vendi_score(K=np.ones((3, 3)) + 1e-12 * np.eye(3)) - ref["near_singular_ones_plus_1e-12I"]) < TOL
    assert abs(vendi_score(K=4 * np.eye(5)) - ref["scaled_identity_4I_n5_no_normalize"]) < TOL
    assert abs(vendi_score(K=4 * np.eye(5), normalize=True) - ref["scaled_identity_4I_n5_normalize"]) < TOL


@pytest.mark.parametrize("q", ["1", "2", "inf"])
def test_block_kernel_orders(ref, q):
    qq = math.inf if q == "inf" else float(q)
    assert abs(vendi_score(K=_block_3_2(), q=qq) - ref[f"block_3_2_q{q}"]) < TOL
    assert abs(vendi_score(K=_block_3_2(), q=q) - ref[f"block_3_2_q{q}"]) < TOL  # "inf" as text too


@pytest.mark.parametrize("q", [0.1, 0.5])
def test_small_orders_exact_where_reference_counts_roundoff(ref, q):
    """For 0 < q < 1 a round-off eigenvalue e contributes e^q, which is large for small q.

    The 3+2 block kernel has eigenvalues exactly (3/5, 2/5, 0, 0, 0), so VS_q is
    (0.6^q + 0.4^q)^(1/(1-q)). The reference package also adds its LAPACK's round-off
    eigenvalues of K/5 (about 2.5e-17 here), which moves q=0.1 by 0.026 and q=0.5 by 1.4e-8:
    we equal the exact value, and the reference lies inside the round-off envelope
    (at most 3 spurious eigenvalues of size <= 5 eps).
    """
    exact = (0.6**q + 0.4**q) ** (1 / (1 - q))
    ours = vendi_score(K=_block_3_2(), q=q)
    assert abs(ours - exact) < 1e-12
    spurious_sum = ref[f"block_3_2_q{q}"] ** (1 - q) - exact ** (1 - q)
    assert 0 <= spurious_sum <= 3 * (5 * EPS) ** q


def test_order_zero_counts_rank_not_roundoff():
    assert vendi_score(K=np.ones((5, 5)), q=0) == 1.0
    assert vendi_score(K=_block_3_2(), q=0) == 2.0
    assert vendi_score(X=np.ones((7, 3)), q=0) == 1.0
    assert vendi_score(X=_rand_20x8(), q=0, normalize=True) == 8.0  # rank 8, through the dual form
    assert vendi_score(K=np.eye(6), q=0) == 6.0


@pytest.mark.parametrize("q", ["0.5", "1", "2", "inf"])
def test_features_honour_q_and_match_kernel(ref, q):
    """Features give the kernel's value for the same q (the reference ignores q for features)."""
    X = _rand_20x8()
    from_X = vendi_score(X=X, q=q, normalize=True)  # n=20 > d=8: dual form
    from_K = vendi_score(K=_unit(X) @ _unit(X).T, q=q)
    assert abs(from_X - from_K) < TOL
    if q != "1":
        assert abs(from_X - ref[f"rand_seed0_default_rng_20x8_score_X_q{q}"]) > 1e-3  # reference: the q=1 value
    if q == "0.5":
        # K has rank 8 of 20: the reference adds ~12 round-off eigenvalues of size ~1e-17, each
        # adding ~3e-9 to sum(sqrt(lambda)); the d x d dual has no such zeros, so it is exact.
        spurious = ref["rand_seed0_default_rng_20x8_score_K_q0.5"] ** 0.5 - from_X**0.5
        assert 0 <= spurious <= 12 * math.sqrt(20 * EPS)
    else:
        assert abs(from_X - ref[f"rand_seed0_default_rng_20x8_score_K_q{q}"]) < TOL
    assert abs(vendi_score(X=X, q=1, normalize=True) - ref["rand_seed0_default_rng_20x8_score_dual_q1"]) < TOL


def test_primal_and_dual_agree():
    rng = np.random.default_rng(3)
    wide = rng.standard_normal((6, 40))  # n <= d: primal
    tall = rng.standard_normal((60, 5))  # n > d: dual
    for X in (wide, tall):
        for q in (0, 0.3, 1, 2.5, math.inf):
            Kx = _unit(X) @ _unit(X).T
            assert abs(vendi_score(X=X, q=q, normalize=True) - vendi_score(K=Kx, q=q)) < 1e-9


def test_weighted_reference(ref):
    assert abs(vendi_score(K=np.eye(4), p=[0.7, 0.1, 0.1, 0.1]) - ref["identity_n4_p_nonuniform"]) < TOL
    X = _rand_20x8()
    p = np.random.default_rng(5).dirichlet(np.ones(20))
    Kx = _unit(X) @ _unit(X).T
    assert abs(vendi_score(X=X, p=p, normalize=True) - vendi_score(K=Kx, p=p)) < 1e-9  # weighted dual form


def test_quality_weighted_reference(ref):
    X = _rand_20x8()
    val = quality_weighted_vendi(X=X, quality=np.linspace(0.5, 1.0, 20), normalize=True)
    assert abs(val - ref["rand_seed0_qVS_linspace_quality"]) < TOL
    assert abs(quality_weighted_vendi(K=np.eye(3), quality=[1, 1, 1]) - 3.0) < 1e-12
    assert abs(quality_weighted_vendi(K=np.eye(2), quality=[1.0, 0.0], p=[0.25, 0.75]) - 0.25 * vendi_score(K=np.eye(2), p=[0.25, 0.75])) < 1e-12


def test_cube_style_label_kernel(ref):
    """8 geo-tagged images, similarity 1 for the same continent (CUBE notebook); VS and VS / 8."""
    continents = ["Asia"] * 5 + ["Europe"] * 2 + ["Africa"]
    K = np.array([[1.0 if a == b else 0.0 for b in continents] for a in continents])
    vs = vendi_score(K=K)
    assert abs(vs - ref["cube_style_8labels_continent_sim_VS"]) < TOL
    assert abs(vs / 8 - ref["cube_style_8labels_continent_sim_VS_over_8"]) < TOL


def test_renyi_orders_monotone_and_bounded():
    rng = np.random.default_rng(11)
    X = rng.standard_normal((30, 10))
    vals = [vendi_score(X=X, q=q, normalize=True) for q in (0, 0.25, 0.5, 1, 2, 5, math.inf)]
    assert all(a >= b - 1e-12 for a, b in zip(vals, vals[1:], strict=False))
    assert vals[-1] >= 1 - 1e-12 and vals[0] <= 10 + 1e-12


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 12), st.integers(1, 6), st.integers(0, 2**31 - 1))
def test_property_duplicates_count_once(n, copies, seed):
    """Duplicating every item k times leaves VS unchanged; VS of n orthogonal items is n."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 16))
    a = vendi_score(X=X, normalize=True)
    b = vendi_score(X=np.repeat(X, copies, axis=0), normalize=True)
    assert abs(a - b) < 1e-8 * max(1.0, a)
    assert 1 - 1e-9 <= a <= n + 1e-9
    assert abs(vendi_score(K=np.eye(n)) - n) < 1e-9


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({}, "exactly one"),
        ({"X": np.eye(2), "K": np.eye(2)}, "exactly one"),
        ({"K": np.ones((2, 3))}, "square"),
        ({"K": [[1.0, 0.5], [0.1, 1.0]]}, "symmetric"),
        ({"K": [[1.0, 2.0], [2.0, 1.0]]}, "positive semi-definite"),
        ({"K": [[1.0, np.nan], [np.nan, 1.0]]}, "NaN"),
        ({"X": [[1.0, np.inf]]}, "NaN"),
        ({"X": np.zeros((0, 4))}, "empty"),
        ({"K": np.zeros((0, 0))}, "empty"),
        ({"K": [[1.0, 0.0], [0.0, 0.0]], "normalize": True}, "positive diagonal"),
        ({"X": [[1.0, 0.0], [0.0, 0.0]], "normalize": True}, "all zeros"),
        ({"K": np.zeros((3, 3))}, "zero"),
        ({"K": np.eye(2), "q": -1}, ">= 0"),
        ({"K": np.eye(2), "q": "lots"}, "not a number"),
        ({"K": np.eye(2), "p": [0.5, 0.6]}, "sum to 1"),
        ({"K": np.eye(2), "p": [1.0]}, "one probability per item"),
        ({"K": np.eye(2), "p": [1.5, -0.5]}, "non-negative"),
        ({"K": [1.0, 2.0]}, "2-D"),
        ({"K": [["a", "b"], ["c", "d"]]}, "numeric"),
    ],
)
def test_bad_inputs_raise_clear_errors(kwargs, needle):
    with pytest.raises(SampleBenchError, match=needle):
        vendi_score(**kwargs)


def test_quality_bad_inputs():
    with pytest.raises(SampleBenchError, match="one score per item"):
        quality_weighted_vendi(K=np.eye(3), quality=[1, 1])
    with pytest.raises(SampleBenchError, match="non-negative"):
        quality_weighted_vendi(K=np.eye(2), quality=[1, -1])
    with pytest.raises(SampleBenchError, match="NaN"):
        quality_weighted_vendi(K=np.eye(2), quality=[1, np.nan])


# ----------------------------------------------------------------------------------------- GRADE


def _grade_reference(shared_data) -> dict[str, float]:
    out = {}
    for line in (shared_data / "reference" / "grade_reference_values.txt").read_text().splitlines():
        if line.strip():
            key, val = line.rsplit(" ", 1)
            out[key] = float(val)
    return out


def test_grade_reference_values(shared_data):
    ref = _grade_reference(shared_data)
    cases = {
        "uniform_4": [5, 5, 5, 5],
        "all_one_value_of_4": {"a": 4, "b": 0, "c": 0, "d": 0},
        "5_3_2_0": [5, 3, 2, 0],
        "98pct_round_cookie_of_3": {"round": 98, "square": 1, "star": 1},
    }
    for key, counts in cases.items():
        assert abs(grade_entropy(counts) - ref[key]) < TOL, key
    assert abs(grade_entropy([4], n_values=4) - ref["all_one_value_of_4"]) < TOL
    assert abs(mean_grade_entropy(cases) - ref["mean over pairs"]) < TOL


def test_grade_bad_inputs():
    for bad, needle in [([], "empty"), ([0, 0], "all zero"), ([1, -1], "non-negative"), ([3], "at least 2")]:
        with pytest.raises(SampleBenchError, match=needle):
            grade_entropy(bad)
    with pytest.raises(SampleBenchError, match="smaller"):
        grade_entropy([1, 2, 3], n_values=2)
    with pytest.raises(SampleBenchError, match="empty"):
        mean_grade_entropy([])


def test_renyi_entropy_of_distribution():
    p = np.array([0.5, 0.25, 0.25])
    assert abs(renyi_entropy(p, 1) - (-(p * np.log(p)).sum())) < 1e-12
    assert abs(renyi_entropy(p, 2) - (-math.log((p**2).sum()))) < 1e-12
    assert abs(renyi_entropy(p, math.inf) - math.log(2)) < 1e-12


# ------------------------------------------------------------------------------ group results


def test_diversity_results_rows():
    E = np.eye(4)
    rows = diversity_results("g1", E, quality=[1, 1, 0.5, 0.5], expected=4)
    by = {r.metric: r for r in rows}
    assert by["diversity"].value == pytest.approx(4.0)
    assert by["quality_weighted_diversity"].value == pytest.approx(3.0)
    frac = diversity_results("g1", E, fraction=True)
    assert [r.metric for r in frac] == ["diversity"] and frac[0].value == pytest.approx(1.0)
    short = diversity_results("g1", E[:3], quality=[1, 1, 1], expected=4)
    assert all(r.value is None and "expected 4" in r.error for r in short)
    empty = diversity_results("g1", np.zeros((0, 3)))
    assert empty[0].error == "no outputs to measure"


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the package imports scipy.sparse.csr
def test_agrees_with_reference_package_where_it_is_right():
    """Cross-check against `vendi-score` (when installed) on random kernels at q=1, with weights."""
    vendi = pytest.importorskip("vendi_score.vendi")
    rng = np.random.default_rng(7)
    for n, d in [(5, 3), (12, 30), (40, 6)]:
        X = rng.standard_normal((n, d))
        K = _unit(X) @ _unit(X).T
        p = rng.dirichlet(np.ones(n))
        assert abs(vendi_score(K=K) - vendi.score_K(K)) < 1e-9
        assert abs(vendi_score(K=K, p=p) - vendi.score_K(K, p=p)) < 1e-9
        assert abs(vendi_score(X=X, normalize=True) - vendi.score_dual(X)) < 1e-9
        assert abs(vendi_score(K=K, q=2) - vendi.score_K(K, q=2)) < 1e-9
