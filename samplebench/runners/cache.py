"""Embedding cache keyed by (model revision, text hash).

Layout: `<root>/<key>/<shard>.npz`, where `key` = sha256(model name, revision)[:20] and each shard
holds `hashes` (16-byte BLAKE2b digests of the UTF-8 text) and `vectors` (float32). Shards are
written to a temporary file and renamed into place, so readers never see half a shard. Only
finite vectors are cached, and only for models whose revision is known (otherwise a changed
endpoint or checkpoint could serve stale vectors).
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from .. import config


def text_hash(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()


def default_cache_dir() -> Path:
    return config.home() / "cache" / "embeddings"


class EmbeddingCache:
    """Vectors of one model revision, loaded lazily from disk; `flush` publishes new ones as a shard."""

    def __init__(self, root: Path, model: str, revision: str) -> None:
        key = hashlib.sha256(f"{model}\0{revision}".encode()).hexdigest()[:20]
        self.dir = Path(root) / key
        self.model, self.revision = model, revision
        self._index: dict[bytes, int] | None = None
        self._vectors: list[np.ndarray] = []
        self._matrix: np.ndarray | None = None
        self._pending: dict[bytes, np.ndarray] = {}

    def _load(self) -> None:
        if self._index is not None:
            return
        self._index = {}
        mats = []
        if self.dir.is_dir():
            for p in sorted(self.dir.glob("*.npz")):
                try:
                    with np.load(p) as z:
                        hashes, vecs = z["hashes"], z["vectors"]
                except (OSError, ValueError, KeyError):
                    continue  # a damaged shard is ignored: those texts are encoded again
                base = sum(m.shape[0] for m in mats)
                if mats and vecs.shape[1] != mats[0].shape[1]:
                    continue
                for i, h in enumerate(hashes):
                    self._index[bytes(h)] = base + i
                mats.append(vecs)
        self._matrix = np.concatenate(mats) if mats else None

    def __len__(self) -> int:
        self._load()
        return len(self._index) + len(self._pending)  # type: ignore[arg-type]

    def lookup(self, hashes: Sequence[bytes]) -> tuple[np.ndarray | None, list[int]]:
        """(rows found, in order; None when nothing is found) and the positions of the misses."""
        self._load()
        found, miss = [], []
        for i, h in enumerate(hashes):
            j = self._index.get(h)  # type: ignore[union-attr]
            if j is not None:
                found.append((i, self._matrix[j]))  # type: ignore[index]
            elif h in self._pending:
                found.append((i, self._pending[h]))
            else:
                miss.append(i)
        if not found:
            return None, miss
        out = np.empty((len(hashes), found[0][1].shape[0]), dtype=np.float32)
        for i, v in found:
            out[i] = v
        return out, miss

    def add(self, hashes: Sequence[bytes], vectors: np.ndarray) -> None:
        for h, v in zip(hashes, vectors, strict=True):
            if np.isfinite(v).all():
                self._pending[h] = np.asarray(v, dtype=np.float32)

    def flush(self) -> int:
        """Publish pending vectors as one shard; return how many were written."""
        if not self._pending:
            return 0
        self.dir.mkdir(parents=True, exist_ok=True)
        hashes = np.frombuffer(b"".join(self._pending), dtype=np.uint8).reshape(-1, 16)
        vectors = np.stack(list(self._pending.values()))
        name = f"{uuid.uuid4().hex}.npz"
        tmp = self.dir / f".{name}.tmp"
        with open(tmp, "wb") as fh:
            np.savez(fh, hashes=hashes, vectors=vectors)
        os.replace(tmp, self.dir / name)
        n = len(self._pending)
        self._load()
        base = 0 if self._matrix is None else self._matrix.shape[0]
        if self._matrix is None or self._matrix.shape[1] == vectors.shape[1]:
            self._matrix = vectors if self._matrix is None else np.concatenate([self._matrix, vectors])
            for i, h in enumerate(self._pending):
                self._index[h] = base + i  # type: ignore[index]
        self._pending = {}
        return n


class CachedEncoder:
    """An `Encoder` that serves cached vectors and encodes only the misses with `inner`."""

    def __init__(self, inner, cache: EmbeddingCache | None, on_encoded: Callable[[int], None] | None = None) -> None:
        self.inner = inner
        self.cache = cache
        self.on_encoded = on_encoded
        self.n_hits = 0
        self.n_encoded = 0

    def encode(self, texts: Sequence[str], *, batch_size: int = 32) -> np.ndarray:
        if self.cache is None:
            out = np.asarray(self.inner.encode(list(texts), batch_size=batch_size), dtype=np.float32)
            self.n_encoded += len(texts)
            if self.on_encoded:
                self.on_encoded(len(texts))
            return out
        hashes = [text_hash(t) for t in texts]
        out, miss = self.cache.lookup(hashes)
        self.n_hits += len(texts) - len(miss)
        if miss:
            new = np.asarray(self.inner.encode([texts[i] for i in miss], batch_size=batch_size), dtype=np.float32)
            if new.ndim != 2 or new.shape[0] != len(miss):
                raise ValueError(f"encoder returned shape {new.shape} for {len(miss)} texts")
            self.cache.add([hashes[i] for i in miss], new)
            if out is None:
                out = np.empty((len(texts), new.shape[1]), dtype=np.float32)
            elif out.shape[1] != new.shape[1]:
                raise ValueError(f"cached vectors have dimension {out.shape[1]}, the model returned {new.shape[1]}")
            out[miss] = new
            self.n_encoded += len(miss)
            if self.on_encoded:
                self.on_encoded(len(miss))
        return out

    def flush(self) -> None:
        if self.cache is not None:
            self.cache.flush()

    def __getattr__(self, name: str):  # loglikelihood, generate, ... pass through
        return getattr(self.inner, name)
