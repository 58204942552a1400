"""`retrieval` and `reranking`: rank documents for each query by cosine similarity; one sample per query.

Per-query metrics (the usual IR definitions, as `pytrec_eval`/MTEB compute them): documents are
ranked by score, ties broken by document id descending; `rel(d)` is the graded judgement (0 if
unjudged) and R the set of documents with rel > 0.

* `ndcg_at_k` = DCG@k / IDCG@k, DCG@k = sum_{r<=k} rel(d_r) / log2(r + 1), IDCG from the ideal order
  of the judged documents;
* `recall_at_k` = |R ∩ top k| / |R|;  `mrr_at_k` = 1 / rank of the first relevant document (0 if
  none in the top k);  `map_at_k` = sum_{r<=k, d_r in R} precision@r / |R|.

The task-level score is the mean over queries, so MTEB's main scores (`ndcg_at_10` for retrieval,
`map_at_1000` for reranking) are the means of the per-query rows.

Reranking data: one row per query with lists of `positive` and `negative` passages; only those
candidates are ranked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import SampleBenchError
from ._data import load_split, require_columns, row_ids
from ._embed import cosine_matrix, embed
from .base import Evaluator, SampleResult, register_evaluator

_METRIC = re.compile(r"^(ndcg|recall|mrr|map|precision)_at_(\d+)$")


def query_metrics(ranked: Sequence[str], rels: dict[str, float], names: Sequence[str]) -> dict[str, float]:
    """The per-query metrics in `names` for the ranked doc ids `ranked` and judgements `rels`."""
    relevant = {d for d, r in rels.items() if r > 0}
    gains = np.array([max(rels.get(d, 0.0), 0.0) for d in ranked], dtype=np.float64)
    hit = np.array([d in relevant for d in ranked], dtype=bool)
    ideal = np.sort(np.array([r for r in rels.values() if r > 0], dtype=np.float64))[::-1]
    out: dict[str, float] = {}
    for name in names:
        m = _METRIC.match(name)
        if m is None:
            raise ValueError(name)
        kind, k = m.group(1), int(m.group(2))
        g, h = gains[:k], hit[:k]
        if kind == "ndcg":
            disc = 1.0 / np.log2(np.arange(2, k + 2))
            idcg = float((ideal[:k] * disc[: min(k, ideal.size)]).sum())
            out[name] = float((g * disc[: g.size]).sum() / idcg) if idcg > 0 else 0.0
        elif kind == "recall":
            out[name] = float(h.sum() / len(relevant)) if relevant else 0.0
        elif kind == "precision":
            out[name] = float(h.sum() / k)
        elif kind == "mrr":
            first = np.flatnonzero(h)
            out[name] = float(1.0 / (first[0] + 1)) if first.size else 0.0
        else:  # map
            if not relevant:
                out[name] = 0.0
            else:
                prec = np.cumsum(h) / np.arange(1, h.size + 1)
                out[name] = float(prec[h].sum() / len(relevant))
    return out


def rank_ids(scores: np.ndarray, ids: Sequence[str], top_k: int) -> list[str]:
    """Ids ordered by score (descending), ties by id (descending), at most `top_k`."""
    n = scores.size
    if n > top_k:
        cand = np.argpartition(-scores, top_k - 1)[:top_k]
        kth = scores[cand].min()
        cand = np.flatnonzero(scores >= kth)  # keep every tie of the k-th score
    else:
        cand = np.arange(n)
    order = sorted(cand.tolist(), key=lambda i: (-scores[i], _Desc(ids[i])))
    return [ids[i] for i in order[:top_k]]


class _Desc:
    __slots__ = ("v",)

    def __init__(self, v: str) -> None:
        self.v = v

    def __lt__(self, other: _Desc) -> bool:
        return self.v > other.v

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Desc) and self.v == other.v


@dataclass
class RetrievalData:
    query_ids: list[str]
    queries: list[str]
    doc_ids: list[str]
    docs: list[str]
    qrels: dict[str, dict[str, float]] = field(default_factory=dict)
    top_ranked: dict[str, list[str]] | None = None  # reranking: only these candidates per query


def _doc_text(title: Any, text: Any) -> str:
    """A document is its title and text joined by a space (as MTEB does), or its text alone."""
    text = text if isinstance(text, str) else ("" if text is None else str(text))
    return (title + " " + text).strip() if isinstance(title, str) and title else text


@register_evaluator
class RetrievalEvaluator(Evaluator):
    type = "retrieval"
    known_metrics = tuple(f"{m}_at_{k}" for m in ("ndcg", "recall", "mrr", "map", "precision")
                          for k in (1, 3, 5, 10, 20, 100, 1000))
    options_defaults = {
        "eval_split": "test", "top_k": 1000, "ignore_identical_ids": False,
        "queries": None, "corpus": None, "qrels": None,  # {config:, split:} per part (Hub layouts)
        "top_ranked": None,  # {config:, split:}: rerank only each query's listed candidates (MTEB v2 reranking)
    }

    def _part(self, part: str, hub_config: str) -> Any:
        opt = self.option(part) or {}
        if self.spec.dataset.is_local:
            return load_split(self.spec, opt.get("split", part))
        return load_split(self.spec, opt.get("split", self.option("eval_split")), config=opt.get("config", hub_config))

    def load(self) -> RetrievalData:
        queries = self._part("queries", "queries")
        corpus = self._part("corpus", "corpus")
        qrels = self._part("qrels", "default")
        qc = require_columns(self.spec, queries, ["query_id", "query"], " (queries)")
        dc = require_columns(self.spec, corpus, ["doc_id", "document", "title"], " (corpus)")
        rc = require_columns(self.spec, qrels, ["relevance_query_id", "relevance_doc_id", "relevance"], " (qrels)")
        judged: dict[str, dict[str, float]] = {}
        rel_col = rc.get("relevance")
        rels = qrels[rel_col] if rel_col else [1.0] * len(qrels)
        for q, d, r in zip(qrels[rc["relevance_query_id"]], qrels[rc["relevance_doc_id"]], rels, strict=True):
            judged.setdefault(str(q), {})[str(d)] = float(r)
        top = None
        if self.option("top_ranked"):
            tr = self._part("top_ranked", "top_ranked")
            missing = [c for c in ("query-id", "corpus-ids") if c not in tr.column_names]
            if missing:
                raise SampleBenchError(f"task '{self.spec.name}': top_ranked data lacks column(s) {', '.join(missing)}")
            top = {str(q): [str(d) for d in ds] for q, ds in zip(tr["query-id"], tr["corpus-ids"], strict=True)}
        titles = corpus[dc["title"]] if "title" in dc else [None] * len(corpus)
        qids = [str(q) for q in queries[qc["query_id"]]]
        keep = [i for i, q in enumerate(qids) if q in judged]
        qtexts = queries[qc["query"]]
        return RetrievalData(
            query_ids=[qids[i] for i in keep], queries=[qtexts[i] for i in keep],
            doc_ids=[str(d) for d in corpus[dc["doc_id"]]],
            docs=[_doc_text(t, x) for t, x in zip(titles, corpus[dc["document"]], strict=True)],
            qrels=judged, top_ranked=top,
        )

    def sample_ids(self, data: RetrievalData) -> list[str]:
        return data.query_ids

    def restrict(self, data: RetrievalData, sample_ids: Sequence[str]) -> RetrievalData:
        keep = set(sample_ids)
        rows = [i for i, q in enumerate(data.query_ids) if q in keep]
        return RetrievalData([data.query_ids[i] for i in rows], [data.queries[i] for i in rows],
                             data.doc_ids, data.docs, data.qrels, data.top_ranked)

    def evaluate(self, model: Any, data: RetrievalData, sample_ids: Iterable[str] | None = None) -> Iterator[SampleResult]:
        names = self.metric_names
        wanted = None if sample_ids is None else set(sample_ids)
        rows = [i for i, q in enumerate(data.query_ids) if wanted is None or q in wanted]
        # every query is scored (task-level scores are over all of them); rows are yielded for `wanted`
        q_emb, q_err = embed(model, data.queries, batch_size=self.batch_size)
        d_emb, d_err = embed(model, data.docs, batch_size=self.batch_size)
        d_ok = np.array([e is None for e in d_err])
        doc_ids = [d for d, ok in zip(data.doc_ids, d_ok, strict=True) if ok]
        d_emb = d_emb[d_ok]
        top_k, ignore_same = int(self.option("top_k")), bool(self.option("ignore_identical_ids"))
        per_query: dict[int, dict[str, float]] = {}
        chunk = 256
        valid = [i for i in range(len(data.query_ids)) if q_err[i] is None]
        if data.top_ranked is not None:
            where = {d: k for k, d in enumerate(doc_ids)}
            for i in valid:
                qid = data.query_ids[i]
                cands = [d for d in data.top_ranked.get(qid, []) if d in where]
                sims = (cosine_matrix(q_emb[i:i + 1].astype(np.float64), d_emb[[where[d] for d in cands]].astype(np.float64))[0]
                        if cands else np.zeros(0))
                ranked = rank_ids(sims, cands, top_k)
                if ignore_same:
                    ranked = [d for d in ranked if d != qid]
                per_query[i] = query_metrics(ranked, data.qrels.get(qid, {}), names)
            valid = []
        for start in range(0, len(valid), chunk):
            idx = valid[start:start + chunk]
            sims = cosine_matrix(q_emb[idx].astype(np.float64), d_emb.astype(np.float64)) if doc_ids else None
            for k, i in enumerate(idx):
                qid = data.query_ids[i]
                ranked = [] if sims is None else rank_ids(sims[k], doc_ids, top_k + (1 if ignore_same else 0))
                if ignore_same:
                    ranked = [d for d in ranked if d != qid][:top_k]
                per_query[i] = query_metrics(ranked, data.qrels.get(qid, {}), names)
        self.task_scores = {n: float(np.mean([m[n] for m in per_query.values()])) for n in names} if per_query else {}
        for i in rows:
            qid = data.query_ids[i]
            for n in names:
                if i in per_query:
                    yield SampleResult(qid, n, per_query[i][n])
                else:
                    yield SampleResult(qid, n, None, error=q_err[i])


@dataclass
class RerankingData:
    ids: list[str]
    queries: list[str]
    positives: list[list[str]]
    negatives: list[list[str]]


@register_evaluator
class RerankingEvaluator(Evaluator):
    type = "reranking"
    known_metrics = RetrievalEvaluator.known_metrics
    options_defaults = {"eval_split": "test"}

    def load(self) -> RerankingData:
        split = load_split(self.spec, self.option("eval_split"))
        c = require_columns(self.spec, split, ["query", "positive", "negative"])

        def as_list(v: Any) -> list[str]:
            if v is None:
                return []
            return [v] if isinstance(v, str) else [str(x) for x in v]

        pos = [as_list(v) for v in split[c["positive"]]]
        if not any(pos):
            raise SampleBenchError(f"task '{self.spec.name}': column '{c['positive']}' has no positive passages")
        return RerankingData(row_ids(self.spec, split), list(split[c["query"]]), pos,
                             [as_list(v) for v in split[c["negative"]]])

    def sample_ids(self, data: RerankingData) -> list[str]:
        return data.ids

    def restrict(self, data: RerankingData, sample_ids: Sequence[str]) -> RerankingData:
        keep = set(sample_ids)
        rows = [i for i, s in enumerate(data.ids) if s in keep]
        return RerankingData([data.ids[i] for i in rows], [data.queries[i] for i in rows],
                             [data.positives[i] for i in rows], [data.negatives[i] for i in rows])

    def evaluate(self, model: Any, data: RerankingData, sample_ids: Iterable[str] | None = None) -> Iterator[SampleResult]:
        names = self.metric_names
        q_emb, q_err = embed(model, data.queries, batch_size=self.batch_size)
        flat = [t for p, n in zip(data.positives, data.negatives, strict=True) for t in (*p, *n)]
        c_emb, c_err = embed(model, flat, batch_size=self.batch_size)
        per_query: dict[int, dict[str, float]] = {}
        errors: dict[int, str] = {}
        start = 0
        for i, (p, n) in enumerate(zip(data.positives, data.negatives, strict=True)):
            m = len(p) + len(n)
            sl = slice(start, start + m)
            start += m
            err = q_err[i] or next((e for e in c_err[sl] if e), None)
            if err is not None:
                errors[i] = err
                continue
            cand_ids = [f"c{j:05d}" for j in range(m)]  # candidate order as given (ties: later first)
            rels = {cand_ids[j]: (1.0 if j < len(p) else 0.0) for j in range(m)}
            sims = cosine_matrix(q_emb[i:i + 1].astype(np.float64), c_emb[sl].astype(np.float64))[0]
            per_query[i] = query_metrics(rank_ids(sims, cand_ids, m), rels, names)
        self.task_scores = {n: float(np.mean([v[n] for v in per_query.values()])) for n in names} if per_query else {}
        wanted = None if sample_ids is None else set(sample_ids)
        for i, sid in enumerate(data.ids):
            if wanted is not None and sid not in wanted:
                continue
            for n in names:
                if i in per_query:
                    yield SampleResult(sid, n, per_query[i][n])
                else:
                    yield SampleResult(sid, n, None, error=errors.get(i, "not scored"))
