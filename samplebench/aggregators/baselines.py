"""Score baselines: mean, normalised mean, mean rank, win rate — and the task-score table.

These average numbers, so unlike the ordinal methods they are only as meaningful as the scales
they average; they are here as the reference every leaderboard already shows.
"""

from __future__ import annotations

import warnings

import numpy as np

from .evidence import Evidence


def _scale(x: np.ndarray) -> float:
    """A divisor for values near the float limit: means (and min-max spans) are taken of x / scale
    so sums of values like 1e308 do not overflow to inf. 1 for ordinary magnitudes (below 1e150),
    so ordinary results stay bit-identical."""
    finite = np.abs(x[np.isfinite(x)]) if x.size else x
    top = float(finite.max()) if finite.size else 0.0
    return top if top > 1e150 else 1.0


def _nanmean_cols(table: np.ndarray, n_models: int) -> np.ndarray:
    """Column means ignoring NaN (overflow-safe); a model with no task at all gets NaN (no warning)."""
    if not table.size:
        return np.full(n_models, np.nan)
    scale = _scale(table)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(table / scale, axis=0) * scale


def task_score_table(ev: Evidence) -> tuple[list[tuple[str, str]], np.ndarray, np.ndarray]:
    """Per (task, metric) column and model: the mean raw value over the model's measured samples.

    Returns (column labels, table (columns x models) with NaN where the model has no sample,
    sign per column: +1 higher-is-better, -1 lower-is-better).
    """
    n_m, used, _, count, key = _columns(ev)
    n_c, n = used.size, ev.n_models
    scale = _scale(ev.member_value)
    total = np.bincount(key, weights=ev.member_value / scale, minlength=n_c * n).reshape(n_c, n)
    with np.errstate(invalid="ignore", divide="ignore"):
        table = np.where(count > 0, total / np.maximum(count, 1) * scale, np.nan)
    tasks = ev.tasks or ["task"]  # evidence built without vocabularies: one unnamed task and metric
    metrics = ev.metrics or ["score"]
    labels = [(tasks[int(c) // n_m], metrics[int(c) % n_m]) for c in used]
    sign = np.array([1.0 if ev.higher_is_better.get(lab, True) else -1.0 for lab in labels])
    return labels, table, sign


def _columns(ev: Evidence):
    """(metrics per task, used (task, metric) codes, column of each sample, members per column and
    model, column * n_models + model of each member) for the task-score tables."""
    n_m = max(len(ev.metrics), 1)
    col = ev.sample_task.astype(np.int64) * n_m + ev.sample_metric
    used, col_dense = np.unique(col, return_inverse=True)
    n_c, n = used.size, ev.n_models
    key = np.repeat(col_dense, ev.sizes()) * n + ev.member_model
    count = np.bincount(key, minlength=n_c * n).reshape(n_c, n)
    return n_m, used, col_dense, count, key


def task_complete(ev: Evidence) -> np.ndarray:
    """(columns x models) bool, columns as in `task_score_table`: the model has a value on every
    sample of the (task, metric) that any model has. For MTEB results (a sample = a (split,
    subset) of the task) this is the MTEB leaderboard's rule for a task score to count: a model
    that skipped a (split, subset) others have gets an empty cell there."""
    _, used, col_dense, count, _ = _columns(ev)
    samples = np.bincount(col_dense, weights=(ev.sizes() > 0).astype(np.float64), minlength=used.size)
    return (count == samples[:, None]) & (count > 0)


def mean_scores(ev: Evidence) -> np.ndarray:
    """Mean over the tasks a model has of its task score (lower-is-better metrics negated)."""
    _, table, sign = task_score_table(ev)
    return _nanmean_cols(table * sign[:, None], ev.n_models)


def normalized_mean_scores(ev: Evidence, *, normalization: str = "minmax",
                           baselines: dict[str, float] | None = None, upper: float = 1.0) -> np.ndarray:
    """Mean of per-task normalised scores.

    * `minmax`: (x - worst) / (best - worst) over the models that have the task, 1 = best.
    * `baseline` (Open LLM Leaderboard): (x - b) / (upper - b), clipped at 0, with `b` the task's
      random-guess score from `baselines` (task -> value, default 0) and `upper` the best possible.
    """
    labels, table, sign = task_score_table(ev)
    if normalization == "minmax":
        oriented = table * sign[:, None]
        oriented /= _scale(oriented)  # min-max is scale-free
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            lo = np.nanmin(oriented, axis=1, keepdims=True)
            hi = np.nanmax(oriented, axis=1, keepdims=True)
        span = np.where(hi > lo, hi - lo, 1.0)
        norm = np.where(hi > lo, (oriented - lo) / span, 1.0)
        norm = np.where(np.isnan(oriented), np.nan, norm)
    elif normalization == "baseline":
        b = np.array([(baselines or {}).get(t, 0.0) for t, _ in labels])[:, None]
        norm = np.clip((table - b) / (upper - b), 0.0, None)
    else:
        raise ValueError(f"normalization must be minmax or baseline, got {normalization!r}")
    return _nanmean_cols(norm, ev.n_models)


def mean_rank_scores(ev: Evidence) -> np.ndarray:
    """Mean over a model's ballots of its rank there (1 = best, tied models share the average rank)."""
    sizes = ev.sizes()
    ms = ev.member_sample()
    n_lev = ev.n_levels()
    lev_key = np.repeat(ev.offsets[:-1], sizes) + ev.member_level  # unique per (ballot, level)
    _, inv, cnt = np.unique(lev_key, return_inverse=True, return_counts=True)
    at_level = cnt[inv]
    # members strictly above: index of the level's first member inside the ballot
    first_of_level = np.zeros(lev_key.size, np.int64)
    pos = np.arange(lev_key.size) - np.repeat(ev.offsets[:-1], sizes)
    new = np.r_[True, lev_key[1:] != lev_key[:-1]]
    first_idx = np.flatnonzero(new)
    first_of_level = pos[first_idx][np.cumsum(new) - 1]
    rank = first_of_level + (at_level + 1) / 2.0
    del n_lev, ms
    total = np.bincount(ev.member_model, weights=rank, minlength=ev.n_models)
    count = np.bincount(ev.member_model, minlength=ev.n_models)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def win_rate_scores(above: np.ndarray, tied: np.ndarray) -> np.ndarray:
    """Pooled win rate: (wins + ties/2) / comparisons."""
    wins = above.sum(axis=1) + 0.5 * tied.sum(axis=1)
    total = above.sum(axis=1) + above.sum(axis=0) + tied.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, wins / np.maximum(total, 1e-300), np.nan)
