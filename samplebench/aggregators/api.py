"""`fit(evidence, method, **params) -> Ranking`: plan, fit each component, attach intervals, assemble.

`fit` reads what a method declares (`methods.Method`: parameters and capabilities) and never
branches on its name. Its keyword arguments are of two kinds that never share a name: the fit
options below (`methods.FIT_OPTIONS`), and the method's own parameters (validated up front and
reported in `Ranking.params` exactly as used; a randomised method takes the fit's `seed`).

Who votes (`level`):
* `sample` (default): every ballot (one sample's partial order, or one explicit judgement) votes;
* `task`: every (task, metric) votes with the models ordered by their mean score on it;
* `two`: the method ranks models within each task, then ranks them again over the per-task
  rankings (each task's ranking is one ballot), as in "What are the best systems?".

Uncertainty (`ci`):
* `auto` (default): `bootstrap` when `bootstrap > 0`, else the first analytic interval kind the
  method declares that costs no more than a few passes over the measurements (about the fit:
  `AUTO_WORK_PER_MEASUREMENT`, `FISHER_AUTO_LIMIT`), else its cheapest one, else none.
  Plackett-Luce: the exact `fisher` on small or sparse evidence, `fisher-diagonal` beyond;
* `fisher`: Wald intervals theta_i ± z se_i in the sum-zero gauge, se from the inverse observed
  information (the sandwich H^-1 J H^-1 for two-way PL); rank intervals from seeded draws of
  N(theta, Cov). Exact, and costs a k x k matrix (more than the fit on large evidence);
* `fisher-diagonal` (PL): the same from the diagonal of the information only (see
  `plackett_luce`): O(#measurements), no k x k matrix, so it never costs more than the fit;
* `bootstrap`: `bootstrap=B` resamples ballots (and judgements) with replacement *within each
  task* (a stratified bootstrap: the tasks are fixed, their samples are the random part, so a
  sum over tasks such as Borda points keeps its scale), refits, and takes percentile intervals
  of scores and ranks; replicates run on `n_jobs` threads with seeds spawned from `seed`, so
  results do not depend on `n_jobs`; `resample="tasks"` instead draws whole tasks with
  replacement (each copy counted as a task of its own): uncertainty over which tasks the
  benchmark happened to include — the useful choice when every task holds a single score.

Statistically tied groups: walking down the ranking, a model joins the current group while its
interval overlaps the interval of the group's first model. Models that never won or never lost a
comparison are flagged (`RankedModel.never_won` / `never_lost`, `Diagnostics.no_wins` /
`no_losses`): their scores are bounds.

Comparison graph: models are linked when they share a ballot or a judgement. When it has more
than one component, methods that need a connected graph (scores defined up to a shift per
component: PL, BT, Elo) either refuse (`on_disconnected="refuse"`, default) or fit each component
on its own (`"per-component"`: ranks restart at 1 in each component and
`diagnostics.component_of` says which); other rules run on any profile, and say so in the notes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import SampleBenchError, closest_names
from .evidence import Evidence
from .evidence_ops import (
    RESAMPLE_UNITS,
    comparison_components,
    competition_ranks,
    task_level_evidence,
    two_level_evidence,
    win_loss_presence,
)
from .intervals import BOOTSTRAP_MEMORY_LIMIT, bootstrap_scores, tied_groups, wald_intervals
from .methods import INTERVAL_KINDS, METHODS, Method, MethodOutput
from .ranking import Diagnostics, FitDiagnostics, RankedModel, Ranking

LEVELS = ("sample", "task", "two")
CI_KINDS = ("auto", *INTERVAL_KINDS, "bootstrap", "none")
DISCONNECTED = ("refuse", "per-component")
# ci="auto" takes the first interval kind the method declares whose work (`Method.interval_work`,
# in passes over the measurements) stays within these: a few passes, about what the fit costs,
# and an absolute cap. PL: exact sandwich on small or sparse evidence, the diagonal beyond.
AUTO_WORK_PER_MEASUREMENT = 4.0
FISHER_AUTO_LIMIT = 3e7
INTERVAL_NOTES = {
    "fisher-diagonal": "intervals from the diagonal of the information: each model's interval treats the others' "
                       "strengths as known (no variance below the model-based 1/I_ii, so sparse models stay wide); "
                       "exact ones: ci='fisher' (--ci fisher) or --bootstrap N",
}


def get_method(name: str) -> Method:
    if name not in METHODS:
        close = closest_names(name, set(METHODS))
        raise SampleBenchError(f"unknown aggregation method '{name}'",
                               hint=f"closest: {close}" if close else f"choose one of {', '.join(METHODS)}")
    return METHODS[name]


@dataclass(frozen=True)
class FitOptions:
    """The fit's own options (never a method's parameters), validated."""

    level: str = "sample"
    ci: str = "auto"
    bootstrap: int = 0
    resample: str = "samples"
    confidence: float = 0.95
    seed: int = 0
    n_jobs: int = 1
    on_disconnected: str = "refuse"
    progress: bool = False

    def __post_init__(self) -> None:
        for name, allowed in (("level", LEVELS), ("ci", CI_KINDS), ("resample", RESAMPLE_UNITS),
                              ("on_disconnected", DISCONNECTED)):
            if getattr(self, name) not in allowed:
                raise SampleBenchError(f"{name} must be one of {', '.join(allowed)}, got '{getattr(self, name)}'")
        for name, low in (("bootstrap", 0), ("n_jobs", 1), ("seed", 0)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < low:
                raise SampleBenchError(f"{name} must be an integer >= {low}, got {v!r}")
        if not isinstance(self.confidence, float | int) or not 0 < self.confidence < 1:
            raise SampleBenchError(f"confidence must be in (0, 1), got {self.confidence}")


@dataclass
class Plan:
    """What `fit` will do: the evidence that votes, the models with data, the components fitted
    (one group, or one per component), the interval kind, and notes."""

    ev: Evidence
    active: np.ndarray
    n_samples: np.ndarray  # per model: ballots + judgements it is in
    n_comparisons: np.ndarray  # per model: co-members over its ballots + judgements
    comps: list[list[int]]
    groups: list[list[int]]
    interval: str
    notes: list[str]


def _plan(evidence: Evidence, m: Method, params: dict[str, Any], o: FitOptions) -> Plan:
    caps = m.capabilities
    notes = list(evidence.notes)
    ev = evidence
    if o.level != "sample" and caps.task_scores:
        notes.append(f"{m.name} always works on task scores; level '{o.level}' changes nothing")
    elif o.level == "task":
        ev = task_level_evidence(evidence)
    elif o.level == "two":
        def score(sub: Evidence) -> tuple[np.ndarray, bool]:
            out = m.run(sub, params, o.seed)
            return out.scores, out.lower_is_better

        ev = two_level_evidence(evidence, score)
        notes.append("level two: each task's ballots ranked by the method, then one ballot per task")
    if ev.n_models == 0 or (ev.n_measurements == 0 and ev.n_pairs == 0):
        raise SampleBenchError("no measurements to aggregate in the selection",
                               hint="check --models/--tasks/--tag/--metrics against `bench results list`")
    n_samples, n_comparisons = ev.model_counts()
    active = n_samples > 0
    dropped = [ev.models[i] for i in np.flatnonzero(~active)]
    if dropped:
        notes.append(f"left out (no measurement in the selection): {', '.join(dropped)}")
    comps = comparison_components(ev, active)
    if len(comps) > 1:
        names = [[ev.models[i] for i in c] for c in comps]
        if caps.needs_connected and o.on_disconnected == "refuse":
            shown = "; ".join("{" + ", ".join(c[:4]) + (", ..." if len(c) > 4 else "") + "}" for c in names[:4])
            raise SampleBenchError(
                f"the comparison graph is disconnected ({len(comps)} components: {shown}); "
                f"{m.name} scores of different components are not comparable",
                hint="add samples that several components share, or pass --on-disconnected per-component "
                     "(python: on_disconnected='per-component') to rank each component separately",
            )
        if not caps.needs_connected:
            notes.append(f"comparison graph has {len(comps)} components; {m.name} ranks them together, but "
                         "models that never shared a sample were not compared directly")
    interval = _interval_kind(m, ev, o)
    if interval in INTERVAL_NOTES:
        notes.append(INTERVAL_NOTES[interval])
    if interval == "bootstrap":
        need = o.bootstrap * ev.n_models * 12  # float64 scores + int32 ranks per replicate and model
        if need > BOOTSTRAP_MEMORY_LIMIT:
            most = int(BOOTSTRAP_MEMORY_LIMIT // (ev.n_models * 12))
            raise SampleBenchError(f"--bootstrap {o.bootstrap} would keep {need / 1e9:.1f} GB of replicates for "
                                   f"{ev.n_models:,} models", hint=f"use at most --bootstrap {most:,}")
        if o.resample == "samples" and ev.n_samples and np.bincount(ev.sample_task).max(initial=0) <= 1:
            notes.append("every task holds one sample, so resampling samples within tasks cannot vary anything: "
                         "the intervals have zero width; resample='tasks' (--resample tasks) asks instead how the "
                         "ranking depends on which tasks were included")
    groups = comps if (len(comps) > 1 and caps.needs_connected) else [list(np.flatnonzero(active))]
    return Plan(ev, active, n_samples, n_comparisons, comps, groups, interval, notes)


def _interval_kind(m: Method, ev: Evidence, o: FitOptions) -> str:
    kinds = m.capabilities.intervals
    if o.ci == "auto":
        if o.bootstrap > 0:
            return "bootstrap"
        affordable = [k for k in kinds if m.interval_work is None or m.interval_work(ev, k) <= min(
            AUTO_WORK_PER_MEASUREMENT, FISHER_AUTO_LIMIT / max(ev.n_measurements, 1))]
        return affordable[0] if affordable else (kinds[-1] if kinds else "none")
    if o.ci == "bootstrap" and o.bootstrap <= 0:
        raise SampleBenchError("ci='bootstrap' needs bootstrap=N replicates (--bootstrap N)")
    if o.ci in INTERVAL_KINDS and o.ci not in kinds:
        has = f"its analytic intervals: {', '.join(kinds)}" if kinds else "it has no analytic interval"
        raise SampleBenchError(f"method '{m.name}' has no ci='{o.ci}' ({has})", hint="use --bootstrap N")
    return o.ci


@dataclass
class ComponentFit:
    """One component's scores, ranks and intervals, on the evidence's model indices."""

    models: np.ndarray
    out: MethodOutput
    scores: np.ndarray
    ranks: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    rank_lo: np.ndarray
    rank_hi: np.ndarray


PROGRESS_MEASUREMENTS, PROGRESS_MODELS = 1_000_000, 2_000  # from these sizes on, stages go to stderr


def _stage(o: FitOptions, ev: Evidence, what: str) -> None:
    """One progress line on stderr for a large fit (`progress=True`, as `bench aggregate` sets)."""
    if o.progress and (ev.n_measurements >= PROGRESS_MEASUREMENTS or ev.n_models >= PROGRESS_MODELS):
        import sys
        import time

        print(f"[{time.strftime('%H:%M:%S')}] {what}", file=sys.stderr, flush=True)


def _fit_component(plan: Plan, comp: list[int], m: Method, params: dict[str, Any], o: FitOptions) -> ComponentFit:
    ev = plan.ev
    _stage(o, ev, f"{m.name}: fitting {len(comp):,} models on {ev.n_measurements:,} measurements")
    comp_arr = np.asarray(comp, np.int64)
    whole = len(plan.groups) == 1
    sub = ev if whole else ev.restrict_models([ev.models[i] for i in comp])
    local = comp_arr if whole else np.arange(sub.n_models)
    out = m.run(sub, params, o.seed)
    on = np.zeros(sub.n_models, bool)
    on[local] = True
    s = np.where(on, out.scores, np.nan)
    k = comp_arr.size
    nan = np.full(k, np.nan)
    lo, hi, rlo, rhi = nan, nan.copy(), np.zeros(k, np.int64), np.zeros(k, np.int64)
    if plan.interval in INTERVAL_KINDS and k > 1:
        _stage(o, ev, f"{m.name}: {plan.interval} intervals")
        a, b, c, d = wald_intervals(s, on, o.confidence, o.seed, factor=out.factor,
                                    lower_is_better=out.lower_is_better, **out.interval_source(plan.interval))
        lo, hi, rlo, rhi = a[local], b[local], c[local], d[local]
    elif plan.interval == "bootstrap":
        def run(e: Evidence) -> tuple[np.ndarray, bool]:
            r = m.run(e, params, o.seed)
            return r.scores, r.lower_is_better

        bs, br = bootstrap_scores(sub, run, o.bootstrap, o.seed, o.n_jobs, o.resample, o.progress)
        q = (1 - o.confidence) / 2
        with np.errstate(all="ignore"):
            lo = np.nanquantile(bs[:, local], q, axis=0)
            hi = np.nanquantile(bs[:, local], 1 - q, axis=0)
            brl = np.where(br[:, local] > 0, br[:, local], np.nan)
            rlo = np.floor(np.nanquantile(brl, q, axis=0)).astype(np.int64)
            rhi = np.ceil(np.nanquantile(brl, 1 - q, axis=0)).astype(np.int64)
    return ComponentFit(comp_arr, out, s[local], competition_ranks(s, out.lower_is_better)[local], lo, hi, rlo, rhi)


def fit(evidence: Evidence, method: str = "plackett-luce", *, level: str = "sample", ci: str = "auto",
        bootstrap: int = 0, resample: str = "samples", confidence: float = 0.95, seed: int = 0, n_jobs: int = 1,
        on_disconnected: str = "refuse", progress: bool = False, **params: Any) -> Ranking:
    """Rank the models of `evidence` with `method` (see `METHODS`); `params` are the method's own."""
    m = get_method(method)
    o = FitOptions(level, ci, bootstrap, resample, confidence, seed, n_jobs, on_disconnected, progress)
    used = m.validate(params)
    plan = _plan(evidence, m, used, o)
    parts = [_fit_component(plan, comp, m, used, o) for comp in plan.groups]
    return _assemble(plan, parts, m, used, o)


def _assemble(plan: Plan, parts: list[ComponentFit], m: Method, used: dict[str, Any], o: FitOptions) -> Ranking:
    ev, n = plan.ev, plan.ev.n_models
    scores, lo, hi = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
    ranks, rlo, rhi = np.zeros(n, np.int64), np.zeros(n, np.int64), np.zeros(n, np.int64)
    component_of: dict[str, int] = {}
    for c, p in enumerate(parts):
        idx = p.models
        scores[idx], ranks[idx], lo[idx], hi[idx], rlo[idx], rhi[idx] = (p.scores, p.ranks, p.lo, p.hi, p.rank_lo,
                                                                        p.rank_hi)
        if len(parts) > 1:
            component_of.update({ev.models[i]: c for i in idx})
    lower = parts[0].out.lower_is_better
    n_samp, n_comp = plan.n_samples, plan.n_comparisons
    won, lost = win_loss_presence(ev, plan.active)
    has_ci = plan.interval != "none"
    models = [RankedModel(
        model=ev.models[i], score=float(scores[i]), rank=int(ranks[i]),
        ci_low=float(lo[i]) if has_ci and not np.isnan(lo[i]) else None,
        ci_high=float(hi[i]) if has_ci and not np.isnan(hi[i]) else None,
        rank_ci=(int(rlo[i]), int(rhi[i])) if has_ci and rlo[i] > 0 else None,
        n_samples=int(n_samp[i]), n_comparisons=int(n_comp[i]), never_won=not won[i], never_lost=not lost[i],
    ) for i in np.flatnonzero(plan.active) if not np.isnan(scores[i])]
    models.sort(key=lambda r: (component_of.get(r.model, 0), r.rank, r.model))
    index = {name: i for i, name in enumerate(ev.models)}
    tg: list[list[str]] = []
    if has_ci:
        for p in parts:
            members = set(p.models.tolist())
            order = [index[r.model] for r in models if index[r.model] in members]
            tg.extend([[ev.models[i] for i in g] for g in tied_groups(order, lo, hi, lower)])
    fits = [p.out.diagnostics for p in parts]
    own = fits[0].model_dump() if len(fits) == 1 else {
        "converged": all(f.converged for f in fits) if all(f.converged is not None for f in fits) else None}
    notes = list(dict.fromkeys([*plan.notes, *(note for p in parts for note in p.out.notes)]))
    act = np.flatnonzero(plan.active)
    diagnostics = Diagnostics(
        **own, connected=len(plan.comps) <= 1,
        components=[[ev.models[i] for i in c] for c in plan.comps] if len(plan.comps) > 1 else [],
        component_of=component_of, per_component=fits if len(fits) > 1 else [],
        no_wins=[ev.models[i] for i in act if not won[i]], no_losses=[ev.models[i] for i in act if not lost[i]],
        tied_groups=tg, evidence=ev.summary(), lower_is_better=lower, ci_method=plan.interval, notes=notes,
    )
    params_out = {**used, **parts[0].out.used, "level": o.level, "ci": plan.interval}
    if has_ci:
        params_out["confidence"] = o.confidence
    if has_ci or m.capabilities.seeded:
        params_out["seed"] = o.seed
    if plan.interval == "bootstrap":
        params_out.update(bootstrap=o.bootstrap, resample=o.resample)
    return Ranking(method=m.name, params=params_out, score_scale=parts[0].out.scale, models=models,
                   diagnostics=diagnostics)


__all__ = ["CI_KINDS", "LEVELS", "RESAMPLE_UNITS", "FitDiagnostics", "fit", "get_method"]
