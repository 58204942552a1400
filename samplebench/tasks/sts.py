"""`sts`: semantic textual similarity — cosine of the two embeddings against a graded gold score.

Task level (MTEB's main score): `cosine_spearman` = Spearman correlation between the cosine
similarities and the gold scores (also `cosine_pearson`).

Spearman is a corpus-level statistic, so the per-sample measurement is the quantity it is built
from: `rank_error` = |rank(cos_i) - rank(gold_i)| / (n - 1), with average ranks for ties. Without
ties Spearman = 1 - 6 * sum(d_i^2) / (n (n^2 - 1)), so lower rank errors mean a higher
correlation, and each pair's share of the disagreement is visible (lower is better, in [0, 1]).
The cosine is kept in the `prediction` column.

Option `mode: summarization` evaluates SummEval-style data (MTEB `Summarization`): `text1` holds a
list of machine summaries, `text2` a list of human summaries, `score` a list of human relevance
scores; each machine summary is scored by its highest cosine to any human summary, and the
per-document Spearman with the human scores is averaged (`cosine_spearman`; as MTEB, documents
whose human, cosine or dot-product scores are constant are skipped and get an error row).
Per-sample (one document): `spearman`, the document's correlation.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._data import load_split, require_columns, row_ids
from ._embed import cosine_matrix, embed
from .base import Evaluator, SampleResult, register_evaluator


@dataclass
class PairData:
    text1: list[Any]
    text2: list[Any]
    gold: list[Any]
    ids: list[str]

    def take(self, rows: list[int]) -> PairData:
        return PairData([self.text1[i] for i in rows], [self.text2[i] for i in rows],
                        [self.gold[i] for i in rows], [self.ids[i] for i in rows])


def load_pairs(ev: Evaluator, label_role: str) -> PairData:
    split = load_split(ev.spec, ev.option("eval_split"))
    cols = require_columns(ev.spec, split, ["text1", "text2", label_role])
    return PairData(list(split[cols["text1"]]), list(split[cols["text2"]]), list(split[cols[label_role]]),
                    row_ids(ev.spec, split))


def restrict_pairs(data: PairData, sample_ids: Sequence[str]) -> PairData:
    keep = set(sample_ids)
    return data.take([i for i, s in enumerate(data.ids) if s in keep])


@register_evaluator
class STSEvaluator(Evaluator):
    type = "sts"
    known_metrics = ("rank_error", "spearman")
    options_defaults = {"eval_split": "test", "mode": "pairs", "min_score": None, "max_score": None}

    def load(self) -> PairData:
        return load_pairs(self, "score")

    def sample_ids(self, data: PairData) -> list[str]:
        return data.ids

    def restrict(self, data: PairData, sample_ids: Sequence[str]) -> PairData:
        return restrict_pairs(data, sample_ids)

    def evaluate(self, model: Any, data: PairData, sample_ids: Iterable[str] | None = None) -> Iterator[SampleResult]:
        if self.option("mode") == "summarization":
            yield from self._summarization(model, data, sample_ids)
            return
        from scipy.stats import pearsonr, rankdata, spearmanr

        e1, err1 = embed(model, data.text1, batch_size=self.batch_size)
        e2, err2 = embed(model, data.text2, batch_size=self.batch_size)
        errors = [a or b for a, b in zip(err1, err2, strict=True)]
        ok = np.array([e is None for e in errors])
        gold = np.asarray(data.gold, dtype=np.float64)
        cos = np.full(len(data.ids), np.nan)
        from sklearn.metrics.pairwise import paired_cosine_distances

        if ok.any():
            cos[ok] = 1 - paired_cosine_distances(e1[ok], e2[ok])  # embeddings' precision, as MTEB
        rank_err = np.full(len(data.ids), np.nan)
        n = int(ok.sum())
        if n >= 2:
            rank_err[ok] = np.abs(rankdata(cos[ok]) - rankdata(gold[ok])) / (n - 1)
            self.task_scores = {"cosine_spearman": float(spearmanr(gold[ok], cos[ok]).statistic),
                                "cosine_pearson": float(pearsonr(gold[ok], cos[ok]).statistic)}
        else:
            self.task_scores = {}
        wanted = None if sample_ids is None else set(sample_ids)
        for i, sid in enumerate(data.ids):
            if wanted is not None and sid not in wanted:
                continue
            if "rank_error" not in self.metric_names:
                continue
            if not ok[i] or n < 2:
                yield SampleResult(sid, "rank_error", None, error=errors[i] or "fewer than two scorable pairs")
            else:
                yield SampleResult(sid, "rank_error", float(rank_err[i]), prediction=f"{cos[i]:.6f}")

    def _summarization(self, model: Any, data: PairData, sample_ids: Iterable[str] | None) -> Iterator[SampleResult]:
        from scipy.stats import spearmanr

        flat1 = [t for ts in data.text1 for t in ts]
        flat2 = [t for ts in data.text2 for t in ts]
        e1, err1 = embed(model, flat1, batch_size=self.batch_size)
        e2, err2 = embed(model, flat2, batch_size=self.batch_size)
        lo, hi = self.option("min_score"), self.option("max_score")
        per_doc: list[float | None] = []
        errors: list[str | None] = []
        a = b = 0
        for machine, human, gold in zip(data.text1, data.text2, data.gold, strict=True):
            sl1, sl2 = slice(a, a + len(machine)), slice(b, b + len(human))
            a, b = a + len(machine), b + len(human)
            err = next((e for e in [*err1[sl1], *err2[sl2]] if e), None)
            g = np.asarray(gold, dtype=np.float64)
            if lo is not None and hi is not None:
                g = (g - lo) / (hi - lo)
            if err is not None:
                per_doc.append(None)
                errors.append(err)
                continue
            pred = cosine_matrix(e1[sl1].astype(np.float64), e2[sl2].astype(np.float64)).max(axis=1)
            dot = (e1[sl1].astype(np.float64) @ e2[sl2].astype(np.float64).T).max(axis=1)
            if len(set(g.tolist())) == 1 or len(set(pred.tolist())) == 1 or len(set(dot.tolist())) == 1:
                per_doc.append(None)
                errors.append("constant scores: Spearman undefined")
                continue
            per_doc.append(float(spearmanr(g, pred).statistic))
            errors.append(None)
        vals = [v for v in per_doc if v is not None]
        self.task_scores = {"cosine_spearman": float(np.mean(vals))} if vals else {}
        wanted = None if sample_ids is None else set(sample_ids)
        for sid, v, err in zip(data.ids, per_doc, errors, strict=True):
            if (wanted is None or sid in wanted) and "spearman" in self.metric_names:
                yield SampleResult(sid, "spearman", v, error=err)
