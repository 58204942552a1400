"""Per-sample metric definitions of the embedding task types, checked against independent computations."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from samplebench.tasks._embed import embed
from samplebench.tasks.classification import undersample
from samplebench.tasks.clustering import bcubed
from samplebench.tasks.pair_classification import best_accuracy_threshold
from samplebench.tasks.retrieval import query_metrics, rank_ids


def test_query_metrics_by_hand():
    ranked = ["d3", "d1", "d7", "d2"]
    rels = {"d1": 2, "d2": 1, "d9": 1, "d3": 0}
    m = query_metrics(ranked, rels, ["ndcg_at_3", "recall_at_3", "mrr_at_10", "map_at_10", "precision_at_2"])
    dcg = 0 / np.log2(2) + 2 / np.log2(3) + 0 / np.log2(4)
    idcg = 2 / np.log2(2) + 1 / np.log2(3) + 1 / np.log2(4)
    assert m["ndcg_at_3"] == pytest.approx(dcg / idcg)
    assert m["recall_at_3"] == pytest.approx(1 / 3)
    assert m["mrr_at_10"] == pytest.approx(1 / 2)
    assert m["map_at_10"] == pytest.approx((1 / 2 + 2 / 4) / 3)
    assert m["precision_at_2"] == pytest.approx(1 / 2)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 3), min_size=1, max_size=30), st.integers(1, 20))
def test_ndcg_matches_sklearn(grades, k):
    from sklearn.metrics import ndcg_score

    if not any(grades):
        return
    ids = [f"d{i:03d}" for i in range(len(grades))]
    scores = np.linspace(1, 0, len(grades))  # ranked in id order, no ties
    ours = query_metrics(ids, dict(zip(ids, map(float, grades), strict=True)), [f"ndcg_at_{k}"])[f"ndcg_at_{k}"]
    if len(grades) == 1:
        assert ours == pytest.approx(1.0)
        return
    assert ours == pytest.approx(ndcg_score([grades], [scores], k=k), abs=1e-12)


def test_rank_ids_breaks_ties_by_id_descending_and_keeps_top_k():
    scores = np.array([0.5, 0.9, 0.5, 0.1, 0.5])
    ids = ["a", "b", "c", "d", "e"]
    assert rank_ids(scores, ids, 5) == ["b", "e", "c", "a", "d"]
    assert rank_ids(scores, ids, 2) == ["b", "e"]


def test_bcubed_by_hand():
    pred = np.array([0, 0, 0, 1, 1])
    gold = np.array(["x", "x", "y", "y", "y"])
    p, r, f = bcubed(pred, gold)
    np.testing.assert_allclose(p, [2 / 3, 2 / 3, 1 / 3, 1, 1])
    np.testing.assert_allclose(r, [1, 1, 1 / 3, 2 / 3, 2 / 3])
    np.testing.assert_allclose(f, 2 * p * r / (p + r))
    _, _, perfect = bcubed(np.array([5, 5, 7]), np.array(["a", "a", "b"]))
    np.testing.assert_allclose(perfect, 1.0)


def test_best_accuracy_threshold_never_splits_ties():
    scores = np.array([0.9, 0.8, 0.8, 0.1])
    labels = np.array([1, 1, 0, 0])
    acc, thr = best_accuracy_threshold(scores, labels)
    assert acc == pytest.approx(0.75) and thr == pytest.approx(0.85)
    assert ((scores > thr).astype(int) == labels).mean() == pytest.approx(acc)


def test_undersample_is_cumulative_like_mteb():
    labels = ["a"] * 10 + ["b"] * 10
    idxs, first = undersample(labels, 3, 42, None)
    idxs2, second = undersample(labels, 3, 42, list(idxs))
    assert sorted(labels[i] for i in first) == ["a"] * 3 + ["b"] * 3
    assert first != second  # the shuffle continues from the previous experiment's order


def test_embed_isolates_failing_and_nan_texts():
    class Enc:
        def encode(self, texts, *, batch_size=32):
            if "boom" in texts:
                raise RuntimeError("exploded")
            return np.array([[np.nan, 1.0] if t == "nan" else [1.0, float(len(t))] for t in texts])

    emb, err = embed(Enc(), ["ok", "boom", "nan", "ok", "fine"])
    assert err[0] is None and err[3] is None and err[4] is None
    assert "exploded" in err[1] and "non-finite" in err[2]
    np.testing.assert_array_equal(emb[0], emb[3])
    assert np.isnan(emb[1]).all()
