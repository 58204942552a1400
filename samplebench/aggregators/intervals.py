"""Intervals for a fitted ranking: Wald (from a covariance or its diagonal) and the bootstrap.

* `wald_intervals`: theta_i ± z se_i, and rank intervals from seeded draws of N(theta, Cov).
  Strengths are defined up to a common shift; the half-widths are those of theta_i minus the
  precision-weighted mean of the strengths (weights 1/Var(theta_j)), so a barely measured model
  does not pass its variance on to every other model, as the plain mean would. The gauge moves
  all intervals together and ranks do not depend on it. A diagonal covariance needs no k x k
  matrix: draws are independent per model. Draws are ranked in blocks, so
  memory stays O(draws x models) in int32, never O(k^2), on the diagonal path.
* `bootstrap_scores`: B refits on resampled evidence (`evidence_ops.resample`), replicates on
  `n_jobs` threads with seeds spawned from `seed` (results do not depend on `n_jobs`); at most
  2 x n_jobs replicates are queued at any time, progress goes to stderr with an estimate of the
  time left, and Ctrl-C stops it between replicates.
* `tied_groups`: walking down the ranking, a model joins the current group while its interval
  overlaps the interval of the group's first model.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

import numpy as np

from .evidence import Evidence
from .evidence_ops import competition_ranks, resample

BOOTSTRAP_MEMORY_LIMIT = 2e9  # bytes of replicate scores and ranks kept for the quantiles


def _z(confidence: float) -> float:
    from statistics import NormalDist  # not scipy.stats: ~0.5 s to import on a cold start

    return NormalDist().inv_cdf(0.5 + confidence / 2)


def _n_draws(k: int) -> int:
    """Draws for rank intervals: 4,000, fewer for thousands of models (memory ~ draws x k)."""
    return 4000 if k <= 1000 else max(1000, int(4e6 // k))


def wald_intervals(scores: np.ndarray, active: np.ndarray, confidence: float, seed: int, *,
                   covariance: np.ndarray | None = None, variance: np.ndarray | None = None,
                   factor: float = 1.0, lower_is_better: bool = False
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(ci_low, ci_high, rank_low, rank_high) of `scores` = factor * theta + offset, from Cov(theta)
    (`covariance`, full) or its diagonal (`variance`), on the active models, in the sum-zero gauge."""
    idx = np.flatnonzero(active)
    k = idx.size
    n = scores.size
    rng = np.random.default_rng(seed)
    if variance is not None:
        v = np.clip(np.asarray(variance, np.float64)[idx], 1e-300, None)
        # Independent theta_i ~ N(., v_i), in the gauge where the precision-weighted mean is 0
        # (weights w = (1/v) / sum(1/v)): Var(theta_i - sum w_j theta_j) = v_i (1 - 2 w_i) + 1/sum(1/v).
        # The plain mean would pass a barely measured model's variance on to every model; the gauge
        # only moves all intervals together, and ranks do not depend on it.
        precision = 1.0 / v
        var_c = v * (1 - 2 * precision / precision.sum()) + 1.0 / precision.sum()
        sd = np.sqrt(v)

        def noise(m: int) -> np.ndarray:
            x = rng.standard_normal((m, k)) * sd
            x -= x.mean(axis=1, keepdims=True)
            return x
    else:
        cov = np.asarray(covariance)[np.ix_(idx, idx)]
        w = 1.0 / np.clip(np.diag(cov), 1e-300, None)
        P = np.eye(k) - np.outer(np.ones(k), w / w.sum())  # theta - precision-weighted mean (see above)
        cov = P @ cov @ P.T
        var_c = np.clip(np.diag(cov), 0, None)
        w, vecs = np.linalg.eigh((cov + cov.T) / 2)
        root = (vecs * np.sqrt(np.clip(w, 0, None))).T

        def noise(m: int) -> np.ndarray:
            return rng.standard_normal((m, k)) @ root

    se = np.sqrt(var_c) * factor
    z = _z(confidence)
    lo = np.full(n, np.nan)
    hi = np.full(n, np.nan)
    lo[idx] = scores[idx] - z * se
    hi[idx] = scores[idx] + z * se
    centre = scores[idx] / factor
    n_draws = _n_draws(k)
    ranks = np.empty((n_draws, k), np.int32)
    block = max(1, int(2e6 // max(k, 1)))
    positions = np.arange(1, k + 1, dtype=np.int32)
    for a in range(0, n_draws, block):
        m = min(block, n_draws - a)
        draws = centre[None, :] + noise(m)
        by_rank = np.argsort(draws if lower_is_better else -draws, axis=1)
        np.put_along_axis(ranks[a:a + m], by_rank, np.broadcast_to(positions, by_rank.shape), axis=1)
    q = (1 - confidence) / 2
    a, b = int(np.floor(q * (n_draws - 1))), int(np.ceil((1 - q) * (n_draws - 1)))
    ranks.partition([a, b], axis=0)  # the two order statistics, without sorting every column
    rl = np.zeros(n, np.int64)
    rh = np.zeros(n, np.int64)
    rl[idx] = ranks[a]
    rh[idx] = ranks[b]
    return lo, hi, rl, rh


def bootstrap_scores(ev: Evidence, run: Callable[[Evidence], tuple[np.ndarray, bool]], B: int, seed: int,
                     n_jobs: int = 1, unit: str = "samples", progress: bool = False
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Scores and ranks (B x models) of `run(evidence) -> (scores, lower_is_better)` on B resamples."""
    seqs = np.random.SeedSequence(seed).spawn(B)
    scores = np.empty((B, ev.n_models))
    ranks = np.empty((B, ev.n_models), np.int32)

    def one(b: int) -> int:
        s, lower = run(resample(np.random.default_rng(seqs[b]), ev, unit))
        scores[b] = s
        ranks[b] = competition_ranks(s, lower)
        return b

    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=B, desc="bootstrap", unit="replicate", file=sys.stderr, mininterval=0.5, smoothing=0.1)
    try:
        if n_jobs <= 1:
            for b in range(B):
                one(b)
                if bar is not None:
                    bar.update()
        else:
            with ThreadPoolExecutor(n_jobs) as pool:
                pending: set = set()
                nxt = 0
                try:
                    while nxt < B or pending:
                        while nxt < B and len(pending) < 2 * n_jobs:  # a bounded queue, never B futures
                            pending.add(pool.submit(one, nxt))
                            nxt += 1
                        done, pending = wait(pending, return_when=FIRST_COMPLETED)
                        for f in done:
                            f.result()
                        if bar is not None:
                            bar.update(len(done))
                except BaseException:
                    for f in pending:
                        f.cancel()
                    raise
    finally:
        if bar is not None:
            bar.close()
    return scores, ranks


def tied_groups(order: list[int], lo: np.ndarray, hi: np.ndarray, lower_is_better: bool) -> list[list[int]]:
    groups: list[list[int]] = []
    for i in order:
        if groups:
            lead = groups[-1][0]
            overlap = lo[i] <= hi[lead] if lower_is_better else hi[i] >= lo[lead]
            if overlap:
                groups[-1].append(i)
                continue
        groups.append([i])
    return groups
