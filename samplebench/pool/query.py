"""Capability queries: the cards that match a text, and the models ranked on them.

`Pool(store).query("multi-step arithmetic")` embeds the query with the index's embedder, finds the
`top_k` closest cards (cosine after centring, see vectors.py; `--where` filters cards by task or
metadata first; `min_similarity` drops weaker matches), reads the ballots of the matched cards
(ballots.py) and ranks the models with `aggregators.fit` (default Plackett-Luce with intervals).
`tau_vs_global` is Kendall's tau-b between that ranking and the ranking of the same method on
every indexed card, over the models both rank.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pydantic import BaseModel, Field

from .._atomic import fsync_dir, write_text_atomic
from ..errors import SampleBenchError
from .ballots import PoolBallots, build_ballots
from .index import pool_dir, read_cards, read_current
from .lexical import LexicalIndex
from .vectors import VectorIndex

RETRIEVALS = ("dense", "hybrid", "bm25")
HYBRID_WEIGHT = 0.05
SNIPPET = 100


class SampleMatch(BaseModel):
    task: str
    sample_id: str
    similarity: float
    snippet: str
    metadata: dict[str, Any] = Field(default_factory=dict)
    verified: bool | None = None


class QueryResult(BaseModel):
    query: str
    index_version: str
    retrieval: str
    samples: list[SampleMatch]
    measured_samples: int = 0
    ranking: dict[str, Any] | None = None
    tau_vs_global: float | None = None
    notes: list[str] = Field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


def measurements_fingerprint(store) -> str:
    """Changes whenever a measurement shard is published (shards are never rewritten)."""
    paths = store.shard_paths("measurements")
    h = hashlib.sha256()
    for p in paths:
        h.update(f"{p.parent.name}/{p.name}:{p.stat().st_size}\n".encode())
    return h.hexdigest()[:16]


class Pool:
    """The published pool index of a store, with its embedder loaded on the first query."""

    def __init__(self, store, *, registry=None) -> None:
        from ..results import ResultStore

        self.store = store if hasattr(store, "scan") else ResultStore(store)
        self.registry = registry
        current = read_current(self.store)
        folder = pool_dir(self.store) / "index" / current["version"] if current else None
        if current is None or not folder.is_dir():
            raise SampleBenchError(f"store {self.store.root} has no pool index yet",
                                   hint="build it with `bench pool index` (after importing or evaluating samples)")
        self.meta = current
        self.folder = folder
        self.version = current["version"]
        self.cards = read_cards(folder)
        self._fields: pa.Table | None = None
        self.vectors = VectorIndex.load(folder)
        self._lexical: LexicalIndex | None = None
        self._embedder = None
        self._ballots: PoolBallots | None = None
        self._global: dict[str, Any] = {}
        self._judge: tuple[str, Any] | None = None
        self._rows: dict[tuple[str, str], int] = {}  # (task, sample_id) -> card row, for the cards searched
        self._keys: pa.ChunkedArray | None = None

    # -- pieces loaded on demand ---------------------------------------------------------------
    @property
    def embedder(self):
        if self._embedder is None:
            from .embedder import query_encoder

            self._embedder = query_encoder(self.meta["embedder"], self.meta.get("numpy_encoder"))
        return self._embedder

    @property
    def fields(self) -> pa.Table:
        """Card metadata as one list<string> column per field (for --where)."""
        if self._fields is None:
            self._fields = pq.ParquetFile(self.folder / "fields.parquet").read()
        return self._fields

    @property
    def lexical(self) -> LexicalIndex:
        if self._lexical is None:
            self._lexical = LexicalIndex.load(self.folder)
        return self._lexical

    def ballots(self) -> PoolBallots:
        """Card ballots for the store's current measurements (built once per measurement state)."""
        if self._ballots is None:
            folder = self.folder / f"ballots-{measurements_fingerprint(self.store)}"
            if not (folder / "ballots.json").exists():
                built = build_ballots(self.store, self.cards.select(["task", "sample_id"]), self.registry)
                tmp = self.folder / f".ballots.{os.getpid()}.tmp"
                shutil.rmtree(tmp, ignore_errors=True)
                tmp.mkdir()
                built.save(tmp)
                try:
                    os.rename(tmp, folder)
                except OSError:  # another process published it first
                    shutil.rmtree(tmp, ignore_errors=True)
                fsync_dir(self.folder)
            self._ballots = PoolBallots.load(folder)
        return self._ballots

    def global_ranking(self, method: str = "plackett-luce", **params):
        """The ranking of `method` on every measured card (cached beside the ballots)."""
        from ..aggregators import Ranking, fit

        key = json.dumps([method, params], sort_keys=True, default=str)
        if key not in self._global:
            ballots = self.ballots()
            path = self.folder / f"ballots-{measurements_fingerprint(self.store)}" / (
                "global-" + hashlib.sha256(key.encode()).hexdigest()[:12] + ".json")
            if path.exists():
                self._global[key] = Ranking.model_validate_json(path.read_text(encoding="utf-8"))
            else:
                ranking = fit(ballots.evidence, method, ci="none", on_disconnected="per-component", **params)
                write_text_atomic(path, ranking.model_dump_json())
                self._global[key] = ranking
        return self._global[key]

    # -- search --------------------------------------------------------------------------------
    def where_mask(self, where: dict[str, str] | None) -> np.ndarray | None:
        """Cards whose `field` equals `value` for every item (`task` or a metadata field; a list
        field matches when it contains the value)."""
        if not where:
            return None
        mask = np.ones(self.cards.num_rows, bool)
        known = ["task", *self.fields.column_names]
        for field, value in where.items():
            if field == "task":
                mask &= np.asarray(pc.equal(self.cards["task"], value))
                continue
            if field not in self.fields.column_names:
                raise SampleBenchError(f"--where: unknown field '{field}'; the cards have {', '.join(known)}")
            col = self.fields[field].combine_chunks()
            flat = pc.list_flatten(col)
            parents = np.asarray(pc.list_parent_indices(col))
            hit = np.zeros(self.cards.num_rows, bool)
            hit[parents[np.asarray(pc.fill_null(pc.equal(flat, value), False))]] = True
            mask &= hit
        return mask

    def search(self, text: str, *, top_k: int = 10, min_similarity: float | None = None,
               where: dict[str, str] | None = None, retrieval: str = "dense") -> list[SampleMatch]:
        text = (text or "").strip()
        if not text:
            raise SampleBenchError("the query is empty", hint="write what the samples should test, e.g. "
                                   "bench query \"multi-step arithmetic\"")
        if retrieval not in RETRIEVALS:
            raise SampleBenchError(f"retrieval must be one of {', '.join(RETRIEVALS)}, got '{retrieval}'")
        if top_k < 1:
            raise SampleBenchError(f"--top-k must be at least 1, got {top_k}")
        mask = self.where_mask(where)
        if retrieval == "bm25":
            scores = self.lexical.scores(text)
            if mask is not None:
                scores = np.where(mask, scores, -np.inf)
            rows = np.argsort(-scores, kind="stable")[:top_k]
            rows = rows[np.isfinite(scores[rows]) & (scores[rows] > 0)]
            sims = scores[rows]
        else:
            q = self.embedder.encode([text])[0]
            k = top_k if retrieval == "dense" else max(4 * top_k, 100)
            sims, rows = self.vectors.search(q, k, mask)
            if retrieval == "hybrid" and rows.size:
                lex = self.lexical.scores(text)[rows]
                top = lex.max()
                sims = sims + HYBRID_WEIGHT * (lex / top if top > 0 else lex)
                order = np.argsort(-sims, kind="stable")[:top_k]
                sims, rows = sims[order], rows[order]
        if min_similarity is not None:
            keep = sims >= min_similarity
            sims, rows = sims[keep], rows[keep]
        sub = self.cards.take(pa.array(rows, pa.int64())).to_pylist()
        self._rows.update(((c["task"], c["sample_id"]), int(r)) for c, r in zip(sub, rows, strict=True))
        return [SampleMatch(task=c["task"], sample_id=c["sample_id"], similarity=round(float(s), 6),
                            snippet=_snippet(c["text"]), metadata=json.loads(c["metadata"]))
                for c, s in zip(sub, sims, strict=True)]

    def verify(self, capability: str, samples: list[SampleMatch], judge: str) -> list[SampleMatch]:
        """Ask `judge` about each sample (see verify.py); sets `verified` on every sample."""
        from .verify import judge_samples, load_judge

        if self._judge is None or self._judge[0] != judge:
            self._judge = (judge, load_judge(judge))
        rows = self.rows_of([(s.task, s.sample_id) for s in samples])
        texts = self.cards["text"].take(pa.array(rows, pa.int64())).to_pylist()
        for s, ok in zip(samples, judge_samples(self._judge[1], capability, texts), strict=True):
            s.verified = ok
        return samples

    def rows_of(self, samples: list[tuple[str, str]]) -> np.ndarray:
        """Card rows of (task, sample_id) pairs (pairs not in the index are left out). Rows a
        search returned are remembered; others are looked up in the whole card table."""
        samples = list(samples)
        if all(s in self._rows for s in samples):
            return np.asarray([self._rows[s] for s in samples], np.int64)
        if self._keys is None:
            self._keys = pc.binary_join_element_wise(self.cards["task"], self.cards["sample_id"], "\0")
        want = pa.array([f"{t}\0{s}" for t, s in samples], pa.string())
        idx = pc.index_in(want, value_set=self._keys)
        return np.asarray(idx.drop_null(), np.int64)

    # -- query = search + ranking --------------------------------------------------------------
    def rank(self, samples: list[tuple[str, str]], method: str = "plackett-luce", *, ci: str = "auto",
             bootstrap: int = 0, seed: int = 0, **params):
        """(ranking with coverage, tau vs the whole pool, number of measured samples) on `samples`."""
        from ..aggregators import fit, kendall_tau

        ballots = self.ballots()
        rows = self.rows_of(samples)
        ev = ballots.for_cards(rows)
        measured = ballots.n_measured(rows)
        if ev.n_samples == 0:
            raise SampleBenchError(f"none of the {len(samples)} selected sample(s) has measurements in store "
                                   f"{self.store.root}", hint="widen the query (--top-k, --min-similarity) or import "
                                   "results for these tasks")
        ranking = fit(ev, method, ci=ci, bootstrap=bootstrap, seed=seed, on_disconnected="per-component", **params)
        tau = kendall_tau(ranking, self.global_ranking(method, **params))
        out = ranking.model_dump(mode="json")
        out["coverage"] = {m.model: round(m.n_samples / max(ev.n_samples, 1), 6) for m in ranking.models}
        return out, (None if np.isnan(tau) else round(tau, 6)), measured

    def query(self, text: str, *, top_k: int = 10, min_similarity: float | None = None,
              where: dict[str, str] | None = None, retrieval: str = "dense", method: str = "plackett-luce",
              rank: bool = True, verify: str | None = None, **fit_options) -> QueryResult:
        samples = self.search(text, top_k=top_k, min_similarity=min_similarity, where=where, retrieval=retrieval)
        result = QueryResult(query=text, index_version=self.version, retrieval=retrieval, samples=samples)
        if verify and samples:
            samples = [s for s in self.verify(text, samples, verify) if s.verified]
            result.notes.append(f"judge {verify} kept {len(samples)} of {len(result.samples)} samples")
        if rank and samples:
            try:
                ranking, tau, measured = self.rank([(s.task, s.sample_id) for s in samples], method, **fit_options)
            except SampleBenchError as exc:
                if not str(exc).startswith("none of the"):
                    raise
                result.notes.append(f"no ranking: none of the {len(samples)} matched samples has measurements")
            else:
                result.ranking, result.tau_vs_global, result.measured_samples = ranking, tau, measured
        return result


def _snippet(text: str) -> str:
    one = " ".join(text.split())
    return one if len(one) <= SNIPPET else one[: SNIPPET - 1] + "…"


__all__ = ["RETRIEVALS", "Pool", "QueryResult", "SampleMatch", "measurements_fingerprint"]
