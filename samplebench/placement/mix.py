"""The pool's mix: a placed model's values predicted as a non-negative combination of the pool's models.

With `u_kj` pool model k's value on sample j (unit scale; a sample k has no value on reads as the
pool's mean on it) and `y_j` the placed model's values on the samples observed so far,

    w = argmin_{w >= 0} sum_{j observed} (y_j - sum_k w_k u_kj)^2,      q_j = clip(sum_k w_k u_kj, 0, 1)

(non-negative least squares). It carries what a one-dimensional item model misses when the placed
model resembles some of the pool's models more than their abilities say (a family, a shared base
model, a shared judge bias). `adaptive` predicts the samples not evaluated by
`(1 - alpha) p_j(theta_hat) + alpha q_j`, and `alpha` is calibrated on the pool itself, never on the
placed model: `mix_weight` hides pool models in turn, observes as many of their values as the
placement will (uniformly at random), predicts the rest both ways — the item model without the hidden
model (`items.leave_one_out`) at its ability fitted on the observed values, and the mix of the other
pool models — and takes the `alpha` in [0, 1] with the least squared error over all of them. Where the
pool carries no such structure (values drawn from an item model) it comes out near 0; on AlpacaEval
about 0.5.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import nnls

from .estimate import ability_posterior
from .items import ItemModel, leave_one_out

CALIBRATION_MODELS = 12  # pool models hidden in turn to calibrate alpha (evenly spread over the pool's scores)


def unit_matrix(items: ItemModel, values: np.ndarray, population: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(u, seen): the pool's values on `population` on the unit scale, NaN read as the sample's pool mean."""
    raw = np.asarray(values, dtype=np.float64)[:, population]
    seen = ~np.isnan(raw)
    unit = np.where(seen, items.to_unit(np.nan_to_num(raw), population), items.difficulty[population])
    return unit, seen


def mix_prediction(unit: np.ndarray, observed: np.ndarray, y: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
    """q over every column of `unit` from the values `y` at columns `observed` (see the module docstring),
    mixing only the pool models in `rows` (a boolean mask; default all)."""
    rows = np.ones(unit.shape[0], bool) if rows is None else rows
    weights = np.zeros(unit.shape[0])
    weights[rows], _ = nnls(unit[:, observed][rows].T, y)
    return np.clip(weights @ unit, 0.0, 1.0)


def mix_weight(items: ItemModel, unit: np.ndarray, seen: np.ndarray, population: np.ndarray, n_observed: int,
               seed: int) -> float:
    """alpha calibrated on the pool (see the module docstring) from `unit_matrix`'s output for the models
    `items` was fitted on (same order); 0 when the pool is too small to hide a model from."""
    m, n = unit.shape
    if m < 3 or n_observed < 2 or n_observed >= n:
        return 0.0
    rng = np.random.default_rng(seed)
    order = np.argsort(np.nanmean(np.where(seen, unit, np.nan), axis=1))
    hidden = order[np.unique(np.linspace(0, m - 1, min(CALIBRATION_MODELS, m)).round().astype(int))]
    st = items.sample_task[population]
    num = den = 0.0
    for k in hidden:
        have = np.flatnonzero(seen[k])
        if len(have) <= n_observed:
            continue
        obs = np.sort(rng.choice(have, n_observed, replace=False))
        rest = np.setdiff1d(have, obs)
        row = np.full(len(items.a), np.nan)
        row[population[have]] = items.to_raw(unit[k, have], st[have])
        without = leave_one_out(items, row, int(k))
        post = ability_posterior(without, population[obs], unit[k, obs])
        p = without.expected(post.mode, population[rest])
        q = mix_prediction(unit, obs, unit[k, obs], rows=np.arange(m) != k)[rest]
        d = q - p
        num += float((unit[k, rest] - p) @ d)
        den += float(d @ d)
    return float(np.clip(num / den, 0.0, 1.0)) if den > 0 else 0.0
