"""Seeded simulations with known ground truth for the aggregator tests and benchmarks.

`onebench_sim` follows ONEBench's protocol: n models with true means mu ~ U[0, 1]; each sample is
binary (value = 1[mu_i + noise > threshold_s], threshold ~ U[0,1]) or numeric (mu_i + noise),
noise ~ N(0, dispersion^2) per (sample, model); then a fraction `missing` of the measurements
is removed at random. `gumbel_sim` draws orders exactly from a Plackett-Luce model (theta_i +
Gumbel noise), so the true PL strengths are known (for interval coverage).
"""

from __future__ import annotations

import numpy as np


def onebench_sim(n_models: int = 100, n_samples: int = 5000, missing: float = 0.0, *, dispersion: float = 0.3,
                 binary_frac: float = 0.5, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Return (values (samples x models) with NaN for missing, true means)."""
    rng = np.random.default_rng(seed)
    mu = rng.uniform(0, 1, n_models)
    raw = mu[None, :] + dispersion * rng.standard_normal((n_samples, n_models))
    binary = rng.random(n_samples) < binary_frac
    thr = rng.uniform(0, 1, n_samples)
    values = np.where(binary[:, None], (raw > thr[:, None]).astype(float), raw)
    values[rng.random((n_samples, n_models)) < missing] = np.nan
    return values, mu


def gumbel_sim(n_models: int = 20, n_samples: int = 2000, missing: float = 0.5, *, spread: float = 1.0,
               seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    theta = rng.normal(0, spread, n_models)
    values = theta[None, :] + rng.gumbel(size=(n_samples, n_models))
    values[rng.random((n_samples, n_models)) < missing] = np.nan
    return values, theta - theta.mean()


def onebench_pipeline(values: np.ndarray, alpha: float = 0.0) -> np.ndarray:
    """ONEBench's aggregation: every within-sample pair -> a win, ties counted both ways, then
    `choix.ilsr_pairwise_dense` on the comparison matrix. Returns strengths (higher = better)."""
    import choix

    n = values.shape[1]
    present = ~np.isnan(values)
    v = np.where(present, values, 0.0)
    comp = np.zeros((n, n))
    for i in range(n):
        both = present[:, i : i + 1] & present
        comp[i] = ((v[:, i : i + 1] >= v) & both).sum(axis=0)
    np.fill_diagonal(comp, 0.0)
    return choix.ilsr_pairwise_dense(comp, alpha=alpha)


def kendall(a: np.ndarray, b: np.ndarray) -> float:
    from scipy.stats import kendalltau

    return float(kendalltau(a, b).statistic)
