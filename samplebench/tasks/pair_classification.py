"""`pair_classification`: are two texts duplicates/paraphrases? Scored from embedding similarity.

Task level (MTEB's main score): `max_ap` = the highest average precision of the gold labels
ranked by each of cosine similarity, dot product, negative Euclidean and negative Manhattan
distance (also `cosine_ap`, `cosine_accuracy`).

Average precision is a corpus-level statistic; the per-sample measurement is `correct`: whether
the pair is classified correctly at the cosine threshold that maximises accuracy over the task
(MTEB's `cosine_accuracy` threshold, never splitting tied scores). Its mean is `cosine_accuracy`.
The cosine is kept in the `prediction` column.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from ._embed import embed
from .base import Evaluator, SampleResult, register_evaluator
from .sts import PairData, load_pairs, restrict_pairs


def best_accuracy_threshold(scores: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """(accuracy, threshold) maximising accuracy of `score > threshold` as the positive class.

    Rows are sorted by score (descending); the threshold sits between two consecutive distinct
    scores, as in MTEB/sentence-transformers.
    """
    order = sorted(range(len(scores)), key=lambda i: scores[i], reverse=True)
    s, y = scores[order], labels[order]
    best_acc, best_thr = 0.0, -1.0
    pos_so_far, neg_left = 0, int((labels == 0).sum())
    for i in range(len(s) - 1):
        if y[i] == 1:
            pos_so_far += 1
        else:
            neg_left -= 1
        if s[i] == s[i + 1]:
            continue
        acc = (pos_so_far + neg_left) / len(labels)
        if acc > best_acc:
            best_acc, best_thr = acc, (s[i] + s[i + 1]) / 2
    return best_acc, best_thr


@register_evaluator
class PairClassificationEvaluator(Evaluator):
    type = "pair_classification"
    known_metrics = ("correct",)
    options_defaults = {"eval_split": "test"}

    def load(self) -> PairData:
        return load_pairs(self, "label")

    def sample_ids(self, data: PairData) -> list[str]:
        return data.ids

    def restrict(self, data: PairData, sample_ids: Sequence[str]) -> PairData:
        return restrict_pairs(data, sample_ids)

    def evaluate(self, model: Any, data: PairData, sample_ids: Iterable[str] | None = None) -> Iterator[SampleResult]:
        from sklearn.metrics import average_precision_score

        e1, err1 = embed(model, data.text1, batch_size=self.batch_size)
        e2, err2 = embed(model, data.text2, batch_size=self.batch_size)
        errors = [a or b for a, b in zip(err1, err2, strict=True)]
        ok = np.array([e is None for e in errors])
        labels = np.asarray(data.gold, dtype=np.int64)
        cos = np.full(len(data.ids), np.nan)
        correct = np.full(len(data.ids), np.nan)
        self.task_scores = {}
        if ok.sum() >= 2 and len(set(labels[ok].tolist())) == 2:
            from sklearn.metrics.pairwise import (
                paired_cosine_distances,
                paired_euclidean_distances,
                paired_manhattan_distances,
            )

            # in the embeddings' own precision, as MTEB computes them: float32 rounding decides
            # which scores tie, and ties change average precision
            a, b, y = e1[ok], e2[ok], labels[ok]
            cos[ok] = 1 - paired_cosine_distances(a, b)
            candidates = {
                "cosine": cos[ok],
                "dot": np.asarray([np.dot(a[i], b[i]) for i in range(len(a))]),
                "euclidean": -paired_euclidean_distances(a, b),
                "manhattan": -paired_manhattan_distances(a, b),
            }
            aps = {k: float(average_precision_score(y, v)) for k, v in candidates.items()}
            acc, thr = best_accuracy_threshold(cos[ok], y)
            correct[ok] = ((cos[ok] > thr).astype(np.int64) == y).astype(float)
            self.task_scores = {"max_ap": max(aps.values()), "cosine_ap": aps["cosine"], "cosine_accuracy": acc}
        wanted = None if sample_ids is None else set(sample_ids)
        for i, sid in enumerate(data.ids):
            if wanted is not None and sid not in wanted:
                continue
            if np.isnan(correct[i]):
                yield SampleResult(sid, "correct", None, error=errors[i] or "needs both labels among scorable pairs")
            else:
                yield SampleResult(sid, "correct", float(correct[i]), prediction=f"{cos[i]:.6f}")
