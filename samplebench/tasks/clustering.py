"""`clustering`: k-means on embeddings against gold labels.

Task level (MTEB's `AbsTaskClustering`, v2): with `random.Random(seed)`, optionally keep a random
`max_fraction_of_documents_to_embed` of the items, then `n_clusters` times draw
`max_documents_per_cluster` items with replacement, cluster them with
`MiniBatchKMeans(k = #labels, batch_size=k_mean_batch_size, n_init=1, random_state=seed)` and
score the V-measure; `v_measure` is the mean (per hierarchy level, then over levels).

V-measure is a property of a whole partition. The per-sample measurement is the item's B-cubed
agreement on one clustering of all items (same k-means settings, first label level):
with C(i) the predicted cluster and L(i) the gold class of item i,
precision_i = |C(i) ∩ L(i)| / |C(i)|, recall_i = |C(i) ∩ L(i)| / |L(i)|, and
`bcubed_f1` = 2 p r / (p + r) (higher is better, in [0, 1]); their mean is the B-cubed F1 of the
clustering (Amigó et al., 2009). The predicted cluster id is kept in `prediction`.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._data import load_split, require_columns, row_ids
from ._embed import embed, few_threads
from .base import Evaluator, SampleResult, register_evaluator


@dataclass
class ClusteringData:
    texts: list[str]
    labels: list[list[Any]]
    ids: list[str]


def bcubed(pred: np.ndarray, gold: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-item B-cubed precision, recall and F1 of predicted clusters `pred` against `gold`."""
    _, p_inv = np.unique(pred, return_inverse=True)
    _, g_inv = np.unique(gold, return_inverse=True)
    joint = np.zeros((p_inv.max() + 1, g_inv.max() + 1), dtype=np.int64)
    np.add.at(joint, (p_inv, g_inv), 1)
    both = joint[p_inv, g_inv].astype(np.float64)
    prec = both / joint.sum(axis=1)[p_inv]
    rec = both / joint.sum(axis=0)[g_inv]
    return prec, rec, 2 * prec * rec / (prec + rec)


def bootstrapped_v_measure(emb: np.ndarray, labels: list[list[Any]], *, n_clusters: int, cluster_size: int,
                           batch_size: int, rng: random.Random, seed: int, max_depth: int | None = None) -> float:
    from sklearn.cluster import MiniBatchKMeans
    from sklearn.metrics.cluster import v_measure_score

    depth = max(map(len, labels))
    if max_depth is not None:
        depth = min(max_depth, depth)
    scores: list[float] = []
    for level in range(depth):
        lv = np.array([lab[level] if len(lab) > level else -1 for lab in labels])
        valid = np.array([v != -1 for v in lv])
        lv, e = lv[valid], emb[valid]
        km = MiniBatchKMeans(n_clusters=np.unique(lv).size, batch_size=batch_size, init="k-means++",
                             n_init=1, random_state=seed)
        for _ in range(n_clusters):
            idx = rng.choices(range(len(e)), k=cluster_size)
            scores.append(float(v_measure_score(lv[idx], km.fit_predict(e[idx]))))
    return float(np.mean(scores))


@register_evaluator
class ClusteringEvaluator(Evaluator):
    type = "clustering"
    known_metrics = ("bcubed_f1",)
    options_defaults = {"eval_split": "test", "seed": 42, "n_clusters": 10, "max_documents_per_cluster": 16384,
                        "max_fraction_of_documents_to_embed": None, "k_mean_batch_size": 512, "max_depth": None}

    def load(self) -> ClusteringData:
        split = load_split(self.spec, self.option("eval_split"))
        c = require_columns(self.spec, split, ["text", "label"])
        labels = [v if isinstance(v, list) else [v] for v in split[c["label"]]]
        return ClusteringData(list(split[c["text"]]), labels, row_ids(self.spec, split))

    def sample_ids(self, data: ClusteringData) -> list[str]:
        return data.ids

    def restrict(self, data: ClusteringData, sample_ids: Sequence[str]) -> ClusteringData:
        keep = set(sample_ids)
        rows = [i for i, s in enumerate(data.ids) if s in keep]
        return ClusteringData([data.texts[i] for i in rows], [data.labels[i] for i in rows], [data.ids[i] for i in rows])

    def evaluate(self, model: Any, data: ClusteringData, sample_ids: Iterable[str] | None = None) -> Iterator[SampleResult]:
        emb, errors = embed(model, data.texts, batch_size=self.batch_size)
        ok = np.flatnonzero([e is None for e in errors])
        seed = int(self.option("seed"))
        self.task_scores = {}
        f1 = pred = None
        if ok.size >= 2:
            with few_threads():
                f1, pred = self._score(emb, data, ok, seed)
        where = {int(i): k for k, i in enumerate(ok)}
        wanted = None if sample_ids is None else set(sample_ids)
        for i, sid in enumerate(data.ids):
            if wanted is not None and sid not in wanted:
                continue
            k = where.get(i)
            if k is None or f1 is None:
                yield SampleResult(sid, "bcubed_f1", None, error=errors[i] or "fewer than two items to cluster")
            else:
                yield SampleResult(sid, "bcubed_f1", float(f1[k]), prediction=str(int(pred[k])))

    def _score(self, emb: np.ndarray, data: ClusteringData, ok: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
        from sklearn.cluster import MiniBatchKMeans

        rng = random.Random(seed)
        sub = ok
        frac = self.option("max_fraction_of_documents_to_embed")
        if frac is not None:
            k = min(len(ok), int(frac * len(ok)))
            sub = ok[rng.sample(range(len(ok)), k=k)]
        self.task_scores["v_measure"] = bootstrapped_v_measure(
            emb[sub], [data.labels[i] for i in sub], n_clusters=int(self.option("n_clusters")),
            cluster_size=int(self.option("max_documents_per_cluster")),
            batch_size=int(self.option("k_mean_batch_size")), rng=rng, seed=seed,
            max_depth=self.option("max_depth"),
        )
        gold = np.array([str(data.labels[i][0]) for i in ok])
        km = MiniBatchKMeans(n_clusters=np.unique(gold).size, batch_size=int(self.option("k_mean_batch_size")),
                             init="k-means++", n_init=1, random_state=seed)
        pred = km.fit_predict(emb[ok])
        _, _, f1 = bcubed(pred, gold)
        self.task_scores["bcubed_f1"] = float(f1.mean())
        return f1, pred
