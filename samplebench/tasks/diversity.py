"""Set-level diversity metrics: the Vendi score family and GRADE's normalised entropy.

Vendi score (Friedman & Dieng, 2023; orders q from "Cousins of the Vendi Score", Pasarkar &
Dieng, 2023). For n items with a positive semi-definite similarity matrix K (k(x, x) = 1) and
probability weights p (uniform 1/n by default), let lambda_1..lambda_n be the eigenvalues of

    K_p = diag(sqrt p) K diag(sqrt p)        (= K / n for uniform weights).

The order-q Vendi score is the exponential of the Renyi entropy of order q of those eigenvalues:

    VS_q = exp(H_q),  H_q = log(sum_i lambda_i^q) / (1 - q)   for q not in {0, 1, inf},
    H_1 = -sum_i lambda_i log lambda_i,   H_0 = log #{i: lambda_i > 0},   H_inf = -log max_i lambda_i,

with 0 log 0 = 0. VS_q lies in [1, n] when the diagonal of K is 1 and is non-increasing in q.
From features X (n x d) the kernel is linear, K = X X^T (rows scaled to unit length with
`normalize=True`: cosine similarity). When n > d the same non-zero eigenvalues come from the
d x d matrix X^T diag(p) X (the dual form), which costs O(n d^2 + d^3) instead of O(n^2 d + n^3).

Numerics (where this module deliberately differs from the `vendi-score` 0.0.3 package):
eigenvalues below `max(n, d) * eps * lambda_max` are round-off of exact zeros and are set to 0
before the entropy is taken, so a rank-r kernel has VS_0 = r (the package counts round-off,
e.g. a 5x5 all-ones kernel gets VS_0 = 3 instead of 1, and its small-q values move with the
LAPACK build); and the order q is honoured for feature input (the package ignores it there).
Eigenvalues are not renormalised: with normalize=False and a diagonal other than 1 the score is
that of K / n as written (matching the package and the paper's definition).

GRADE (Rassin et al., 2024) measures diversity of a (concept, attribute) pair as the normalised
Shannon entropy of how often each attribute value occurs: H(p) / log m over the m possible values.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from ..errors import SampleBenchError

__all__ = [
    "diversity_results",
    "generation_diversity_results",
    "grade_entropy",
    "mean_grade_entropy",
    "quality_weighted_vendi",
    "renyi_entropy",
    "text_diversity",
    "vendi_score",
    "vendi_from_eigenvalues",
]

_EPS = float(np.finfo(np.float64).eps)
#: negative eigenvalues are accepted as round-off down to this fraction of the largest one
PSD_TOLERANCE = 1e-6


def _order(q: float | str) -> float:
    if isinstance(q, str):
        if q.strip().lower() in ("inf", "infinity", "+inf"):
            return math.inf
        try:
            q = float(q)
        except ValueError:
            raise SampleBenchError(f"q: order {q!r} is not a number; use a float >= 0 or 'inf'") from None
    if isinstance(q, bool) or not isinstance(q, int | float | np.floating | np.integer):
        raise SampleBenchError(f"q: order must be a number >= 0 or 'inf', got {type(q).__name__}")
    q = float(q)
    if math.isnan(q) or q < 0:
        raise SampleBenchError(f"q: order must be >= 0 (or inf), got {q}")
    return q


def renyi_entropy(lam: np.ndarray, q: float | str = 1.0) -> float:
    """Renyi entropy of order q of non-negative weights `lam` (zeros ignored, 0 log 0 = 0).

    `lam` is used as given (not renormalised to sum 1), which is what the Vendi score needs.
    """
    q = _order(q)
    lam = np.asarray(lam, dtype=np.float64)
    pos = lam[lam > 0]
    if pos.size == 0:
        raise SampleBenchError("all eigenvalues are zero: the similarity matrix is zero, so no diversity is defined")
    if q == 0:
        return math.log(pos.size)
    if q == 1:
        return float(-np.sum(pos * np.log(pos)))
    if math.isinf(q):
        return float(-math.log(pos.max()))
    # log-sum-exp for stability: log sum lam^q = log max^q + log sum (lam/max)^q
    m = pos.max()
    s = float(np.sum((pos / m) ** q))
    return (q * math.log(m) + math.log(s)) / (1.0 - q)


def vendi_from_eigenvalues(lam: np.ndarray, q: float | str = 1.0) -> float:
    """exp(H_q(lam)) for eigenvalues already cleaned of round-off (see `vendi_score`).

    Order 0 returns the count of positive eigenvalues exactly (exp(log r) can round to r - 1 ulp).
    """
    if _order(q) == 0:
        return float(np.count_nonzero(np.asarray(lam) > 0)) or float(math.exp(renyi_entropy(lam, 0)))
    return float(math.exp(renyi_entropy(lam, q)))


def _as_matrix(a: Any, name: str) -> np.ndarray:
    try:
        arr = np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise SampleBenchError(f"{name}: cannot be read as a numeric array ({exc})") from None
    if arr.ndim != 2:
        raise SampleBenchError(f"{name}: must be a 2-D array, got shape {arr.shape}")
    if arr.shape[0] == 0:
        raise SampleBenchError(f"{name}: the set is empty; Vendi needs at least one item")
    if not np.all(np.isfinite(arr)):
        raise SampleBenchError(f"{name}: contains NaN or infinite values; drop or fix those items first")
    return arr


def _weights(p: Any, n: int) -> np.ndarray | None:
    if p is None:
        return None
    w = np.asarray(p, dtype=np.float64).reshape(-1)
    if w.shape[0] != n:
        raise SampleBenchError(f"p: has {w.shape[0]} weights for {n} items; give one probability per item")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise SampleBenchError("p: weights must be finite and non-negative")
    if abs(w.sum() - 1.0) > 1e-9:
        raise SampleBenchError(f"p: weights must sum to 1 (they sum to {w.sum():.12g}); divide by their sum")
    return w


def _clean_eigenvalues(lam: np.ndarray, size: int, what: str) -> np.ndarray:
    """Zero the round-off of exact zeros; refuse clearly negative eigenvalues (K not PSD)."""
    top = float(np.max(np.abs(lam))) if lam.size else 0.0
    if top == 0.0:
        raise SampleBenchError(f"{what}: all similarities are zero, so no diversity is defined")
    if lam.min() < -PSD_TOLERANCE * top:
        raise SampleBenchError(
            f"{what}: not positive semi-definite (eigenvalue {lam.min():.3g} vs largest {top:.3g}); "
            "use a PSD kernel (e.g. cosine similarity of embeddings) or pass features X instead"
        )
    tol = size * _EPS * top
    return np.where(lam > tol, lam, 0.0)


def _check_kernel(K: np.ndarray, normalize: bool) -> np.ndarray:
    n, m = K.shape
    if n != m:
        raise SampleBenchError(f"K: a similarity matrix must be square, got shape {K.shape}")
    scale = max(float(np.max(np.abs(K))), 1e-300)
    if not np.allclose(K, K.T, rtol=1e-7, atol=1e-9 * scale):
        worst = float(np.max(np.abs(K - K.T)))
        raise SampleBenchError(
            f"K: must be symmetric (largest |K - K^T| = {worst:.3g}); use (K + K.T) / 2 if the asymmetry is round-off"
        )
    if normalize:
        d = np.diag(K).copy()
        if np.any(d <= 0):
            bad = int(np.flatnonzero(d <= 0)[0])
            raise SampleBenchError(
                f"K: normalize=True needs a positive diagonal, but K[{bad},{bad}] = {d[bad]:.3g} "
                "(an item with zero self-similarity, e.g. an all-zero embedding); drop it or fix the kernel"
            )
        s = 1.0 / np.sqrt(d)
        K = K * s[:, None] * s[None, :]
    return K


def _eigvalsh(a: np.ndarray) -> np.ndarray:
    import scipy.linalg

    return scipy.linalg.eigvalsh((a + a.T) * 0.5, check_finite=False)


def _vendi_eigenvalues(X: Any, K: Any, p: Any, normalize: bool) -> np.ndarray:
    if (X is None) == (K is None):
        raise SampleBenchError("vendi_score: pass exactly one of X (features, n x d) or K (similarities, n x n)")
    if K is not None:
        Km = _check_kernel(_as_matrix(K, "K"), normalize)
        n = Km.shape[0]
        w = _weights(p, n)
        if w is None:
            Kw = Km / n
        else:
            r = np.sqrt(w)
            Kw = Km * r[:, None] * r[None, :]
        return _clean_eigenvalues(_eigvalsh(Kw), n, "K")
    Xm = _as_matrix(X, "X")
    n, d = Xm.shape
    if d == 0:
        raise SampleBenchError("X: features have zero columns")
    if normalize:
        norms = np.linalg.norm(Xm, axis=1)
        if np.any(norms == 0):
            bad = int(np.flatnonzero(norms == 0)[0])
            raise SampleBenchError(
                f"X: row {bad} is all zeros, so normalize=True cannot scale it to unit length; drop it"
            )
        Xm = Xm / norms[:, None]
    w = _weights(p, n)
    if n > d:  # dual form: the d x d matrix X^T diag(p) X has the same non-zero eigenvalues
        Xw = Xm * (np.sqrt(w)[:, None] if w is not None else math.sqrt(1.0 / n))
        S = Xw.T @ Xw
    else:
        Xw = Xm * (np.sqrt(w)[:, None] if w is not None else math.sqrt(1.0 / n))
        S = Xw @ Xw.T
    return _clean_eigenvalues(_eigvalsh(S), max(n, d), "X")


def vendi_score(
    X: Any = None,
    K: Any = None,
    q: float | str = 1.0,
    p: Any = None,
    normalize: bool = False,
) -> float:
    """Order-q Vendi score of a set, from features `X` (n x d, linear kernel) or similarities `K`.

    VS_q = exp(H_q(eig(diag(sqrt p) K diag(sqrt p)))), with p = 1/n by default (see the module
    docstring for the formula, the dual form used when n > d, and the round-off convention).
    `q` is any order >= 0 including `math.inf` (or "inf"); `normalize=True` scales rows of X to
    unit length, or K to unit diagonal (K_ij / sqrt(K_ii K_jj)).

    >>> vendi_score(K=np.eye(4))
    4.0
    >>> vendi_score(K=np.ones((5, 5)), q=0)
    1.0

    Raises SampleBenchError for an empty set, NaN/inf values, a non-square or non-symmetric K,
    a K with a clearly negative eigenvalue, a zero diagonal (or zero row) with normalize=True,
    weights p that are not a probability vector, or a negative / NaN order q.
    """
    q = _order(q)
    lam = _vendi_eigenvalues(X, K, p, normalize)
    return vendi_from_eigenvalues(lam, q)


def quality_weighted_vendi(
    X: Any = None,
    K: Any = None,
    *,
    quality: Any,
    q: float | str = 1.0,
    p: Any = None,
    normalize: bool = False,
) -> float:
    """Quality-weighted Vendi score qVS_q = (mean quality) * VS_q (Nguyen & Dieng, 2024).

    The mean is sum_i p_i s_i with the same weights p as the Vendi score (1/n by default).
    Quality scores must be finite and non-negative (e.g. in [0, 1]).
    """
    n = _n_items(X, K)
    s = np.asarray(quality, dtype=np.float64).reshape(-1)
    if s.shape[0] != n:
        raise SampleBenchError(f"quality: has {s.shape[0]} scores for {n} items; give one score per item")
    if not np.all(np.isfinite(s)):
        raise SampleBenchError("quality: contains NaN or infinite scores")
    if np.any(s < 0):
        raise SampleBenchError("quality: scores must be non-negative (rescale them, e.g. to [0, 1])")
    w = _weights(p, n)
    mean_q = float(s.mean()) if w is None else float(np.dot(w, s))
    return mean_q * vendi_score(X=X, K=K, q=q, p=w, normalize=normalize)


def _n_items(X: Any, K: Any) -> int:
    if (X is None) == (K is None):
        raise SampleBenchError("pass exactly one of X (features, n x d) or K (similarities, n x n)")
    arr = np.asarray(X if X is not None else K)
    if arr.ndim != 2 or arr.shape[0] == 0:
        name = "X" if X is not None else "K"
        raise SampleBenchError(f"{name}: must be a non-empty 2-D array, got shape {arr.shape}")
    return int(arr.shape[0])


# ----------------------------------------------------------------------------------------- GRADE


def grade_entropy(counts: Sequence[float] | Mapping[Any, float], n_values: int | None = None) -> float:
    """GRADE's normalised entropy of one (concept, attribute) distribution, in [0, 1].

    H = -sum_v f_v log f_v / log m, with f_v = count_v / sum(counts) and m the number of possible
    attribute values: `n_values`, else the number of entries in `counts` (zeros included, so pass
    the full vocabulary, e.g. {"round": 98, "square": 1, "star": 1}). 1 means uniform, 0 one value.
    """
    vals = list(counts.values()) if isinstance(counts, Mapping) else list(counts)
    c = np.asarray(vals, dtype=np.float64).reshape(-1)
    if c.size == 0:
        raise SampleBenchError("counts: empty; give one count per attribute value")
    if not np.all(np.isfinite(c)) or np.any(c < 0):
        raise SampleBenchError("counts: must be finite and non-negative")
    total = c.sum()
    if total <= 0:
        raise SampleBenchError("counts: all zero; there are no observations to take the entropy of")
    m = int(n_values) if n_values is not None else int(c.size)
    if m < c.size:
        raise SampleBenchError(f"n_values={m} is smaller than the {c.size} values counted")
    if m < 2:
        raise SampleBenchError(
            "counts: normalised entropy needs at least 2 possible values; pass n_values (the vocabulary size)"
        )
    f = c[c > 0] / total
    return float(-np.sum(f * np.log(f)) / math.log(m))


def mean_grade_entropy(distributions: Mapping[Any, Any] | Sequence[Any]) -> float:
    """GRADE's diversity score: the mean normalised entropy over (concept, attribute) pairs."""
    items = list(distributions.values()) if isinstance(distributions, Mapping) else list(distributions)
    if not items:
        raise SampleBenchError("distributions: empty; give at least one (concept, attribute) count table")
    return float(np.mean([grade_entropy(c) for c in items]))


# ------------------------------------------------------------------------ per-group results


def diversity_results(
    sample_id: str,
    embeddings: Any,
    quality: Any = None,
    *,
    q: float | str = 1.0,
    expected: int | None = None,
    fraction: bool = False,
) -> list[Any]:
    """`diversity` (and `quality_weighted_diversity` when `quality` is given) of one group of outputs.

    `embeddings` are the n outputs' feature rows (cosine kernel). With `fraction=True` the values
    are divided by n (CUBE's normalised Vendi score, in (0, 1]). When `expected` is set and the
    group has a different number of outputs, both metrics become error rows saying so, because
    Vendi scores of sets of different sizes are not comparable. Returns `SampleResult`s.
    """
    from .base import SampleResult

    metrics = ["diversity"] + (["quality_weighted_diversity"] if quality is not None else [])

    def errors(msg: str) -> list[SampleResult]:
        return [SampleResult(sample_id, m, None, error=msg) for m in metrics]

    E = np.asarray(embeddings, dtype=np.float64) if embeddings is not None else np.zeros((0, 0))
    if E.ndim != 2 or E.shape[0] == 0:
        return errors("no outputs to measure")
    n = E.shape[0]
    if expected is not None and n != expected:
        return errors(f"expected {expected} outputs in the group, found {n}")
    try:
        vs = vendi_score(X=E, q=q, normalize=True)
        out = [SampleResult(sample_id, "diversity", vs / n if fraction else vs)]
        if quality is not None:
            qs = np.asarray(quality, dtype=np.float64).reshape(-1)
            if qs.shape[0] != n or not np.all(np.isfinite(qs)) or np.any(qs < 0):
                out.append(SampleResult(sample_id, "quality_weighted_diversity", None,
                                        error="quality scores missing, non-finite or negative for this group"))
            else:
                qv = float(qs.mean()) * vs
                out.append(SampleResult(sample_id, "quality_weighted_diversity", qv / n if fraction else qv))
        return out
    except SampleBenchError as exc:
        return errors(exc.message)


# ------------------------------------------------------------------------------ text diversity


#: the text encoder of text diversity, built by the model provider (see `samplebench.tasks.base`)
TEXT_ENCODER = "sentence-transformers/all-MiniLM-L6-v2"


def default_text_encoder() -> Any:
    """The default text embedder for diversity: all-MiniLM-L6-v2 (an `Encoder`) from the model provider."""
    from .base import provided_model

    return provided_model(TEXT_ENCODER)


def text_diversity(texts: Sequence[str], encoder: Any = None, q: float | str = 1.0) -> float:
    """Vendi score (order q) of k texts under cosine similarity of their embeddings.

    `encoder` is anything with `encode(texts) -> (n, d) array` (the `Encoder` protocol); the
    default is all-MiniLM-L6-v2. k identical texts give 1, k unrelated ones approach k.
    """
    texts = list(texts)
    if not texts:
        raise SampleBenchError("text_diversity: no texts given")
    if any(not isinstance(t, str) for t in texts):
        raise SampleBenchError("text_diversity: every output must be a string")
    enc = encoder if encoder is not None else default_text_encoder()
    E = np.asarray(enc.encode(texts), dtype=np.float64)
    if E.ndim != 2 or E.shape[0] != len(texts):
        raise SampleBenchError(f"encoder returned shape {E.shape} for {len(texts)} texts; expected (n, d)")
    return vendi_score(X=E, q=q, normalize=True)


def generation_diversity_results(
    model: Any,
    prompts: Sequence[str],
    sample_ids: Sequence[str],
    k: int,
    *,
    encoder: Any = None,
    q: float | str = 1.0,
    max_new_tokens: int = 64,
    metric: str = "diversity",
    batch_size: int = 32,
) -> Iterator[Any]:
    """Hook for `generation` tasks with `samples_per_prompt: k`: Vendi diversity of k outputs per prompt.

    Calls `model.generate(prompts, max_new_tokens=..., n=k)` (the `LanguageModel` protocol), embeds
    all outputs in one pass with `encoder` (default all-MiniLM-L6-v2) and yields one `SampleResult`
    per prompt: `metric` = VS_q of its k outputs under cosine similarity (1 = all the same, k = all
    unrelated). A failed generation call, or a prompt with other than k outputs, gives error rows.
    """
    from .base import SampleResult

    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise SampleBenchError(f"samples_per_prompt must be an integer >= 1, got {k!r}")
    if len(prompts) != len(sample_ids):
        raise SampleBenchError(f"{len(prompts)} prompts for {len(sample_ids)} sample ids")
    q = _order(q)
    try:
        outputs = model.generate(list(prompts), max_new_tokens=max_new_tokens, n=k)
        if len(outputs) != len(prompts):
            raise ValueError(f"the model returned {len(outputs)} output lists for {len(prompts)} prompts")
    except Exception as exc:  # noqa: BLE001 - a failing model becomes error rows, the run goes on
        msg = exc.message if isinstance(exc, SampleBenchError) else f"{type(exc).__name__}: {exc}"
        for sid in sample_ids:
            yield SampleResult(sid, metric, None, error=msg)
        return
    flat: list[str] = []
    spans: list[tuple[int, int] | str] = []
    for outs in outputs:
        outs = list(outs or [])
        if len(outs) != k:
            spans.append(f"expected {k} outputs, the model returned {len(outs)}")
        elif any(not isinstance(o, str) for o in outs):
            spans.append("an output is not a string")
        else:
            spans.append((len(flat), len(flat) + k))
            flat.extend(outs)
    enc = encoder if encoder is not None else default_text_encoder()
    E = np.asarray(enc.encode(flat, batch_size=batch_size), dtype=np.float64) if flat else np.zeros((0, 1))
    for sid, span in zip(sample_ids, spans, strict=True):
        if isinstance(span, str):
            yield SampleResult(sid, metric, None, error=span)
            continue
        try:
            yield SampleResult(sid, metric, vendi_score(X=E[span[0]:span[1]], q=q, normalize=True))
        except SampleBenchError as exc:
            yield SampleResult(sid, metric, None, error=exc.message)
