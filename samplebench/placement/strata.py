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

Estimator (model-assisted, as in small-area estimation): with `v_hat_j = lo_t + span_t p_j(theta_hat)`
the item model's prediction and `r_bar_h` the mean observed residual `v_j - v_hat_j` in stratum h,

    T_h = sum_{observed} v_j + sum_{not observed} v_hat_j + lambda_h (N_h - n_h) r_bar_h

where `lambda_h = 1` is the design-unbiased difference estimator and `lambda_h = 0` trusts the item model;
`stratified_total` takes Fay and Herriot's `lambda_h = tau^2 / (tau^2 + s_h^2 / n_h)`, with `tau^2` (how far
the item model is off for this model, stratum to stratum) estimated from the observed residuals, so
the design corrects the model exactly as much as the data show it is needed. Its mean squared
error adds the unobserved samples' own spread, the correction's error and Prasad and Rao's term for
the estimated `tau^2`; `place` adds the ability's uncertainty through the uncorrected predictions.
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


def difficulty_strata(difficulty: np.ndarray, sample_task: np.ndarray, population: np.ndarray,
                      expected: np.ndarray) -> Strata:
    """Cut each task's population samples into equal-sized strata by the pool's mean value on them;
    `expected[t]`: how many of task t's samples the placement will have observed (sets the count)."""
    st = sample_task[population]
    of = np.zeros(len(population), dtype=np.int64)
    sizes, tasks = [], []
    for t in np.unique(st):
        members = np.flatnonzero(st == t)
        h = int(np.clip(expected[t] // SAMPLES_PER_STRATUM, 1, MAX_STRATA))
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
                     spread: np.ndarray, *, shrink: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(T_h, MSE of T_h, lambda_h) per stratum; `fitted` is v_hat over the population (see the module docstring).

    With `shrink`, the residual correction is shrunk as in Fay and Herriot's small-area estimator:
    the stratum's mean residual `mu_h` (how far the item model is off for this model there) gets a
    prior N(0, tau_t^2) shared by the strata of a task, `tau_t^2` estimated by moments from the observed
    `r_bar_h` (their spread beyond sampling noise `s_h^2 / n_h`), and the correction is
    `lambda_h (N_h - n_h) r_bar_h` with `lambda_h = tau^2 / (tau^2 + s_h^2 / n_h)`; its mean squared error is
    `(N_h - n_h)^2 lambda_h s_h^2 / n_h + (N_h - n_h) s_h^2` (the second term: the unobserved samples'
    own spread). Without `shrink`, lambda = 1: the difference estimator."""
    h_count = len(strata.size)
    h_obs = strata.of[observed_pos]
    resid = values - fitted[observed_pos]
    n = np.bincount(h_obs, minlength=h_count).astype(np.float64)
    obs_fit = np.bincount(h_obs, weights=fitted[observed_pos], minlength=h_count)
    fit_all = np.bincount(strata.of, weights=fitted, minlength=h_count)
    r_sum = np.bincount(h_obs, weights=resid, minlength=h_count)
    obs_sum = np.bincount(h_obs, weights=values, minlength=h_count)
    big_n = strata.size.astype(np.float64)
    left = big_n - n
    with np.errstate(invalid="ignore", divide="ignore"):
        r_bar = np.where(n > 0, r_sum / np.maximum(n, 1), 0.0)
        noise = np.where(n > 0, spread / np.maximum(n, 1), np.inf)  # sampling variance of r_bar
        if shrink:
            tau2, tau2_var = _tau2(strata.task, r_bar, noise, n > 0)
            lam = np.where(n > 0, tau2 / (tau2 + noise), 0.0)
            lam = np.where(np.isfinite(lam), lam, 1.0)
            # Prasad and Rao's term for the uncertainty of tau^2 itself
            g3 = np.where(np.isfinite(tau2) & (n > 0), noise ** 2 / (tau2 + noise) ** 3 * tau2_var, 0.0)
        else:
            tau2 = np.zeros(h_count)
            lam = np.where(n > 0, 1.0, 0.0)
        total = obs_sum + (fit_all - obs_fit) + lam * left * r_bar
        mse = np.where(n > 0, left ** 2 * (lam * noise + g3 if shrink else noise) + left * spread,
                       left ** 2 * np.where(np.isfinite(tau2) & shrink, tau2, spread) + left * spread)
        if not shrink:  # the textbook design variance of the difference estimator
            mse = np.where(n > 0, big_n ** 2 * (1 - n / big_n) * spread / np.maximum(n, 1), big_n ** 2 * spread)
    return total, np.maximum(mse, 0.0), lam


def _tau2(task: np.ndarray, r_bar: np.ndarray, noise: np.ndarray, has: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per stratum, its task's between-strata variance of the model's mean residual (moments, >= 0),
    and the variance of that estimate, `2 sum_h (tau^2 + noise_h)^2 / H^2`."""
    out = np.zeros(len(task))
    var = np.zeros(len(task))
    for t in np.unique(task):
        k = (task == t) & has
        if k.sum() < 2:
            out[task == t] = np.inf  # nothing to pool: no shrinkage
            continue
        tau2 = max(float(np.mean(r_bar[k] ** 2) - np.mean(noise[k])), 0.0)
        out[task == t] = tau2
        var[task == t] = 2 * float(np.sum((tau2 + noise[k]) ** 2)) / k.sum() ** 2
    return out, var
