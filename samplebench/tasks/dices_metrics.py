"""Per-item metrics against a vote distribution, and Krippendorff's alpha. Pure numpy.

A model gives p = P(unsafe) for an item; its label is `unsafe` when p >= threshold. Against an
item (or group) whose raters say unsafe with probability q (`p_unsafe` of the ground truth):

* cross-entropy  CE(q, p) = -(q log p + (1 - q) log(1 - p)), p clipped to [eps, 1 - eps]
  — the expected log loss against the vote of a random rater; q = p = 1/2 gives log 2;
* Brier          B(q, p)  = q (1 - p)^2 + (1 - q) p^2
  — the expected squared error against a random rater's 0/1 vote (= (p - q)^2 + q(1 - q));
* agreement with a hard target: 1 when the model's label equals it, else 0; with a soft target
  (`aggregation: soft`) the expected agreement with a random rater: q if the label is unsafe,
  1 - q otherwise.

Krippendorff's alpha (nominal): with n_uc the number of values c given to unit u and m_u = sum_c n_uc,
only units with m_u >= 2 are pairable; the coincidences are o_ck = sum_u (n_uc n_uk - [c = k] n_uc)
/ (m_u - 1), n_c = sum_k o_ck, n = sum_c n_c, and alpha = 1 - (n - 1) sum_{c != k} o_ck /
sum_{c != k} n_c n_k. It is NaN when fewer than two values occur (no expected disagreement).
"""

from __future__ import annotations

import numpy as np


def cross_entropy(q: np.ndarray | float, p: np.ndarray | float, eps: float = 1e-6) -> np.ndarray:
    """Expected binary log loss (nats) of prediction `p` against target probability `q`."""
    q = np.asarray(q, dtype=float)
    p = np.clip(np.asarray(p, dtype=float), eps, 1.0 - eps)
    return -(q * np.log(p) + (1.0 - q) * np.log1p(-p))


def brier(q: np.ndarray | float, p: np.ndarray | float) -> np.ndarray:
    """Expected squared error of `p` against a 0/1 vote that is 1 with probability `q`."""
    q = np.asarray(q, dtype=float)
    p = np.asarray(p, dtype=float)
    return q * (1.0 - p) ** 2 + (1.0 - q) * p**2


def soft_agreement(q: np.ndarray | float, label_unsafe: np.ndarray | bool) -> np.ndarray:
    """Probability that a random rater's vote equals the model's label."""
    q = np.asarray(q, dtype=float)
    return np.where(np.asarray(label_unsafe, dtype=bool), q, 1.0 - q)


def _codes(x: np.ndarray) -> np.ndarray:
    """Small non-negative integer codes: `x` itself when it already is, else its rank among its values."""
    if x.min() >= 0 and x.max() < max(1024, 2 * x.size):
        return x
    return np.unique(x, return_inverse=True)[1].reshape(-1)


def krippendorff_alpha_nominal(units: np.ndarray, values: np.ndarray) -> float:
    """Nominal Krippendorff's alpha from (unit index, value index) pairs, one pair per rating.

    `units` and `values` are integer arrays of equal length (missing ratings are simply absent).
    """
    units = np.asarray(units, dtype=np.int64)
    values = np.asarray(values, dtype=np.int64)
    if units.size == 0:
        return float("nan")
    u, v = _codes(units), _codes(values)
    n_units, n_vals = int(u.max()) + 1, int(v.max()) + 1
    counts = np.bincount(u * n_vals + v, minlength=n_units * n_vals).reshape(n_units, n_vals).astype(float)
    m = counts.sum(axis=1)
    counts = counts[m >= 2]
    m = m[m >= 2]
    if counts.shape[0] == 0:
        return float("nan")
    w = 1.0 / (m - 1.0)
    # o_ck = sum_u w_u (n_uc n_uk - [c=k] n_uc)
    o = (counts * w[:, None]).T @ counts - np.diag((counts * w[:, None]).sum(axis=0))
    n_c = o.sum(axis=1)
    n = n_c.sum()
    off_obs = o.sum() - np.trace(o)
    off_exp = n_c.sum() ** 2 - (n_c**2).sum()
    if off_exp <= 0:
        return float("nan")
    return float(1.0 - (n - 1.0) * off_obs / off_exp)
