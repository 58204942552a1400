"""Methods as a small protocol: each declares its parameters and capabilities; `METHODS` lists them.

A `Method` (in the spirit of a scikit-learn estimator) is

* `params`: its own parameters (`Param`: name, default, a check), validated before anything runs
  (`Method.validate`) and reported exactly as used;
* `capabilities` (`Capabilities`): whether it reads explicit pairwise judgements, handles tied
  values, which analytic intervals it has (the first is its default), whether it needs a connected
  comparison graph, whether it is randomised (then `fit`'s `seed` is its seed: one seed, one
  namespace), and whether it always works on task scores;
* `func(evidence, **params[, seed]) -> MethodOutput`: one score per model (NaN where it has
  nothing to say), the scale, typed diagnostics (`FitDiagnostics`), notes, and for the likelihood
  methods the covariance of theta (score = factor * theta + offset) or its diagonal.

`fit` (api.py) only reads these declarations: it never branches on a method's name. A method's
parameter may not share a name with a fit option (`FIT_OPTIONS`): registering one raises.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import SampleBenchError
from .baselines import (
    mean_rank_scores,
    mean_scores,
    normalized_mean_scores,
    task_complete,
    task_score_table,
    win_rate_scores,
)
from .bradley_terry import ARENA_BASE, ARENA_SCALE, elo_ratings, fit_bt, to_arena, win_matrix
from .evidence import Evidence
from .evidence_ops import with_pair_ballots
from .pairs import pair_counts, pair_list
from .ranking import FitDiagnostics
from .social_choice import (
    borda_mteb_scores,
    borda_scores,
    copeland_scores,
    kemeny_scores,
    ranked_pairs_scores,
    schulze_scores,
)

FIT_OPTIONS = ("level", "ci", "bootstrap", "resample", "confidence", "seed", "n_jobs", "on_disconnected", "progress")
INTERVAL_KINDS = ("fisher", "fisher-diagonal")  # analytic kinds a method may declare; the bootstrap is for all


# -- parameters ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Param:
    """One method parameter: its default, type and allowed values (a range or a closed set)."""

    name: str
    default: Any
    doc: str
    kind: type = float  # float (ints accepted), int, bool, str, dict
    low: float | None = None  # inclusive lower bound (numbers)
    low_open: bool = False  # the bound itself is refused (> low)
    high: float | None = None  # inclusive upper bound
    choices: tuple[Any, ...] = ()
    optional: bool = False  # None allowed

    def validate(self, method: str, value: Any) -> Any:
        """The value coerced to the declared type, or a SampleBenchError naming the parameter."""
        where = f"method '{method}' parameter {self.name}"
        if value is None and self.optional:
            return None
        if self.kind is float:
            ok = isinstance(value, int | float) and not isinstance(value, bool) and np.isfinite(value)
            value = float(value) if ok else value
        elif self.kind is int:
            ok = isinstance(value, int | np.integer) and not isinstance(value, bool)
            value = int(value) if ok else value
        else:
            ok = isinstance(value, self.kind)
        if not ok:
            raise SampleBenchError(f"{where} must be a {'finite number' if self.kind is float else self.kind.__name__}"
                                   f", got {value!r}", hint=self.doc)
        if self.choices and value not in self.choices:
            raise SampleBenchError(f"{where} must be one of {', '.join(map(str, self.choices))}, got {value!r}")
        if self.low is not None and (value < self.low or (self.low_open and value == self.low)):
            raise SampleBenchError(f"{where} must be {'>' if self.low_open else '>='} {self.low:g}, got {value!r}",
                                   hint=self.doc)
        if self.high is not None and value > self.high:
            raise SampleBenchError(f"{where} must be <= {self.high:g}, got {value!r}", hint=self.doc)
        return value


@dataclass(frozen=True)
class Capabilities:
    pairwise: bool = True  # reads explicit pairwise judgements (arena battles) as well as ballots
    ties: bool = True  # tied values are a tie, not an arbitrary order
    intervals: tuple[str, ...] = ()  # analytic interval kinds, the default first (bootstrap: every method)
    needs_connected: bool = False  # scores only comparable inside a connected component
    seeded: bool = False  # randomised: takes fit's `seed`
    task_scores: bool = False  # always works on task scores (whatever the level)


@dataclass
class MethodOutput:
    scores: np.ndarray
    lower_is_better: bool = False
    scale: str = ""
    diagnostics: FitDiagnostics = field(default_factory=FitDiagnostics)
    notes: list[str] = field(default_factory=list)
    covariance: Callable[[], np.ndarray] | None = None  # Cov(theta), computed on demand
    variance: Callable[[], np.ndarray] | None = None  # its diagonal form (a vector), on demand
    factor: float = 1.0  # score = factor * theta + offset
    used: dict[str, Any] = field(default_factory=dict)  # parameters whose used value differs from the given one

    def interval_source(self, kind: str) -> dict[str, Any]:
        """Keyword arguments of `intervals.wald_intervals` for analytic interval `kind`."""
        if kind == "fisher-diagonal":
            return {"variance": self.variance()}
        return {"covariance": self.covariance()}


@dataclass(frozen=True)
class Method:
    name: str
    func: Callable[..., MethodOutput]
    description: str
    params: tuple[Param, ...] = ()
    capabilities: Capabilities = Capabilities()
    interval_work: Callable[[Evidence, str], float] | None = None  # cost of an interval kind (fit's units)

    def __post_init__(self) -> None:
        clash = [p.name for p in self.params if p.name in FIT_OPTIONS]
        if clash:
            raise ValueError(f"method {self.name}: parameter(s) {clash} clash with fit options {FIT_OPTIONS}")
        bad = [k for k in self.capabilities.intervals if k not in INTERVAL_KINDS]
        if bad:
            raise ValueError(f"method {self.name}: unknown interval kind(s) {bad}")

    @property
    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}

    def validate(self, params: dict[str, Any]) -> dict[str, Any]:
        """Every parameter, given or default, validated; unknown names refused."""
        known = {p.name: p for p in self.params}
        unknown = sorted(set(params) - set(known))
        if unknown:
            raise SampleBenchError(f"method '{self.name}' has no parameter(s) {', '.join(unknown)}",
                                   hint=f"its parameters: {', '.join(known) or 'none'}")
        return {name: p.validate(self.name, params.get(name, p.default)) for name, p in known.items()}

    def run(self, ev: Evidence, params: dict[str, Any], seed: int = 0) -> MethodOutput:
        """Run on `ev` with already validated `params`; `seed` reaches seeded methods only."""
        return self.func(ev, **params, seed=seed) if self.capabilities.seeded else self.func(ev, **params)

    def __call__(self, ev: Evidence, seed: int = 0, **params: Any) -> MethodOutput:
        """Validate `params` (defaults filled in) and run."""
        return self.run(ev, self.validate(params), seed)


# -- likelihood methods ----------------------------------------------------------------------
def _never(wins: np.ndarray, losses: np.ndarray, present: np.ndarray) -> list[str]:
    if np.any(present & ((wins == 0) | (losses == 0))):
        return ["some models never won or never lost: their strengths are finite only because of the L2 prior "
                "(alpha); read their scores as bounds"]
    return []


def _present(ev: Evidence) -> np.ndarray:
    """Models with at least one measurement or judgement."""
    return np.bincount(np.r_[ev.member_model, ev.pair_a, ev.pair_b].astype(np.intp), minlength=ev.n_models) > 0


def _plackett_luce(ev: Evidence, *, alpha: float, tol: float, max_iter: int, direction: str) -> MethodOutput:
    from .plackett_luce import fit_pl

    fit = fit_pl(with_pair_ballots(ev), alpha=alpha, tol=tol, max_iter=max_iter, direction=direction)
    diag = FitDiagnostics(converged=fit.converged, iterations=fit.iterations, loglik=fit.loglik,
                          grad_norm=fit.grad_norm, direction=direction)
    return MethodOutput(fit.theta, scale=f"log-strength (PL {direction}, mean 0)", diagnostics=diag,
                        notes=_never(*fit.choices(), _present(ev)),
                        covariance=fit.covariance, variance=fit.variance_diagonal)


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
    diag = FitDiagnostics(converged=fit.converged, iterations=fit.iterations, loglik=fit.loglik)
    present = (above + above.T + tied).sum(axis=1) > 0
    notes = _never(above.sum(axis=1), above.sum(axis=0), present)

    def cov() -> np.ndarray:
        return np.linalg.pinv(fit.information, hermitian=True)

    if arena:
        return MethodOutput(to_arena(fit.theta), scale="arena rating (base 10, scale 400, mean 1000)",
                            diagnostics=diag, notes=notes, covariance=cov, factor=ARENA_SCALE / np.log(ARENA_BASE),
                            used={"alpha": a})
    return MethodOutput(fit.theta, scale="log-strength (BT, mean 0)", diagnostics=diag, notes=notes, covariance=cov)


def _elo(ev: Evidence, *, k: float, n_seeds: int, seed: int) -> MethodOutput:
    a, b, o = pair_list(ev)
    mean, per_seed = elo_ratings(a, b, o, ev.n_models, k=k, n_seeds=n_seeds, seed=seed)
    spread = float(per_seed.std(axis=0).max()) if per_seed.size else 0.0
    return MethodOutput(mean, scale=f"Elo rating (K={k:g}, mean of {n_seeds} orders)",
                        diagnostics=FitDiagnostics(comparisons=int(a.size), seed_sd_max=spread))


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
    present = ev.samples_per_model() > 0
    scores, res = kemeny_scores(above, present=present, exact_limit=exact_limit, time_limit=time_limit)
    notes = []
    if res.optimal_orders is not None and res.optimal_orders > 1:
        notes.append(f"kemeny: {res.optimal_orders:,} optimal orders; a model ranks at the best position it holds "
                     "in any of them, so models that swap places between optimal orders can share a rank")
    elif res.optimal_orders is None and res.exact and res.method == "milp":
        notes.append("kemeny: optimal orders not counted (more candidates than the exhaustive count handles); "
                     "neighbours that can swap in an optimal order share a rank")
    return MethodOutput(scores, scale="Kemeny position (n = first)", notes=notes,
                        diagnostics=FitDiagnostics(kemeny_exact=res.exact, kemeny_agreement=res.agreement,
                                                   kemeny_upper_bound=res.upper_bound, kemeny_solver=res.method,
                                                   kemeny_optimal_orders=res.optimal_orders, converged=res.exact))


def _borda_mteb(ev: Evidence) -> MethodOutput:
    """As mteb's leaderboard (`_create_summary_table`): a task ranks every model by its mean over
    the samples it has; n_models = models with at least one complete task (its table's rows)."""
    _, table, sign = task_score_table(ev)
    complete = task_complete(ev)
    n_rows = int(complete.any(axis=0).sum())
    notes = []
    partial = int((~complete.any(axis=0) & ~np.all(np.isnan(table), axis=0)).sum())
    if partial:
        notes.append(f"borda-mteb: {partial} model(s) have no task with every sample (split/subset) other models "
                     "have; as on the MTEB leaderboard they take part in each task's ranking but not in n_models")
    return MethodOutput(borda_mteb_scores(table * sign[:, None], n_models=n_rows), scale="MTEB Borda points",
                        notes=notes)


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


def _pl_interval_work(ev: Evidence, kind: str) -> float:
    """Work of PL's intervals relative to one pass over the measurements: the diagonal is one pass
    (1); the exact information holds sum over ballots of size x levels risk-set entries (at most
    size (size + 1) / 2), plus an inversion of k x k."""
    if kind == "fisher-diagonal":
        return 1.0
    sizes = ev.sizes().astype(np.float64)
    entries = float((sizes * (sizes + 1) / 2).sum())
    return (entries + ev.n_models ** 3 / 100) / max(ev.n_measurements, 1)


_ALPHA = Param("alpha", 0.01, "L2 prior precision on the strengths (0 = plain maximum likelihood)", low=0.0)
_LIKELIHOOD = Capabilities(intervals=("fisher",), needs_connected=True)

METHODS: dict[str, Method] = {
    m.name: m
    for m in [
        Method("plackett-luce", _plackett_luce,
               "rank-ordered logit on per-sample partial orders, ties by Breslow's rule, L2 prior alpha, "
               "read best-first and worst-first (direction=both) or best-first only (forward)",
               (_ALPHA,
                Param("tol", 1e-7, "gradient tolerance (max |gradient| / number of choices)", low=0.0, low_open=True),
                Param("max_iter", 1000, "iterations at most", kind=int, low=1),
                Param("direction", "both", "read ballots best-first and worst-first, or best-first only", kind=str,
                      choices=("both", "forward"))),
               Capabilities(intervals=("fisher", "fisher-diagonal"), needs_connected=True), _pl_interval_work),
        Method("bradley-terry", _bradley_terry,
               "BT logistic MLE on explicit judgements + rank-broken pairs; arena=True for Chatbot Arena's fit",
               (_ALPHA,
                Param("ties", "half", "a tie counts half a win each way, a full win both ways, or nothing", kind=str,
                      choices=("half", "both", "ignore")),
                Param("arena", False, "Chatbot Arena's unpenalised fit on its rating scale (alpha is then 0)",
                      kind=bool),
                Param("rank_break", True, "also use the pairs broken out of every ballot", kind=bool)),
               _LIKELIHOOD),
        Method("elo", _elo, "online Elo over all comparisons in random orders, averaged over seeds",
               (Param("k", 4.0, "K factor: rating change per unexpected result", low=0.0, low_open=True),
                Param("n_seeds", 10, "random orders averaged", kind=int, low=1)),
               Capabilities(needs_connected=True, seeded=True)),
        Method("borda", _borda, "Borda count over ballots (truncated ballots, ties half)"),
        Method("copeland", _copeland, "pairwise majority wins"),
        Method("schulze", _schulze, "Schulze beatpath (link strength: margin or winning votes)",
               (Param("strength", "margin", "link strength of a majority", kind=str, choices=("margin", "winning")),)),
        Method("ranked-pairs", _ranked_pairs, "Tideman ranked pairs (margins)"),
        Method("kemeny", _kemeny, "Kemeny-Young: exact (exhaustive up to 16 candidates, then integer programming "
               "with scipy milp up to exact_limit); models that lead some optimal order share the first rank",
               (Param("exact_limit", 30, "largest number of candidates solved exactly", kind=int, low=0),
                Param("time_limit", 60.0, "seconds for the integer programme", low=0.0, low_open=True))),
        Method("borda-mteb", _borda_mteb, "MTEB leaderboard Borda (n_models - rank per task, missing = 0)",
               capabilities=Capabilities(pairwise=False, task_scores=True)),
        Method("mean", _mean, "mean of per-task mean scores",
               capabilities=Capabilities(pairwise=False, task_scores=True)),
        Method("normalized-mean", _normalized_mean, "mean of min-max (or random-baseline) normalised task scores",
               (Param("normalization", "minmax", "min-max over the models, or against a random baseline", kind=str,
                      choices=("minmax", "baseline")),
                Param("baselines", None, "task -> random-guess score (normalization=baseline)", kind=dict,
                      optional=True),
                Param("upper", 1.0, "best possible score (normalization=baseline)")),
               Capabilities(pairwise=False, task_scores=True)),
        Method("mean-rank", _mean_rank, "mean rank over ballots"),
        Method("win-rate", _win_rate, "pooled pairwise win rate"),
    ]
}
