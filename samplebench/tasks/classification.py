"""`classification`: logistic regression on embeddings, scored per test sample.

Protocol (the same as MTEB's `AbsTaskClassification`): for each of `n_experiments` experiments,
`samples_per_label` training rows per label are drawn (a list of row indices is shuffled with
`numpy.random.RandomState(seed)` — cumulatively across experiments — and the first rows of each
label are kept), a `LogisticRegression(max_iter, random_state=seed)` is fitted on their embeddings
and every test row is predicted.

Per-sample metric `accuracy` = fraction of the experiments that label the sample correctly, so
its mean over the test set equals MTEB's main score (accuracy averaged over experiments).
Task-level scores: `accuracy`, `f1` (macro, averaged over experiments).

Training texts the model fails to embed are left out of the experiments' training sets and
counted in `input_errors` (the runner reports them and exits 1): the accuracies are then those of
classifiers trained without them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._data import load_split, require_columns, row_ids
from ._embed import embed, few_threads
from .base import Evaluator, SampleResult, register_evaluator


@dataclass
class ClassificationData:
    train_texts: list[str]
    train_labels: list[Any]
    texts: list[str]
    labels: list[Any]
    ids: list[str]


def undersample(labels: Sequence[Any], n_per_label: int, seed: int, idxs: list[int] | None) -> tuple[list[int], list[int]]:
    """One experiment's training rows: shuffle `idxs` in place with RandomState(seed), keep n per label."""
    if idxs is None:
        idxs = list(range(len(labels)))
    np.random.RandomState(seed).shuffle(idxs)
    counter: Counter = Counter()
    chosen = []
    for i in idxs:
        if counter[labels[i]] < n_per_label:
            chosen.append(i)
            counter[labels[i]] += 1
    return idxs, chosen


@register_evaluator
class ClassificationEvaluator(Evaluator):
    type = "classification"
    known_metrics = ("accuracy",)
    options_defaults = {"train_split": "train", "eval_split": "test", "n_experiments": 10,
                        "samples_per_label": 8, "seed": 42, "max_iter": 100}

    def load(self) -> ClassificationData:
        train = load_split(self.spec, self.option("train_split"))
        test = load_split(self.spec, self.option("eval_split"))
        cols = require_columns(self.spec, train, ["text", "label"], " (train split)")
        require_columns(self.spec, test, ["text", "label"], " (eval split)")
        return ClassificationData(
            train_texts=list(train[cols["text"]]), train_labels=list(train[cols["label"]]),
            texts=list(test[cols["text"]]), labels=list(test[cols["label"]]), ids=row_ids(self.spec, test),
        )

    def sample_ids(self, data: ClassificationData) -> list[str]:
        return data.ids

    def restrict(self, data: ClassificationData, sample_ids: Sequence[str]) -> ClassificationData:
        keep = set(sample_ids)
        rows = [i for i, s in enumerate(data.ids) if s in keep]
        return ClassificationData(data.train_texts, data.train_labels, [data.texts[i] for i in rows],
                                  [data.labels[i] for i in rows], [data.ids[i] for i in rows])

    def evaluate(self, model: Any, data: ClassificationData, sample_ids: Iterable[str] | None = None) -> Iterator[SampleResult]:
        seed, n_exp = int(self.option("seed")), int(self.option("n_experiments"))
        idxs = None
        selected: list[list[int]] = []
        for _ in range(n_exp):
            idxs, chosen = undersample(data.train_labels, int(self.option("samples_per_label")), seed, idxs)
            selected.append(chosen)
        union = sorted(set().union(*selected))
        train_emb, train_err = embed(model, [data.train_texts[i] for i in union], batch_size=self.batch_size)
        failed = [e for e in train_err if e is not None]
        self.input_errors = {"training texts": (len(failed), failed[0])} if failed else {}
        pos = {orig: k for k, orig in enumerate(union)}
        test_emb, test_err = embed(model, data.texts, batch_size=self.batch_size)
        ok = np.array([e is None for e in test_err])
        y_test = np.asarray(data.labels, dtype=object)
        correct = np.zeros(len(data.texts))
        preds: list[list[Any]] = [[] for _ in data.texts]
        accs, f1s = [], []
        with few_threads():
            self._fit_all(data, selected, train_emb, train_err, pos, test_emb, ok, y_test, correct, preds, accs, f1s)
        n_done = len(accs)
        self.task_scores = {"accuracy": float(np.mean(accs)), "f1": float(np.mean(f1s))} if n_done else {}
        wanted = None if sample_ids is None else set(sample_ids)
        for i, sid in enumerate(data.ids):
            if wanted is not None and sid not in wanted:
                continue
            if not ok[i] or n_done == 0:
                err = test_err[i] or train_err[0] or "no usable training embeddings"
                yield SampleResult(sid, "accuracy", None, error=err)
                continue
            pred = Counter(preds[i]).most_common(1)[0][0]
            yield SampleResult(sid, "accuracy", float(correct[i] / n_done), prediction=str(pred))

    def _fit_all(self, data, selected, train_emb, train_err, pos, test_emb, ok, y_test, correct, preds, accs, f1s) -> None:
        from sklearn.linear_model import LogisticRegression
        from sklearn.metrics import f1_score

        seed = int(self.option("seed"))
        for chosen in selected:
            usable = [i for i in chosen if train_err[pos[i]] is None]
            if not usable or not ok.any():
                continue
            clf = LogisticRegression(max_iter=int(self.option("max_iter")), random_state=seed)
            clf.fit(train_emb[[pos[i] for i in usable]], [data.train_labels[i] for i in usable])
            y_pred = np.asarray(clf.predict(test_emb[ok]), dtype=object)
            hit = (y_pred == y_test[ok]).astype(float)
            correct[ok] += hit
            for k, i in enumerate(np.flatnonzero(ok)):
                preds[i].append(y_pred[k])
            accs.append(float(hit.mean()))
            f1s.append(float(f1_score(list(y_test[ok]), list(y_pred), average="macro")))

    def main_score(self, results: Sequence[SampleResult]) -> float:
        """Mean per-sample accuracy = accuracy averaged over experiments (MTEB's main score)."""
        return super().main_score(results)
