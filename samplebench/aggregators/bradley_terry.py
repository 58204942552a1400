"""Bradley-Terry (Newton on pairwise sufficient statistics) and online Elo.

Bradley-Terry: P(i beats j) = sigma(theta_i - theta_j). The evidence is the win matrix
`W[i, j]` (comparisons i won against j; a tie counts 1/2 to each side by default, as Chatbot
Arena does by duplicating a tie as one half-weighted win each way; `ties="both"` counts a tie as
a full win for both, as ONEBench's pipeline does). With `N = W + W^T`:

    l(theta) = sum_{i != j} W_ij log sigma(theta_i - theta_j) - alpha/2 |theta|^2
    grad_i   = sum_j W_ij - N_ij sigma(theta_i - theta_j) - alpha theta_i
    -Hess    = L(N p (1-p)) + alpha Id          (a weighted graph Laplacian)

Newton steps with a backtracking line search; with alpha = 0 the sum-zero gauge is fixed by
solving with the Laplacian's pseudo-inverse. `arena=True` reports Chatbot Arena's scale:
rating = 400 * theta / ln(10) + 1000 (base 10, scale 400, 1000 offset), the unpenalised
logistic MLE, mean rating 1000 (what a logistic regression without intercept started at zero
converges to, since every design row e_a - e_b is orthogonal to the all-ones vector).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ARENA_SCALE, ARENA_BASE, ARENA_INIT = 400.0, 10.0, 1000.0


@dataclass
class BTFit:
    theta: np.ndarray
    loglik: float
    iterations: int
    converged: bool
    information: np.ndarray


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _bt_loglik(theta: np.ndarray, W: np.ndarray, alpha: float) -> float:
    d = theta[:, None] - theta[None, :]
    # log sigma(d) = -log(1 + exp(-d)), stable
    return float((W * -np.logaddexp(0.0, -d)).sum() - 0.5 * alpha * theta @ theta)


def fit_bt(W: np.ndarray, *, alpha: float = 0.0, tol: float = 1e-10, max_iter: int = 200) -> BTFit:
    """Maximise the BT log-likelihood for win matrix `W` (see module docstring)."""
    n = W.shape[0]
    N = W + W.T
    theta = np.zeros(n)
    ll = _bt_loglik(theta, W, alpha)
    converged = False
    it = 0
    ones = np.ones((n, n)) / n
    for it in range(1, max_iter + 1):  # noqa: B007
        p = _sigmoid(theta[:, None] - theta[None, :])
        grad = W.sum(axis=1) - (N * p).sum(axis=1) - alpha * theta
        A = N * p * p.T
        L = np.diag(A.sum(axis=1)) - A + alpha * np.eye(n)
        if alpha == 0.0:
            step = np.linalg.lstsq(L + ones, grad, rcond=None)[0]
            step -= step.mean()
        else:
            step = np.linalg.solve(L, grad)
        t = 1.0
        while True:
            cand = theta + t * step
            new = _bt_loglik(cand, W, alpha)
            if new >= ll - 1e-12 or t < 1e-8:
                break
            t *= 0.5
        theta, ll_old, ll = cand, ll, new
        if np.abs(grad).max() < tol * max(1.0, N.sum() / max(n, 1)) or abs(ll - ll_old) < 1e-14 * max(1.0, abs(ll)):
            converged = np.abs(grad).max() < 1e-6 * max(1.0, N.sum() / max(n, 1))
            if converged:
                break
    theta = theta - theta.mean()
    p = _sigmoid(theta[:, None] - theta[None, :])
    A = N * p * p.T
    info = np.diag(A.sum(axis=1)) - A + alpha * np.eye(n)
    return BTFit(theta, ll, it, converged, info)


def to_arena(theta: np.ndarray) -> np.ndarray:
    return ARENA_SCALE * theta / np.log(ARENA_BASE) + ARENA_INIT


def win_matrix(above: np.ndarray, tied: np.ndarray, ties: str = "half") -> np.ndarray:
    if ties == "half":
        return above + 0.5 * tied
    if ties == "both":
        return above + tied
    if ties == "ignore":
        return above.copy()
    raise ValueError(f"ties must be half, both or ignore, got {ties!r}")


def elo_ratings(a: np.ndarray, b: np.ndarray, outcome: np.ndarray, n_models: int, *, k: float = 4.0,
                n_seeds: int = 10, seed: int = 0, init: float = ARENA_INIT, scale: float = ARENA_SCALE,
                base: float = ARENA_BASE) -> tuple[np.ndarray, np.ndarray]:
    """Online Elo over comparisons in random order, averaged over `n_seeds` orders.

    For each comparison: E_a = 1 / (1 + base^((R_b - R_a)/scale)); R_a += k (S_a - E_a),
    R_b -= k (S_a - E_a), with S_a = outcome (1, 0.5 or 0). Returns (mean ratings, per-seed ratings).
    """
    rng = np.random.default_rng(seed)
    per_seed = np.empty((n_seeds, n_models))
    for s in range(n_seeds):
        order = rng.permutation(a.size)
        r = [float(init)] * n_models
        aa, bb, oo = a[order].tolist(), b[order].tolist(), outcome[order].tolist()
        for x, y, o in zip(aa, bb, oo, strict=True):
            ea = 1.0 / (1.0 + base ** ((r[y] - r[x]) / scale))
            delta = k * (o - ea)
            r[x] += delta
            r[y] -= delta
        per_seed[s] = r
    return per_seed.mean(axis=0), per_seed
