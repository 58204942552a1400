"""The method table: name -> function(evidence, **params) -> MethodOutput.

Every method returns one score per model of the evidence (NaN where it has nothing to say),
whether lower scores are better, the scale's name, and — for the likelihood methods — the
observed information matrix used for analytic intervals.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .baselines import (
    mean_rank_scores,
    mean_scores,
    normalized_mean_scores,
    task_score_table,
    win_rate_scores,
)
from .bradley_terry import ARENA_BASE, ARENA_SCALE, elo_ratings, fit_bt, to_arena, win_matrix
from .evidence import Evidence, EvidenceBuilder
from .pairs import pair_counts, pair_list
from .social_choice import (
    borda_mteb_scores,
    borda_scores,
    copeland_scores,
    kemeny_scores,
    ranked_pairs_scores,
    schulze_scores,
)


@dataclass
class MethodOutput:
    scores: np.ndarray
    lower_is_better: bool = False
    scale: str = ""
    diagnostics: dict[str, Any] = field(default_factory=dict)
    covariance: Any = None  # Cov(theta) (array, or lazy with .get()); score = factor * theta + offset
    covariance_diagonal: Any = None  # cheap diagonal approximation of `covariance` (lazy), if any
    factor: float = 1.0
    alpha: float = 0.0


@dataclass(frozen=True)
class Method:
    name: str
    func: Callable[..., MethodOutput]
    description: str
    defaults: dict[str, Any]
    needs_connected: bool = False
    fisher: bool = False
    task_level: bool = False  # works on task scores whatever the level

    def __call__(self, ev: Evidence, **params: Any) -> MethodOutput:
        return self.func(ev, **{**self.defaults, **params})


def with_pair_ballots(ev: Evidence) -> Evidence:
    """Explicit judgements as two-member ballots (winner above loser; a tie is one level)."""
    if ev.n_pairs == 0:
        return ev
    b = EvidenceBuilder(ev.models, tasks=ev.tasks, metrics=ev.metrics, groups=ev.groups,
                        higher_is_better=ev.higher_is_better)
    b._chunks.append((ev.sizes(), ev.member_model, ev.member_level, ev.member_value, ev.sample_task,
                      ev.sample_metric, ev.sample_group))
    k = ev.n_pairs
    a_first = ev.pair_outcome >= 0.5
    first = np.where(a_first, ev.pair_a, ev.pair_b)
    second = np.where(a_first, ev.pair_b, ev.pair_a)
    mm = np.stack([first, second], axis=1).ravel().astype(np.int32)
    lv = np.stack([np.zeros(k, np.int32), (ev.pair_outcome != 0.5).astype(np.int32)], axis=1).ravel()
    vals = -lv.astype(np.float64)
    b._chunks.append((np.full(k, 2, np.int64), mm, lv, vals, ev.pair_task.astype(np.int32),
                      np.zeros(k, np.int32), np.full(k, -1, np.int32)))
    out = b.build()
    out.pair_a = out.pair_a[:0]
    out.pair_b = out.pair_b[:0]
    out.pair_outcome = out.pair_outcome[:0]
    out.pair_task = out.pair_task[:0]
    out.notes = list(ev.notes)
    return out


# -- likelihood methods ----------------------------------------------------------------------
def _plackett_luce(ev: Evidence, *, alpha: float, tol: float, max_iter: int, direction: str) -> MethodOutput:
    from .plackett_luce import fit_pl

    ev2 = with_pair_ballots(ev)
    fit = fit_pl(ev2, alpha=alpha, tol=tol, max_iter=max_iter, direction=direction)
    out = MethodOutput(fit.theta, scale=f"log-strength (PL {direction}, mean 0)", alpha=alpha,
                       diagnostics={"converged": fit.converged, "iterations": fit.iterations,
                                    "loglik": fit.loglik, "grad_norm": fit.grad_norm, "direction": direction})
    out.covariance = _Lazy(fit.covariance)  # type: ignore[assignment]
    out.covariance_diagonal = _Lazy(fit.covariance_diagonal)
    return out


class _Lazy:
    """Defers the (possibly expensive) covariance matrix until an interval asks for it."""

    def __init__(self, fn: Callable[[], np.ndarray]) -> None:
        self.fn = fn
        self._value: np.ndarray | None = None

    def get(self) -> np.ndarray:
        if self._value is None:
            self._value = self.fn()
        return self._value


def _bradley_terry(ev: Evidence, *, alpha: float, ties: str, arena: bool, rank_break: bool) -> MethodOutput:
    if rank_break:
        above, tied = pair_counts(ev)
    else:
        empty = Evidence(models=ev.models, pair_a=ev.pair_a, pair_b=ev.pair_b, pair_outcome=ev.pair_outcome,
                         pair_task=ev.pair_task)
        above, tied = pair_counts(empty)
    W = win_matrix(above, tied, ties)
    a = 0.0 if arena else alpha
    fit = fit_bt(W, alpha=a)
    diag = {"converged": fit.converged, "iterations": fit.iterations, "loglik": fit.loglik}
    if arena:
        factor = ARENA_SCALE / np.log(ARENA_BASE)
        return MethodOutput(to_arena(fit.theta), scale="arena rating (base 10, scale 400, mean 1000)",
                            diagnostics=diag, covariance=np.linalg.pinv(fit.information, hermitian=True),
                            factor=factor, alpha=a)
    return MethodOutput(fit.theta, scale="log-strength (BT, mean 0)", diagnostics=diag,
                        covariance=np.linalg.pinv(fit.information, hermitian=True), alpha=a)


def _elo(ev: Evidence, *, k: float, n_seeds: int, seed: int) -> MethodOutput:
    a, b, o = pair_list(ev)
    mean, per_seed = elo_ratings(a, b, o, ev.n_models, k=k, n_seeds=n_seeds, seed=seed)
    return MethodOutput(mean, scale=f"Elo rating (K={k}, mean of {n_seeds} orders)",
                        diagnostics={"comparisons": int(a.size), "seed_sd_max": float(per_seed.std(axis=0).max())
                                     if per_seed.size else 0.0})


# -- social choice -----------------------------------------------------------------------------
def _borda(ev: Evidence) -> MethodOutput:
    above, tied = pair_counts(ev)
    return MethodOutput(borda_scores(above, tied), scale="Borda points")


def _copeland(ev: Evidence) -> MethodOutput:
    above, _ = pair_counts(ev)
    return MethodOutput(copeland_scores(above), scale="Copeland score (majority wins + ties/2)")


def _schulze(ev: Evidence, *, strength: str) -> MethodOutput:
    above, _ = pair_counts(ev)
    return MethodOutput(schulze_scores(above, strength),
                        scale="Schulze: n-1 minus models that beat it by strongest path")


def _ranked_pairs(ev: Evidence) -> MethodOutput:
    above, _ = pair_counts(ev)
    return MethodOutput(ranked_pairs_scores(above), scale="ranked pairs: models below in the locked graph")


def _kemeny(ev: Evidence, *, exact_limit: int, time_limit: float) -> MethodOutput:
    above, _ = pair_counts(ev)
    scores, res = kemeny_scores(above, exact_limit=exact_limit, time_limit=time_limit)
    return MethodOutput(scores, scale="Kemeny position (n = first)",
                        diagnostics={"kemeny_exact": res.exact, "kemeny_agreement": res.agreement,
                                     "kemeny_upper_bound": res.upper_bound, "kemeny_solver": res.method,
                                     "converged": res.exact})


def _borda_mteb(ev: Evidence) -> MethodOutput:
    _, table, sign = task_score_table(ev)
    return MethodOutput(borda_mteb_scores(table * sign[:, None]), scale="MTEB Borda points")


# -- baselines ---------------------------------------------------------------------------------
def _mean(ev: Evidence) -> MethodOutput:
    return MethodOutput(mean_scores(ev), scale="mean of task means")


def _normalized_mean(ev: Evidence, *, normalization: str, baselines: dict[str, float] | None,
                     upper: float) -> MethodOutput:
    return MethodOutput(normalized_mean_scores(ev, normalization=normalization, baselines=baselines, upper=upper),
                        scale=f"mean of {normalization}-normalised task scores")


def _mean_rank(ev: Evidence) -> MethodOutput:
    return MethodOutput(mean_rank_scores(with_pair_ballots(ev)), lower_is_better=True,
                        scale="mean rank per ballot (1 = best)")


def _win_rate(ev: Evidence) -> MethodOutput:
    above, tied = pair_counts(ev)
    return MethodOutput(win_rate_scores(above, tied), scale="pooled win rate")


METHODS: dict[str, Method] = {
    m.name: m
    for m in [
        Method("plackett-luce", _plackett_luce,
               "rank-ordered logit on per-sample partial orders, ties by Breslow's rule, L2 prior alpha, "
               "read best-first and worst-first (direction=both) or best-first only (forward)",
               {"alpha": 0.01, "tol": 1e-7, "max_iter": 1000, "direction": "both"}, needs_connected=True, fisher=True),
        Method("bradley-terry", _bradley_terry,
               "BT logistic MLE on explicit judgements + rank-broken pairs; arena=True for Chatbot Arena's fit",
               {"alpha": 0.01, "ties": "half", "arena": False, "rank_break": True}, needs_connected=True,
               fisher=True),
        Method("elo", _elo, "online Elo over all comparisons in random orders, averaged over seeds",
               {"k": 4.0, "n_seeds": 10, "seed": 0}, needs_connected=True),
        Method("borda", _borda, "Borda count over ballots (truncated ballots, ties half)", {}),
        Method("copeland", _copeland, "pairwise majority wins", {}),
        Method("schulze", _schulze, "Schulze beatpath (link strength: margin or winning votes)",
               {"strength": "margin"}),
        Method("ranked-pairs", _ranked_pairs, "Tideman ranked pairs (margins)", {}),
        Method("kemeny", _kemeny, "Kemeny-Young, exact by integer programming (scipy milp) up to exact_limit",
               {"exact_limit": 30, "time_limit": 60.0}),
        Method("borda-mteb", _borda_mteb, "MTEB leaderboard Borda (n_models - rank per task, missing = 0)", {},
               task_level=True),
        Method("mean", _mean, "mean of per-task mean scores", {}, task_level=True),
        Method("normalized-mean", _normalized_mean, "mean of min-max (or random-baseline) normalised task scores",
               {"normalization": "minmax", "baselines": None, "upper": 1.0}, task_level=True),
        Method("mean-rank", _mean_rank, "mean rank over ballots", {}),
        Method("win-rate", _win_rate, "pooled pairwise win rate", {}),
    ]
}
