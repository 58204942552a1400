"""A new model's position from the samples it answered: ability posterior, score and rank with intervals.

Posterior of the new model's abilities `theta` (one per task): the pool's ability distribution
`N(m, S)` as prior, times the quasi-likelihood of its observed values `prod_j p_j^(y_j/phi) (1-p_j)^((1-y_j)/phi)`;
its mode is found by Newton's method and its spread by the Laplace approximation `N(mode, (-H)^-1)`.

Score on the whole selection (the full-evaluation score, estimated): per task, observed values plus
predicted values for the samples not evaluated,

    S_t = (sum_{j observed} v_j + sum_{j not observed} (lo_t + span_t p_j(theta_t))) / N_t,   S = mean_t S_t.

Its predictive distribution accounts for both the ability uncertainty (draws of theta from the
posterior) and the samples' own spread around p (the unobserved sum gets Gaussian noise of variance
`phi_t span_t^2 sum_j p_j (1 - p_j)`), so the interval covers what a full evaluation would give,
not merely the ability. Draws of S give the point estimate (their mean), the interval (their
quantiles), and through the pool's scores the rank and its interval.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .items import ItemModel, _sigmoid
from .pool import _onehot, rank_of

GRID = 121
GRID_SD = 6.0


@dataclass(frozen=True)
class AbilityPosterior:
    mode: np.ndarray  # (T,)
    cov: np.ndarray   # (T, T)


@dataclass(frozen=True)
class Estimate:
    """A placement's estimates; intervals are central `level` intervals. Rank 1 is best."""

    score: float
    score_low: float
    score_high: float
    rank: int
    rank_low: int
    rank_high: int
    task_scores: np.ndarray  # (T,) estimated task means (NaN where a task has no samples for this model)
    level: float

    @property
    def rank_width(self) -> int:
        return self.rank_high - self.rank_low


def ability_posterior(items: ItemModel, observed: np.ndarray, y: np.ndarray, *,
                      start: np.ndarray | None = None, iterations: int = 50) -> AbilityPosterior:
    """Laplace approximation of the abilities' posterior given unit-scale values `y` on samples `observed`."""
    t_count = items.n_tasks
    prec = np.linalg.inv(items.theta_cov)
    mean = items.theta_mean
    theta = mean.copy() if start is None else start.copy()
    a, c = items.a[observed], items.c[observed]
    st = items.sample_task[observed]
    inv_phi = 1.0 / items.phi[st]
    onehot = _onehot(st, t_count)
    hess = -prec
    for _ in range(iterations):
        p = _sigmoid(a * theta[st] + c)
        g = ((y - p) * a * inv_phi) @ onehot - prec @ (theta - mean)
        hess = -np.diag((p * (1 - p) * a * a * inv_phi) @ onehot) - prec
        step = np.linalg.solve(hess, g)
        step = np.clip(step, -2, 2)
        theta = theta - step
        if np.abs(step).max(initial=0) < 1e-6:
            break
    p = _sigmoid(a * theta[st] + c)
    hess = -np.diag((p * (1 - p) * a * a * inv_phi) @ onehot) - prec
    cov = np.linalg.inv(-hess)
    return AbilityPosterior(mode=theta, cov=(cov + cov.T) / 2)


@dataclass(frozen=True)
class TaskCurves:
    """Per task, on a grid of abilities: the sum of p and of p(1-p) over the samples not observed."""

    grid: np.ndarray      # (T, G)
    sum_p: np.ndarray     # (T, G)
    sum_var: np.ndarray   # (T, G)


def task_curves(items: ItemModel, unobserved: np.ndarray, post: AbilityPosterior) -> TaskCurves:
    """Tabulate each task's unobserved expected sum and binomial variance over `mode +- 6 sd`."""
    sd = np.sqrt(np.diag(post.cov))
    offsets = np.linspace(-GRID_SD, GRID_SD, GRID)
    grid = post.mode[:, None] + sd[:, None] * offsets[None, :]
    t_count = items.n_tasks
    sum_p = np.zeros((t_count, GRID))
    sum_var = np.zeros((t_count, GRID))
    st = items.sample_task[unobserved]
    a, c = items.a[unobserved], items.c[unobserved]
    onehot = _onehot(st, t_count)
    for chunk in np.array_split(np.arange(GRID), max(1, int(np.ceil(len(unobserved) * GRID / 4e6)))):
        p = _sigmoid(a[None, :] * grid[st][:, chunk].T + c[None, :])  # (g, n)
        sum_p[:, chunk] = (onehot.T @ p.T)
        sum_var[:, chunk] = (onehot.T @ (p * (1 - p)).T)
    return TaskCurves(grid=grid, sum_p=sum_p, sum_var=sum_var)


def predict(items: ItemModel, post: AbilityPosterior, *, observed: np.ndarray, raw_observed: np.ndarray,
            population: np.ndarray, pool_rank_scores: np.ndarray, higher_is_better: np.ndarray,
            level: float = 0.9, draws: int = 4000, seed: int = 0) -> Estimate:
    """Predictive distribution of the full-evaluation score over `population` (indices of the samples the
    full evaluation would score), given raw values `raw_observed` on `observed` (a subset of it)."""
    t_count = items.n_tasks
    rng = np.random.default_rng(seed)
    n_task = np.bincount(items.sample_task[population], minlength=t_count).astype(np.float64)
    obs_sum = np.bincount(items.sample_task[observed], weights=raw_observed, minlength=t_count)
    unobserved = np.setdiff1d(population, observed, assume_unique=False)
    n_unobs = np.bincount(items.sample_task[unobserved], minlength=t_count).astype(np.float64)
    curves = task_curves(items, unobserved, post)
    theta = rng.multivariate_normal(post.mode, post.cov, size=draws, method="cholesky")  # (K, T)
    sp = np.empty((draws, t_count))
    sv = np.empty((draws, t_count))
    for t in range(t_count):
        sp[:, t] = np.interp(theta[:, t], curves.grid[t], curves.sum_p[t])
        sv[:, t] = np.interp(theta[:, t], curves.grid[t], curves.sum_var[t])
    noise = rng.standard_normal((draws, t_count)) * np.sqrt(items.phi * sv)
    unit_unobs = sp + noise
    with np.errstate(invalid="ignore", divide="ignore"):
        task_draws = (obs_sum + items.lo * n_unobs + items.span * unit_unobs) / n_task  # (K, T)
    has = n_task > 0
    score_draws = task_draws[:, has].mean(1)
    sign = np.where(higher_is_better, 1.0, -1.0)
    rank_draws = rank_of((task_draws[:, has] * sign[has]).mean(1), pool_rank_scores)
    alpha = (1 - level) / 2
    score = float(score_draws.mean())
    oriented = float((task_draws[:, has] * sign[has]).mean(1).mean())
    task_scores = np.where(has, task_draws.mean(0), np.nan)
    return Estimate(score=score, score_low=float(np.quantile(score_draws, alpha)),
                    score_high=float(np.quantile(score_draws, 1 - alpha)),
                    rank=int(rank_of(oriented, pool_rank_scores)),
                    rank_low=int(np.floor(np.quantile(rank_draws, alpha))),
                    rank_high=int(np.ceil(np.quantile(rank_draws, 1 - alpha))),
                    task_scores=task_scores, level=level)


def sample_mean_estimate(*, tasks: np.ndarray, raw_observed: np.ndarray, n_task: np.ndarray,
                         pool_rank_scores: np.ndarray, higher_is_better: np.ndarray, level: float = 0.9) -> Estimate:
    """The design-based peer: per task the mean of the sampled values (simple random sampling within
    tasks), its variance `s_t^2 / n_t (1 - n_t / N_t)`, a normal interval; ranks from the interval's ends."""
    from scipy.stats import norm

    t_count = len(n_task)
    n = np.bincount(tasks, minlength=t_count).astype(np.float64)
    sums = np.bincount(tasks, weights=raw_observed, minlength=t_count)
    sq = np.bincount(tasks, weights=raw_observed ** 2, minlength=t_count)
    has = n > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(has, sums / np.maximum(n, 1), np.nan)
        s2 = np.where(n > 1, (sq - n * np.nan_to_num(means) ** 2) / np.maximum(n - 1, 1), np.nan)
    pooled = np.nanmean(s2) if np.isfinite(s2).any() else 0.0
    s2 = np.where(np.isfinite(s2), s2, pooled)
    var_t = np.where(has, s2 / np.maximum(n, 1) * np.clip(1 - n / np.maximum(n_task, 1), 0, 1), 0.0)
    k = max(int(has.sum()), 1)
    score = float(np.nanmean(means[has])) if has.any() else float("nan")
    half = float(norm.ppf(0.5 + level / 2) * np.sqrt(var_t[has].sum()) / k)
    sign = np.where(higher_is_better, 1.0, -1.0)
    oriented = float(np.nanmean((means * sign)[has])) if has.any() else float("nan")
    r_hi = int(rank_of(oriented - half, pool_rank_scores))
    r_lo = int(rank_of(oriented + half, pool_rank_scores))
    return Estimate(score=score, score_low=score - half, score_high=score + half,
                    rank=int(rank_of(oriented, pool_rank_scores)), rank_low=r_lo, rank_high=r_hi,
                    task_scores=means, level=level)
