"""How far can 100 samples go on AlpacaEval 1.0? Reference estimators for issue 15's 60% bar.

Issue 15 asks that a placement from 100 of 805 instructions estimate a model's win rate with a mean
absolute error at most 60% of uniform random sampling's. samplebench's `adaptive` reaches 69%
(`bench placement simulate --budget 100`, seeds 0-4). These checks measure, on the same matrix
(52 models x 805 instructions, values 0 / 0.5 / 1), leave-one-model-out, where two families of
estimators stand when they are given more than a placement ever has:

1. **Design-unbiased with an oracle predictor.** For model k, `f_j` predicts its value on
   instruction j from the other 51 models' values on j (ridge regression fitted on k's *own* 805
   values, cross-fitted over 10 folds: a predictor no placement can have). With a uniform sample O
   of 100, the difference estimator `mean_j f_j + mean_{j in O} (y_j - f_j)` has no bias; its error
   is what the pool's predictability leaves. Ratio to the sample mean's MAE: about 0.91.
2. **Model-based with a low-rank logistic pool model.** `P(y_kj) = sigmoid(theta_k + u_k . v_j + c_j)`
   (rank R, L2 penalty) fitted on the other 51 models; the placed model's `(theta, u)` is the MAP under
   the pool's Gaussian of `(theta, u)` given its 100 uniform random values, and the estimate is the
   observed values plus the predicted ones (20 uniform samples per model). Ratio 0.86 at rank 0
   (a one-dimensional item model), 0.84 at rank 3.

Neither reaches 0.60. `adaptive` (a 2PL item model blended with the pool's mix, difficulty strata,
Neyman allocation, Fay-Herriot correction) reaches 0.69; choosing by Fisher information on the real
data (`--strategy information`) 0.93, because the item model's idea of which instructions are
informative does not hold for a new model. The known-truth 2PL simulation of
`tests/test_placement.py` tells the same: choosing by Fisher information with the item model
exactly right (up to its fit on 39 models) reaches 64% of random's error, with 67% coverage.

Run: pytest benchmarks/bench_placement_limits.py -m slow -s   (about 20 s on 2 cores)
Measured (2026-12-02): ratios 0.909 (1), 0.857 (rank 0) and 0.837 (rank 3).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import minimize
from scipy.special import expit

SHARED = Path(os.environ.get("SAMPLEBENCH_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
BUDGET = 100


@pytest.fixture(scope="module")
def alpacaeval(tmp_path_factory) -> np.ndarray:
    """(models, instructions) win values, NaN where the source has no preference: the file imported into
    a store and read as the placement's pool, as `bench placement simulate` reads it."""
    from samplebench.placement.source import read_pool
    from samplebench.results import ResultStore
    from samplebench.results.importers import IMPORTERS

    path = SHARED / "alpacaeval" / "alpaca-eval-1_measurements.parquet"
    if not path.is_file():
        pytest.skip(f"real data file {path} is absent")
    store = ResultStore(tmp_path_factory.mktemp("alpacaeval"))
    IMPORTERS["parquet"](store, path)
    return read_pool(store, store.distinct("task")).pool.values


def cross_fitted_ridge(x: np.ndarray, y: np.ndarray, penalty: float = 3.0, folds: int = 10) -> np.ndarray:
    """Out-of-fold ridge predictions of y from the columns of x (with an intercept)."""
    fold = np.arange(len(y)) % folds
    out = np.empty(len(y))
    for f in range(folds):
        tr = fold != f
        mx, my = x[tr].mean(0), y[tr].mean()
        xc = x[tr] - mx
        w = np.linalg.solve(xc.T @ xc + penalty * np.eye(x.shape[1]), xc.T @ (y[tr] - my))
        out[~tr] = my + (x[~tr] - mx) @ w
    return out


@pytest.mark.slow
def test_difference_estimator_with_an_oracle_predictor_stays_above_the_bar(alpacaeval):
    y_all = alpacaeval
    filled = np.where(np.isnan(y_all), np.nanmean(y_all, 0), y_all)
    m, n = filled.shape
    err_diff, err_mean = [], []
    for k in range(m):
        y = filled[k]
        f = cross_fitted_ridge(np.delete(filled, k, 0).T, y)
        for s in range(40):
            obs = np.random.default_rng(s).choice(n, BUDGET, replace=False)
            err_diff.append(abs(f.mean() + (y[obs] - f[obs]).mean() - y.mean()))
            err_mean.append(abs(y[obs].mean() - y.mean()))
    ratio = np.mean(err_diff) / np.mean(err_mean)
    print(f"\ndifference estimator, oracle pool predictor: MAE {np.mean(err_diff):.4f}, sample mean "
          f"{np.mean(err_mean):.4f}, ratio {ratio:.3f}")
    assert 0.6 < ratio < 1.0


def fit_low_rank(y: np.ndarray, rank: int, penalty: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Penalised maximum likelihood of sigmoid(theta_k + u_k . v_j + c_j) on the non-NaN cells (L-BFGS).
    Returns (z, x, c): z (models, 1 + rank) = [theta, u], x (items, 1 + rank) = [1, v], c (items,)."""
    m, n = y.shape
    seen, yz = ~np.isnan(y), np.nan_to_num(y)

    def unpack(p):
        u = p[:m * rank].reshape(m, rank)
        theta = p[m * rank:m * rank + m]
        v = p[m * rank + m:m * rank + m + n * rank].reshape(n, rank)
        return u, theta, v, p[-n:]

    def loss(p):
        u, theta, v, c = unpack(p)
        prob = expit(theta[:, None] + u @ v.T + c[None])
        ll = np.where(seen, yz * np.log(prob + 1e-12) + (1 - yz) * np.log(1 - prob + 1e-12), 0.0).sum()
        g = np.where(seen, prob - yz, 0.0)
        reg = 0.5 * penalty * ((u ** 2).sum() + (v ** 2).sum()) + 0.5e-3 * (theta @ theta + c @ c)
        grad = np.concatenate([(g @ v + penalty * u).ravel(), g.sum(1) + 1e-3 * theta,
                               (g.T @ u + penalty * v).ravel(), g.sum(0) + 1e-3 * c])
        return reg - ll, grad

    rng = np.random.default_rng(0)
    start = np.concatenate([0.1 * rng.standard_normal(m * rank), np.zeros(m), 0.1 * rng.standard_normal(n * rank),
                            np.zeros(n)])
    u, theta, v, c = unpack(minimize(loss, start, jac=True, method="L-BFGS-B", options={"maxiter": 500}).x)
    return np.column_stack([theta, u]), np.column_stack([np.ones(n), v]), c


def map_placement(z_pool: np.ndarray, x: np.ndarray, c: np.ndarray, obs: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The placed model's predicted probabilities: MAP of its (theta, u) under the pool's Gaussian, damped Newton."""
    mu = z_pool.mean(0)
    prec = np.linalg.inv(np.atleast_2d(np.cov(z_pool.T)) + 1e-3 * np.eye(len(mu)))
    z = mu.copy()
    for _ in range(200):
        p = expit(x[obs] @ z + c[obs])
        grad = x[obs].T @ (y - p) - prec @ (z - mu)
        hess = -(x[obs].T * (p * (1 - p))) @ x[obs] - prec
        step = np.clip(np.linalg.solve(hess, grad), -0.5, 0.5)
        z = z - step
        if np.abs(step).max() < 1e-7:
            break
    return expit(x @ z + c)


@pytest.mark.slow
@pytest.mark.parametrize("rank,penalty", [(0, 1.0), (3, 10.0)])
def test_low_rank_logistic_placement_stays_above_the_bar(alpacaeval, rank, penalty):
    y_all = alpacaeval
    m = len(y_all)
    err_model, err_mean = [], []
    for k in range(m):
        z, x, c = fit_low_rank(np.delete(y_all, k, 0), rank, penalty)
        have = np.flatnonzero(~np.isnan(y_all[k]))
        y = y_all[k]
        truth = y[have].mean()
        for s in range(20):
            obs = np.random.default_rng(100 * s + k).choice(have, BUDGET, replace=False)
            p = map_placement(z, x, c, obs, y[obs])
            rest = np.setdiff1d(have, obs)
            err_model.append(abs((y[obs].sum() + p[rest].sum()) / len(have) - truth))
            err_mean.append(abs(y[obs].mean() - truth))
    ratio = np.mean(err_model) / np.mean(err_mean)
    print(f"\nlow-rank logistic pool model, rank {rank}: MAE {np.mean(err_model):.4f}, sample mean "
          f"{np.mean(err_mean):.4f}, ratio {ratio:.3f}")
    assert 0.6 < ratio < 1.0
