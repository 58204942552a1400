"""An item model for graded values, fitted on the pool: a two-parameter logistic model per task.

Each task t's values are mapped to [0, 1] with the best value at 1 (`y = (v - lo_t) / (hi_t - lo_t)`,
flipped for lower-is-better metrics; lo/hi are the pool's extreme values on the task). Model i has
an ability `theta[i, t]` per task and sample j (in task t) a discrimination `a[j]` and an intercept
`c[j]`; the expected value is

    E[y_ij] = p_ij = sigmoid(a_j * theta_it + c_j)

fitted by quasi-likelihood (Bernoulli cross-entropy, which only needs the mean right and so takes
0/1, 0/0.5/1 and continuous values alike), with Gaussian priors `a ~ N(1, 1)`, `c ~ N(0, 2^2)` and
`theta ~ N(0, 1)`, by alternating vectorised Newton steps: all items given the abilities, then all
abilities given the items (abilities are re-standardised per task each pass, which fixes the scale).
The spread of values around p is `phi_t * p (1 - p)`, with `phi_t` (the dispersion, <= 1 for values
in [0, 1]) estimated from the pool's residuals; it tempers the likelihood and sizes the error of
samples not evaluated.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .pool import Pool, _onehot

PRIOR_A = (1.0, 1.0)  # mean, sd of discriminations
PRIOR_C_SD = 2.0
EPS = 1e-6


@dataclass(frozen=True)
class ItemModel:
    """Fitted item parameters, the pool's abilities and the per-task value scale."""

    a: np.ndarray           # (N,) discrimination
    c: np.ndarray           # (N,) intercept
    theta: np.ndarray       # (M, T) abilities of the pool's models (NaN: model has no value on the task)
    phi: np.ndarray         # (T,) dispersion
    lo: np.ndarray          # (T,) raw value mapped to 0
    span: np.ndarray        # (T,) signed raw width: raw = lo + span * y (negative for lower-is-better)
    sample_task: np.ndarray  # (N,)
    theta_mean: np.ndarray  # (T,) prior mean of a new model's abilities
    theta_cov: np.ndarray   # (T, T) prior covariance of a new model's abilities
    difficulty: np.ndarray  # (N,) the pool's mean unit value per sample (0.5 where no pool model has one)
    n_seen: np.ndarray      # (N,) how many pool models have a value on each sample
    grad: np.ndarray        # (2, N) gradient of the penalised loss in (a, c) at the fit (about 0)
    hess: np.ndarray        # (3, N) its Hessian (aa, ac, cc) per sample

    @property
    def n_tasks(self) -> int:
        return len(self.lo)

    def expected(self, theta_t: np.ndarray, items: np.ndarray | slice = slice(None)) -> np.ndarray:
        """p for abilities `theta_t` (per task, shape (T,) or (K, T)) on `items`."""
        st = self.sample_task[items]
        th = np.asarray(theta_t)[..., st]
        return _sigmoid(self.a[items] * th + self.c[items])

    def to_unit(self, raw: np.ndarray, items: np.ndarray | slice = slice(None)) -> np.ndarray:
        st = self.sample_task[items]
        return np.clip((raw - self.lo[st]) / self.span[st], 0.0, 1.0)

    def to_raw(self, y: np.ndarray, tasks: np.ndarray) -> np.ndarray:
        return self.lo[tasks] + self.span[tasks] * y


def unit_scale(pool: Pool) -> tuple[np.ndarray, np.ndarray]:
    """(lo, span) per task: raw = lo + span * y maps y in [0, 1] onto the pool's range, best at 1."""
    t_count = len(pool.tasks)
    lo = np.zeros(t_count)
    span = np.ones(t_count)
    for t in range(t_count):
        v = pool.values[:, pool.sample_task == t]
        v = v[~np.isnan(v)]
        if v.size == 0:
            continue
        vmin, vmax = float(v.min()), float(v.max())
        width = vmax - vmin if vmax > vmin else 1.0
        lo[t], span[t] = (vmin, width) if pool.higher_is_better[t] else (vmax, -width)
    return lo, span


def fit_items(pool: Pool, *, iterations: int = 30, start: ItemModel | None = None, tol: float = 1e-4) -> ItemModel:
    """Fit the item model on `pool` (see the module docstring); `start` warm-starts from an earlier fit
    (e.g. on the pool with one more model, for leave-one-model-out), which then needs few passes."""
    lo, span = unit_scale(pool)
    st = pool.sample_task
    seen = ~np.isnan(pool.values)
    y = np.where(seen, np.clip((np.nan_to_num(pool.values) - lo[st]) / span[st], 0.0, 1.0), 0.0)
    mask = seen.astype(np.float64)
    onehot = _onehot(st, len(pool.tasks))
    counts = mask @ onehot  # (M, T)
    if start is not None and start.theta.shape[1] == len(pool.tasks):
        a, c = start.a.copy(), start.c.copy()
        theta = _warm_theta(start, pool)
    else:
        theta = _initial_theta(y, mask, onehot, counts)
        a = np.full(pool.n_samples, PRIOR_A[0])
        c = np.zeros(pool.n_samples)
    prec_a, prec_c = 1.0 / PRIOR_A[1] ** 2, 1.0 / PRIOR_C_SD ** 2
    for _ in range(iterations):
        th = theta[:, st]  # (M, N)
        p = _sigmoid(a * th + c)
        r = (p - y) * mask
        w = p * (1 - p) * mask
        g_a = (r * th).sum(0) + prec_a * (a - PRIOR_A[0])
        g_c = r.sum(0) + prec_c * c
        h_aa = (w * th * th).sum(0) + prec_a
        h_ac = (w * th).sum(0)
        h_cc = w.sum(0) + prec_c
        det = h_aa * h_cc - h_ac * h_ac
        da = (h_cc * g_a - h_ac * g_c) / det
        dc = (h_aa * g_c - h_ac * g_a) / det
        a, c = a - np.clip(da, -2, 2), c - np.clip(dc, -4, 4)
        p = _sigmoid(a * th + c)
        r = (p - y) * mask
        w = p * (1 - p) * mask
        g_t = (r * a) @ onehot + theta
        h_t = (w * a * a) @ onehot + 1.0
        step = np.clip(g_t / h_t, -2, 2)
        theta = _standardise(theta - step, counts)
        if max(np.abs(da).max(initial=0), np.abs(step).max(initial=0)) < tol:
            break
    th = theta[:, st]
    p = _sigmoid(a * th + c)
    r = (p - y) * mask
    w = p * (1 - p) * mask
    grad = np.stack([(r * th).sum(0) + prec_a * (a - PRIOR_A[0]), r.sum(0) + prec_c * c])
    hess = np.stack([(w * th * th).sum(0) + prec_a, (w * th).sum(0), w.sum(0) + prec_c])
    del r, w
    resid2 = ((y - p) ** 2 * mask) @ onehot
    binom = (p * (1 - p) * mask) @ onehot
    with np.errstate(invalid="ignore", divide="ignore"):
        phi = np.clip(resid2.sum(0) / np.maximum(binom.sum(0), EPS), 0.05, 1.0)
    theta = np.where(counts > 0, theta, np.nan)
    mean, cov = ability_prior(theta)
    n_seen = mask.sum(0)
    difficulty = np.where(n_seen > 0, (y * mask).sum(0) / np.maximum(n_seen, 1), 0.5)
    return ItemModel(a=a, c=c, theta=theta, phi=phi, lo=lo, span=span, sample_task=st, theta_mean=mean, theta_cov=cov,
                     difficulty=difficulty, n_seen=n_seen, grad=grad, hess=hess)


def leave_one_out(model: ItemModel, row: np.ndarray, i: int) -> ItemModel:
    """The item model without pool model `i` (raw values `row`), by one Newton step from the full fit.

    With the full fit at the optimum, the loss without model i has gradient `-g_i` and Hessian
    `H - H_i` (g_i, H_i: model i's own terms), so per sample `(a, c) <- (a, c) + (H - H_i)^-1 g_i`: the
    infinitesimal-jackknife update, exact to second order and O(N) instead of a refit over the pool.
    The other models' abilities, the dispersion and the value scale are kept from the full fit."""
    from dataclasses import replace

    st = model.sample_task
    seen = ~np.isnan(row)
    m = seen.astype(np.float64)
    y = np.where(seen, model.to_unit(np.nan_to_num(row)), 0.0)
    th = np.nan_to_num(model.theta[i])[st]
    p = _sigmoid(model.a * th + model.c)
    r = (p - y) * m
    w = p * (1 - p) * m
    g_a = model.grad[0] - r * th
    g_c = model.grad[1] - r
    h_aa, h_ac, h_cc = model.hess[0] - w * th * th, model.hess[1] - w * th, model.hess[2] - w
    det = h_aa * h_cc - h_ac * h_ac
    da = (h_cc * g_a - h_ac * g_c) / det
    dc = (h_aa * g_c - h_ac * g_a) / det
    keep = np.arange(model.theta.shape[0]) != i
    theta = model.theta[keep]
    mean, cov = ability_prior(theta)
    n_seen = model.n_seen - m
    total = model.difficulty * model.n_seen - y * m
    difficulty = np.where(n_seen > 0, total / np.maximum(n_seen, 1), 0.5)
    return replace(model, a=model.a - np.clip(da, -2, 2), c=model.c - np.clip(dc, -4, 4), theta=theta,
                   theta_mean=mean, theta_cov=cov, difficulty=difficulty, n_seen=n_seen)


def ability_prior(theta: np.ndarray, shrink: float = 0.2) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance of the pool's abilities (pairwise-complete, shrunk towards the diagonal and
    inflated by 1/M so a new model may fall outside the pool): the prior of a new model's abilities."""
    m, t_count = theta.shape
    seen = ~np.isnan(theta)
    mean = np.where(seen.any(0), np.nanmean(np.where(seen, theta, np.nan), axis=0), 0.0) if m else np.zeros(t_count)
    dev = np.where(seen, theta - mean, 0.0)
    n = seen.T.astype(np.float64) @ seen.astype(np.float64)
    cov = (dev.T @ dev) / np.maximum(n - 1, 1)
    var = np.where(np.diag(n) > 1, np.diag(cov), 1.0)
    sd = np.sqrt(np.maximum(var, 1e-3))
    corr = np.where(n > 2, cov / np.outer(sd, sd), 0.0)
    corr = np.clip(corr, -1, 1)
    np.fill_diagonal(corr, 1.0)
    corr = (1 - shrink) * corr + shrink * np.eye(t_count)
    cov = corr * np.outer(sd, sd) * (1 + 1 / max(m, 1))
    # a correlation estimate from pairwise-complete data need not be positive definite
    w, v = np.linalg.eigh(cov)
    cov = (v * np.maximum(w, 1e-3 * sd.mean() ** 2)) @ v.T
    return mean, cov


def _initial_theta(y, mask, onehot, counts) -> np.ndarray:
    """Standardised logits of each model's per-task mean."""
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(counts > 0, ((y * mask) @ onehot) / np.maximum(counts, 1), 0.5)
    means = np.clip(means, 0.02, 0.98)
    return _standardise(np.log(means / (1 - means)), counts)


def _warm_theta(start: ItemModel, pool: Pool) -> np.ndarray:
    """Abilities of `pool`'s models from an earlier fit on a superset of them (rows matched by order)."""
    theta = start.theta
    if theta.shape[0] != pool.n_models:  # the earlier fit had one more model: callers pass rows already dropped
        raise ValueError("warm start must have the same models")
    return np.nan_to_num(theta)


def _standardise(theta: np.ndarray, counts: np.ndarray) -> np.ndarray:
    has = counts > 0
    n = np.maximum(has.sum(0), 1)
    mean = np.where(has, theta, 0).sum(0) / n
    sd = np.sqrt(np.where(has, (theta - mean) ** 2, 0).sum(0) / n)
    return np.where(has, (theta - mean) / np.where(sd > 1e-9, sd, 1.0), 0.0)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def drop_model(model: ItemModel, i: int) -> ItemModel:
    """`model` less pool row `i`, as a warm start for refitting on the pool without that model."""
    keep = np.arange(model.theta.shape[0]) != i
    from dataclasses import replace

    return replace(model, theta=model.theta[keep])
