"""Baseline encoders that need no weights, so every leaderboard has a floor.

* `tfidf`: word 1-2 gram counts hashed into `n_features` buckets (scikit-learn
  `HashingVectorizer`), sublinear tf (1 + log tf), optional idf fitted on `idf_corpus` (a text file,
  one document per line), L2-normalised. Stateless: a text always gets the same vector.
* `bm25`: the same hashed counts with BM25 term saturation tf (k1 + 1) / (tf + k1 (1 - b + b |d| /
  avgdl)) and the same optional idf, L2-normalised (cosine of two such vectors is a symmetric
  BM25-like match score).
* `random`: a seeded Gaussian vector per text (seed mixed with the text's SHA-256), L2-normalised:
  the chance floor.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

import numpy as np

from ...registry import ModelSpec
from .base import ModelAdapter, register_adapter


def _args_revision(kind: str, args: dict[str, Any]) -> str:
    payload = json.dumps({"kind": kind, **args}, sort_keys=True, default=str)
    return f"{kind}-v1-{hashlib.sha256(payload.encode()).hexdigest()[:10]}"


class _HashedCounts(ModelAdapter):
    def __init__(self, spec: ModelSpec, *, n_features: int = 2**12, ngram_max: int = 2,
                 idf_corpus: str | None = None, **kwargs: Any) -> None:
        super().__init__(spec)
        from sklearn.feature_extraction.text import HashingVectorizer

        self.vectorizer = HashingVectorizer(n_features=n_features, ngram_range=(1, ngram_max), alternate_sign=False,
                                            norm=None, lowercase=True)
        self.idf: np.ndarray | None = None
        if idf_corpus:
            from sklearn.feature_extraction.text import TfidfTransformer

            with open(idf_corpus, encoding="utf-8") as fh:
                docs = [line.strip() for line in fh if line.strip()]
            self.idf = TfidfTransformer().fit(self.vectorizer.transform(docs)).idf_
        args = {"n_features": n_features, "ngram_max": ngram_max, "idf_corpus": idf_corpus, **kwargs}
        self.revision = spec.revision or _args_revision(self.name, args)

    def _weights(self, counts) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError

    def encode(self, texts: Sequence[str], *, batch_size: int = 32) -> np.ndarray:
        from sklearn.preprocessing import normalize

        counts = self.vectorizer.transform(list(texts)).tocsr().astype(np.float64)
        x = self._weights(counts)
        if self.idf is not None:
            x = x.multiply(self.idf).tocsr()
        return normalize(x, norm="l2").toarray().astype(np.float32)


@register_adapter("tfidf")
class TfidfEncoder(_HashedCounts):
    def _weights(self, counts):
        counts.data = 1.0 + np.log(counts.data)
        return counts


@register_adapter("bm25")
class BM25Encoder(_HashedCounts):
    def __init__(self, spec: ModelSpec, *, k1: float = 1.2, b: float = 0.75, avgdl: float = 20.0, **kwargs: Any) -> None:
        self.k1, self.b, self.avgdl = k1, b, avgdl
        super().__init__(spec, k1=k1, b=b, avgdl=avgdl, **kwargs)

    def _weights(self, counts):
        doc_len = np.asarray(counts.sum(axis=1)).ravel()
        norm = self.k1 * (1 - self.b + self.b * doc_len / self.avgdl)
        rows = np.repeat(np.arange(counts.shape[0]), np.diff(counts.indptr))
        counts.data = counts.data * (self.k1 + 1) / (counts.data + norm[rows])
        return counts


@register_adapter("random")
class RandomEncoder(ModelAdapter):
    def __init__(self, spec: ModelSpec, *, dim: int = 256, seed: int = 0) -> None:
        super().__init__(spec)
        self.dim, self.seed = dim, seed
        self.revision = spec.revision or _args_revision("random", {"dim": dim, "seed": seed})

    def encode(self, texts: Sequence[str], *, batch_size: int = 32) -> np.ndarray:
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            h = int.from_bytes(hashlib.sha256(t.encode("utf-8")).digest()[:8], "little")
            v = np.random.default_rng([self.seed, h]).standard_normal(self.dim)
            out[i] = v / np.linalg.norm(v)
        return out
