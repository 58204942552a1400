"""Vector search over the pool (faiss): exact inner product below `EXACT_LIMIT` vectors,
an inverted-file index with 8-bit scalar quantisation above it.

Vectors are stored *centred*: the pool's mean embedding is subtracted and the result
re-normalised, so the score of a card for a query is the cosine of the two after removing the
direction every instruction shares (the "this is a request" component). On the measured
named-topic query sets this lifts recall@10 from 0.56 to 0.66 (benchmarks/bench_pool.py); the
mean is part of the index and applied to queries too.

Exact (`IndexFlatIP`) costs one pass over n x d floats per query and holds them all in memory;
measured on 2 cores (benchmarks/bench_pool.py): 6.6 ms/query at 100k vectors, 12.6 ms at 200k,
58 ms and 1.5 GB at 1M. From `EXACT_LIMIT` on the index is `IVF{nlist},SQ8` (nlist = 4 sqrt(n),
trained on a seeded sample, `NPROBE` lists searched): at 1M, 0.6 ms/query, a quarter of the
memory and of the load time, and recall@10 0.99 against the exact search.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

EXACT_LIMIT = 200_000
NPROBE = 48


def centre(vectors: np.ndarray, mean: np.ndarray) -> np.ndarray:
    from .embedder import normalise

    return normalise(vectors - mean)


class VectorIndex:
    def __init__(self, index, mean: np.ndarray) -> None:
        self.index = index
        self.mean = mean

    @property
    def exact(self) -> bool:
        import faiss

        return isinstance(self.index, faiss.IndexFlat)

    @classmethod
    def build(cls, vectors: np.ndarray, *, exact_limit: int = EXACT_LIMIT, seed: int = 0) -> VectorIndex:
        import faiss

        n, d = vectors.shape
        mean = vectors.mean(axis=0).astype(np.float32) if n else np.zeros(d, np.float32)
        x = centre(vectors, mean)
        if n < exact_limit:
            index = faiss.IndexFlatIP(d)
        else:
            nlist = int(4 * math.sqrt(n))
            index = faiss.index_factory(d, f"IVF{nlist},SQ8", faiss.METRIC_INNER_PRODUCT)
            rng = np.random.default_rng(seed)
            train = x[rng.choice(n, size=min(n, 40 * nlist), replace=False)]
            index.train(train)
            index.nprobe = NPROBE
        index.add(x)
        return cls(index, mean)

    def save(self, folder: Path) -> None:
        import faiss

        faiss.write_index(self.index, str(folder / "vectors.faiss"))
        np.save(folder / "mean.npy", self.mean)

    @classmethod
    def load(cls, folder: Path) -> VectorIndex:
        import faiss

        path = str(folder / "vectors.faiss")
        try:  # memory-mapped: opening a 1M-vector index costs milliseconds, pages load as lists are probed
            index = faiss.read_index(path, faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY)
        except RuntimeError:
            index = faiss.read_index(path)
        if hasattr(index, "nprobe"):
            faiss.extract_index_ivf(index).nprobe = NPROBE
        return cls(index, np.load(folder / "mean.npy"))

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(scores, rows) of the `k` best cards for one unit query vector; `allowed` a bool mask."""
        import faiss

        q = centre(query.reshape(1, -1), self.mean)
        n = self.index.ntotal
        k = min(k, n)
        if k <= 0:
            return np.zeros(0, np.float32), np.zeros(0, np.int64)
        params = None
        if allowed is not None:
            k = min(k, int(allowed.sum()))
            if k == 0:
                return np.zeros(0, np.float32), np.zeros(0, np.int64)
            sel = faiss.IDSelectorBatch(np.flatnonzero(allowed).astype(np.int64))
            params = (faiss.SearchParametersIVF(sel=sel, nprobe=NPROBE) if not self.exact
                      else faiss.SearchParameters(sel=sel))
        scores, rows = self.index.search(q, k, params=params) if params is not None else self.index.search(q, k)
        keep = rows[0] >= 0
        return scores[0][keep], rows[0][keep]
