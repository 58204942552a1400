"""The adaptive design: strata by difficulty, Neyman allocation in rounds, a model-assisted estimator.

Strata: within each task, the samples are cut into `H_t` equal-sized groups by the pool's mean
(unit-scale) value on them — from the samples nearly every pool model gets right to those nearly
none does. `H_t` grows with the task's share of the budget (about one stratum per four samples, at
most `MAX_STRATA`), so every stratum can get two samples.

Allocation: the score is `S = mean_t (1 / N_t) sum_h T_h` (T_h the stratum's total), so the variance
of its stratified estimate is `sum_h (N_h / (T N_t))^2 (1 - n_h / N_h) s_h^2 / n_h`, which Neyman's
allocation minimises with `n_h ∝ N_h s_h / N_t`. The first round allocates proportionally (every
stratum one sample, budget permitting); later rounds move toward the Neyman allocation for the
current estimate of each stratum's residual spread `s_h^2`, a blend of the item model's
`phi_t span_t^2 mean p_j (1 - p_j)` at the model's current ability (worth six observations) and the
residuals observed in the stratum. Within a stratum the samples are drawn uniformly at random.

Estimator (the difference estimator of survey sampling, assisted by the item model): with
`v_hat_j = lo_t + span_t p_j(theta_hat)`,

    T_h = sum_{observed} v_j + sum_{not observed} v_hat_j + (N_h - n_h) r_bar_h,     r_bar_h = mean_{observed} (v_j - v_hat_j)
    Var(T_h) = N_h^2 (1 - n_h / N_h) s_h^2 / n_h

so the model removes most of the spread (the residuals are what is left) and the design keeps the
estimate unbiased when the model is wrong about this particular model: the interval is a design
interval, not a promise of the item model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAX_STRATA = 10
SAMPLES_PER_STRATUM = 4
PRIOR_WEIGHT = 6.0


@dataclass(frozen=True)
class Strata:
    """Stratum of each population sample (`of[k]` for `population[k]`), sizes and tasks of the strata."""

    population: np.ndarray
    of: np.ndarray
    size: np.ndarray   # (H,)
    task: np.ndarray   # (H,)


def difficulty_strata(difficulty: np.ndarray, sample_task: np.ndarray, population: np.ndarray, budget: int) -> Strata:
    """Cut each task's population samples into equal-sized strata by the pool's mean value on them."""
    st = sample_task[population]
    n_pop = max(len(population), 1)
    of = np.zeros(len(population), dtype=np.int64)
    sizes, tasks = [], []
    for t in np.unique(st):
        members = np.flatnonzero(st == t)
        share = budget * len(members) / n_pop
        h = int(np.clip(share // SAMPLES_PER_STRATUM, 1, MAX_STRATA))
        h = min(h, len(members))
        order = members[np.argsort(difficulty[population[members]], kind="stable")]
        for part in np.array_split(order, h):
            of[part] = len(sizes)
            sizes.append(len(part))
            tasks.append(int(t))
    return Strata(population=population, of=of, size=np.array(sizes, dtype=np.int64), task=np.array(tasks, np.int64))


def stratum_spread(strata: Strata, model_var: np.ndarray, observed_pos: np.ndarray, residuals: np.ndarray) -> np.ndarray:
    """s_h^2 per stratum: the item model's mean variance (as PRIOR_WEIGHT observations) blended with the
    observed residuals' sample variance (`observed_pos`: positions in the population)."""
    h_count = len(strata.size)
    prior = np.bincount(strata.of, weights=model_var, minlength=h_count) / np.maximum(strata.size, 1)
    h_obs = strata.of[observed_pos]
    n = np.bincount(h_obs, minlength=h_count).astype(np.float64)
    s1 = np.bincount(h_obs, weights=residuals, minlength=h_count)
    s2 = np.bincount(h_obs, weights=residuals ** 2, minlength=h_count)
    with np.errstate(invalid="ignore", divide="ignore"):
        ss = np.where(n > 1, s2 - s1 ** 2 / np.maximum(n, 1), 0.0)
    dof = np.maximum(n - 1, 0)
    return (PRIOR_WEIGHT * prior + ss) / (PRIOR_WEIGHT + dof)


def neyman_targets(strata: Strata, spread: np.ndarray, n_task: np.ndarray, total: int) -> np.ndarray:
    """Neyman allocation of `total` samples: n_h ∝ N_h s_h / N_t (real numbers)."""
    w = strata.size * np.sqrt(np.maximum(spread, 1e-12)) / np.maximum(n_task[strata.task], 1)
    return total * w / w.sum() if w.sum() > 0 else np.zeros(len(w))


def stratified_total(strata: Strata, fitted: np.ndarray, observed_pos: np.ndarray, values: np.ndarray,
                     spread: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(T_h, Var T_h) per stratum by the difference estimator; `fitted` is v_hat over the population."""
    h_count = len(strata.size)
    h_obs = strata.of[observed_pos]
    resid = values - fitted[observed_pos]
    n = np.bincount(h_obs, minlength=h_count).astype(np.float64)
    obs_fit = np.bincount(h_obs, weights=fitted[observed_pos], minlength=h_count)
    fit_all = np.bincount(strata.of, weights=fitted, minlength=h_count)
    r_sum = np.bincount(h_obs, weights=resid, minlength=h_count)
    obs_sum = np.bincount(h_obs, weights=values, minlength=h_count)
    big_n = strata.size.astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        r_bar = np.where(n > 0, r_sum / np.maximum(n, 1), 0.0)
        total = obs_sum + (fit_all - obs_fit) + (big_n - n) * r_bar
        var = np.where(n > 0, big_n ** 2 * (1 - n / big_n) * spread / np.maximum(n, 1), big_n ** 2 * spread)
    return total, np.maximum(var, 0.0)
