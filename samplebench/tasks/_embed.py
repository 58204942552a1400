"""Encoding texts with per-text failure isolation, shared by the embedding task types.

`embed(model, texts)` returns `(embeddings, errors)`: one row per input text (duplicates are
encoded once), and `errors[i]` is None or why row i is unusable. A batch that raises is retried
text by text, so one bad input costs one sample, not the task (unless the exception says
`retry_items = False`, e.g. an unreachable endpoint); non-finite rows become errors.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

ProgressFn = Callable[[int], None]


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:300]}" if text else type(exc).__name__


def _encode_chunk(model, texts: list[str], batch_size: int) -> tuple[np.ndarray | None, list[str | None]]:
    try:
        out = np.asarray(model.encode(texts, batch_size=batch_size), dtype=np.float32)
        if out.ndim != 2 or out.shape[0] != len(texts):
            raise ValueError(f"encoder returned shape {out.shape} for {len(texts)} texts")
        return out, [None] * len(texts)
    except Exception as exc:  # noqa: BLE001 - isolate the failing texts
        if len(texts) == 1 or getattr(exc, "retry_items", True) is False:  # e.g. an unreachable endpoint
            return None, [_short(exc)] * len(texts)
    rows: list[np.ndarray | None] = []
    errors: list[str | None] = []
    for t in texts:
        emb, err = _encode_chunk(model, [t], batch_size)
        rows.append(None if emb is None else emb[0])
        errors.append(err[0])
    dims = {r.shape[0] for r in rows if r is not None}
    if not dims:
        return None, errors
    d = dims.pop()
    out = np.full((len(texts), d), np.nan, dtype=np.float32)
    for i, r in enumerate(rows):
        if r is not None and r.shape[0] == d:
            out[i] = r
    return out, errors


def embed(
    model, texts: Sequence[str], *, batch_size: int = 32, progress: ProgressFn | None = None
) -> tuple[np.ndarray, list[str | None]]:
    """Embeddings of `texts` (float32, shape (n, d)); rows that failed are NaN and named in `errors`."""
    texts = [t if isinstance(t, str) else ("" if t is None else str(t)) for t in texts]
    index: dict[str, int] = {}
    uniq: list[str] = []
    pos = np.empty(len(texts), dtype=np.int64)
    for i, t in enumerate(texts):
        j = index.get(t)
        if j is None:
            j = index[t] = len(uniq)
            uniq.append(t)
        pos[i] = j
    chunk = max(batch_size * 16, 256)
    parts: list[np.ndarray | None] = []
    errs: list[str | None] = []
    for start in range(0, len(uniq), chunk):
        part, perr = _encode_chunk(model, uniq[start:start + chunk], batch_size)
        parts.append(part)
        errs.extend(perr)
        if progress is not None:
            progress(min(chunk, len(uniq) - start))
    dims = {p.shape[1] for p in parts if p is not None}
    d = dims.pop() if dims else 1
    full = np.full((len(uniq), d), np.nan, dtype=np.float32)
    for k, p in enumerate(parts):
        if p is not None and p.shape[1] == d:
            full[k * chunk:k * chunk + p.shape[0]] = p
        elif p is not None:
            for i in range(p.shape[0]):
                errs[k * chunk + i] = errs[k * chunk + i] or f"embedding dimension {p.shape[1]} != {d}"
    bad = ~np.isfinite(full).all(axis=1)
    for j in np.flatnonzero(bad):
        errs[j] = errs[j] or "non-finite embedding (NaN or inf)"
    return full[pos], [errs[j] for j in pos]


def cosine_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine similarities of every row of `a` with every row of `b` (zero vectors give 0)."""
    an = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
    bn = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-12)
    return an @ bn.T


def paired_cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cosine similarity, computed in float64 as scikit-learn's paired_cosine_distances does."""
    a = a.astype(np.float64)
    b = b.astype(np.float64)
    an = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), np.finfo(np.float64).tiny)
    bn = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), np.finfo(np.float64).tiny)
    return 1.0 - 0.5 * ((an - bn) ** 2).sum(axis=1)


def few_threads():
    """Context manager: one BLAS/OpenMP thread for the small scikit-learn fits that follow encoding.

    Those fits are tiny; with many threads on a busy machine they spend their time spinning
    (measured 30x slower on 2 shared cores), and results do not depend on the thread count.
    """
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1)
