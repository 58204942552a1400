"""`fit(evidence, method, **params) -> Ranking`: levels, components, intervals, diagnostics.

Who votes (`level`):
* `sample` (default): every ballot (one sample's partial order, or one explicit judgement) votes;
* `task`: every (task, metric) votes with the models ordered by their mean score on it;
* `two`: the method ranks models within each task, then ranks them again over the per-task
  rankings (each task's ranking is one ballot), as in "What are the best systems?".

Uncertainty (`ci`):
* `fisher` (PL, BT): Wald intervals theta_i ± z se_i in the sum-zero gauge, se from the inverse
  observed information (the sandwich H^-1 J H^-1 for two-way PL); rank intervals from 4,000
  draws of N(theta, Cov) (seeded);
* `bootstrap`: `bootstrap=B` resamples ballots (and judgements) with replacement *within each
  task* (a stratified bootstrap: the tasks are fixed, their samples are the random part, so a
  sum over tasks such as Borda points keeps its scale), refits, and takes percentile intervals
  of scores and ranks; replicates run on `n_jobs` threads with seeds spawned from `seed`, so
  results do not depend on `n_jobs`;
  `resample="tasks"` instead draws whole tasks with replacement (each copy counted as a task
  of its own): uncertainty over which tasks the benchmark happened to include — the useful
  choice when every task holds a single score, as in an MTEB leaderboard table;
* `fisher-diagonal` (PL): Wald intervals from the diagonal of the information only (1/I_ii, or
  J_ii/I_ii^2 for two-way PL; see `plackett_luce` docstring): O(#measurements) instead of the
  exact information's sum over ballots of size x levels;
* `auto`: bootstrap when `bootstrap > 0`, else fisher when the method has it, else none; for PL
  when the exact information needs more than `FISHER_AUTO_LIMIT` risk-set entries,
  `fisher-diagonal` (with a note).

Statistically tied groups: walking down the ranking, a model joins the current group while its
interval overlaps the interval of the group's first model.

Comparison graph: models are linked when they share a ballot or a judgement. When it has more
than one component, methods whose scores are only defined up to a shift per component (PL, BT,
Elo) either refuse (`on_disconnected="refuse"`, default) or fit each component on its own
(`"per-component"`: ranks restart at 1 in each component and `diagnostics.component_of` says
which); rules that are defined on any profile (Borda, ...) still run, and say so in the notes.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

import numpy as np

from ..errors import SampleBenchError, closest_names
from .evidence import Evidence, EvidenceBuilder
from .methods import METHODS, Method, MethodOutput
from .ranking import Diagnostics, RankedModel, Ranking

LEVELS = ("sample", "task", "two")
FISHER_AUTO_LIMIT = 3e7  # risk-set entries above which ci="auto" uses PL's diagonal information
CI_KINDS = ("auto", "fisher", "fisher-diagonal", "bootstrap", "none")


def get_method(name: str) -> Method:
    if name not in METHODS:
        close = closest_names(name, set(METHODS))
        raise SampleBenchError(f"unknown aggregation method '{name}'",
                               hint=f"closest: {close}" if close else f"choose one of {', '.join(METHODS)}")
    return METHODS[name]


def _check_params(method: Method, params: dict[str, Any]) -> None:
    unknown = sorted(set(params) - set(method.defaults))
    if unknown:
        allowed = ", ".join(method.defaults) or "none"
        raise SampleBenchError(f"method '{method.name}' has no parameter(s) {', '.join(unknown)}",
                               hint=f"its parameters: {allowed}")


# -- levels ----------------------------------------------------------------------------------
def task_level_evidence(ev: Evidence) -> Evidence:
    """One ballot per (task, metric): models ordered by their mean value there (direction-aware).

    Explicit judgements of a task become one ballot ordered by each model's win rate in it.
    """
    from .baselines import task_score_table

    labels, table, sign = task_score_table(ev)
    b = EvidenceBuilder(ev.models, tasks=ev.tasks, metrics=ev.metrics, higher_is_better=ev.higher_is_better)
    task_i = {t: i for i, t in enumerate(ev.tasks)}
    metric_i = {m: i for i, m in enumerate(ev.metrics)}
    for c, (t, m) in enumerate(labels):
        row = table[c]
        ok = np.flatnonzero(~np.isnan(row))
        b.add_ballots(np.zeros(ok.size, np.int64), ok, row[ok], oriented=row[ok] * sign[c],
                      sample_task=task_i[t], sample_metric=metric_i[m])
    if ev.n_pairs:
        for t in np.unique(ev.pair_task):
            sel = ev.pair_task == t
            a, bb, o = ev.pair_a[sel], ev.pair_b[sel], ev.pair_outcome[sel]
            n = ev.n_models
            wins = np.bincount(a, weights=o, minlength=n) + np.bincount(bb, weights=1 - o, minlength=n)
            games = np.bincount(a, minlength=n) + np.bincount(bb, minlength=n)
            ok = np.flatnonzero(games > 0)
            rate = wins[ok] / games[ok]
            b.add_ballots(np.zeros(ok.size, np.int64), ok, rate, sample_task=int(t), sample_metric=0)
        if not b.metrics:
            b.metric_index("win_rate")
    out = b.build()
    out.notes = list(ev.notes)
    return out


def _ranks(scores: np.ndarray, lower_is_better: bool) -> np.ndarray:
    """Competition ranks ("min"): tied scores share the smaller rank; NaN -> 0 (unranked)."""
    from scipy.stats import rankdata

    out = np.zeros(scores.size, np.int64)
    ok = ~np.isnan(scores)
    if ok.any():
        key = scores[ok] if lower_is_better else -scores[ok]
        out[ok] = rankdata(np.round(key, 12), method="min").astype(np.int64)
    return out


# -- graph -----------------------------------------------------------------------------------
def comparison_components(ev: Evidence, active: np.ndarray) -> list[list[int]]:
    """Connected components (model indices) of the co-occurrence graph among `active` models.

    Each ballot links its first member to every other member (a star spans the ballot). The
    ballots are read in growing prefixes: adding edges can only merge components, so once a
    prefix (plus the explicit judgements) connects every active model the full graph does too,
    and the rest is not read — large evidence is typically connected after a few percent.
    """
    import scipy.sparse as sp
    from scipy.sparse.csgraph import connected_components

    n = ev.n_models
    sizes = ev.sizes()
    starts = ev.offsets[:-1]
    pair_edges = np.bincount(ev.pair_a.astype(np.int64) * n + ev.pair_b, minlength=n * n)
    n_active = int(np.count_nonzero(active))
    n_b = sizes.size
    stop = min(n_b, 4096)
    while True:
        nonempty = sizes[:stop] > 0
        end = int(ev.offsets[stop])
        first = np.repeat(ev.member_model[starts[:stop][nonempty]], sizes[:stop][nonempty]).astype(np.int64)
        # deduplicate edges with one bincount over the n x n grid (no sort of the members)
        seen = np.bincount(first * n + ev.member_model[:end], minlength=n * n) + pair_edges
        rows, cols = np.divmod(np.flatnonzero(seen), n)
        g = sp.coo_matrix((np.ones(rows.size), (rows, cols)), shape=(n, n)).tocsr()
        _, labels = connected_components(g, directed=False)
        if stop >= n_b or np.unique(labels[active]).size == 1 and n_active > 0:
            break
        stop = min(n_b, stop * 8)
    comps: dict[int, list[int]] = {}
    for i in np.flatnonzero(active):
        comps.setdefault(int(labels[i]), []).append(int(i))
    return sorted(comps.values(), key=lambda c: (-len(c), c[0]))


def win_loss_presence(ev: Evidence, active: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Whether each model ever beat / ever lost to another model (ballots and judgements).

    With `active` (the models that have data), ballots are read in growing prefixes and reading
    stops once every active model has both won and lost (exact: later ballots cannot undo that).
    """
    n = ev.n_models
    o = ev.pair_outcome
    won = np.bincount(np.r_[ev.pair_a[o == 1], ev.pair_b[o == 0]].astype(np.int64), minlength=n) > 0
    lost = np.bincount(np.r_[ev.pair_b[o == 1], ev.pair_a[o == 0]].astype(np.int64), minlength=n) > 0
    n_levels = ev.n_levels()
    sizes = ev.sizes()
    n_b = sizes.size
    lo_b, hi_b = 0, n_b if active is None else min(n_b, 4096)
    while lo_b < n_b:
        a, b = int(ev.offsets[lo_b]), int(ev.offsets[hi_b])
        last = np.repeat(n_levels[lo_b:hi_b] - 1, sizes[lo_b:hi_b])
        lv, mm = ev.member_level[a:b], ev.member_model[a:b]
        won |= np.bincount(mm[lv < last], minlength=n) > 0
        lost |= np.bincount(mm[lv > 0], minlength=n) > 0
        if active is not None and (won | ~active).all() and (lost | ~active).all():
            break
        lo_b, hi_b = hi_b, min(n_b, hi_b * 8)
    return won, lost


# -- intervals -------------------------------------------------------------------------------
def _z(confidence: float) -> float:
    from scipy.stats import norm

    return float(norm.ppf(0.5 + confidence / 2))


def fisher_intervals(out: MethodOutput, active: np.ndarray, confidence: float, seed: int,
                     n_draws: int = 4000, diagonal: bool = False
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(ci_low, ci_high, rank_low, rank_high) from Cov(theta) (inverse information or sandwich,
    or its diagonal approximation when `diagonal`), projected on the sum-zero gauge."""
    src = out.covariance_diagonal if diagonal else out.covariance
    full = src.get() if hasattr(src, "get") else src
    idx = np.flatnonzero(active)
    k = idx.size
    cov = full[np.ix_(idx, idx)]
    J = np.eye(k) - 1.0 / k
    cov = J @ cov @ J
    se = np.sqrt(np.clip(np.diag(cov), 0, None)) * out.factor
    z = _z(confidence)
    lo = np.full(out.scores.size, np.nan)
    hi = np.full(out.scores.size, np.nan)
    lo[idx] = out.scores[idx] - z * se
    hi[idx] = out.scores[idx] + z * se
    rng = np.random.default_rng(seed)
    if diagonal:
        # N(0, D) draws centred per draw are N(0, J D J): no eigendecomposition needed
        noise = rng.standard_normal((n_draws, k)) * np.sqrt(np.clip(np.diag(full)[idx], 0, None))
        noise -= noise.mean(axis=1, keepdims=True)
    else:
        w, v = np.linalg.eigh((cov + cov.T) / 2)
        noise = rng.standard_normal((n_draws, k)) @ (v * np.sqrt(np.clip(w, 0, None))).T
    draws = out.scores[idx][None, :] / out.factor + noise
    del noise
    by_rank = np.argsort(-draws if not out.lower_is_better else draws, axis=1)
    order = np.empty_like(by_rank)
    np.put_along_axis(order, by_rank, np.broadcast_to(np.arange(1, k + 1), by_rank.shape), axis=1)
    a = (1 - confidence) / 2
    rl = np.zeros(out.scores.size, np.int64)
    rh = np.zeros(out.scores.size, np.int64)
    rl[idx] = np.floor(np.quantile(order, a, axis=0)).astype(np.int64)
    rh[idx] = np.ceil(np.quantile(order, 1 - a, axis=0)).astype(np.int64)
    return lo, hi, rl, rh


def resample_within(rng: np.random.Generator, strata: np.ndarray) -> np.ndarray:
    """Indices drawn with replacement inside each stratum, as many per stratum as it has."""
    n = strata.size
    if n == 0:
        return np.zeros(0, np.int64)
    order = np.argsort(strata, kind="stable")
    ordered = strata[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    sizes = np.diff(np.r_[starts, n])
    offset = np.minimum((rng.random(n) * np.repeat(sizes, sizes)).astype(np.int64), np.repeat(sizes, sizes) - 1)
    return order[np.repeat(starts, sizes) + offset]


def resample_tasks(rng: np.random.Generator, ev: Evidence) -> Evidence:
    """Whole tasks drawn with replacement; every drawn copy is a task of its own (so sums keep scale)."""
    present = np.union1d(np.unique(ev.sample_task), np.unique(ev.pair_task))
    draws = rng.choice(present, size=present.size, replace=True)
    idx, pidx, new_task, new_pair_task = [], [], [], []
    for copy, t in enumerate(draws):
        s = np.flatnonzero(ev.sample_task == t)
        p = np.flatnonzero(ev.pair_task == t)
        idx.append(s)
        pidx.append(p)
        new_task.append(np.full(s.size, copy, np.int64))
        new_pair_task.append(np.full(p.size, copy, np.int64))
    names = [f"{ev.tasks[t]}#{copy}" for copy, t in enumerate(draws)] if ev.tasks else []
    hib = {(f"{ev.tasks[t]}#{copy}", m): v for copy, t in enumerate(draws) for (task, m), v in
           ev.higher_is_better.items() if ev.tasks and task == ev.tasks[t]}
    return replace(ev.take_samples(np.concatenate(idx), keep_pairs=np.concatenate(pidx)),
                   sample_task=np.concatenate(new_task), pair_task=np.concatenate(new_pair_task),
                   tasks=names, higher_is_better=hib)


RESAMPLE_UNITS = ("samples", "tasks")


def bootstrap_scores(ev: Evidence, run, B: int, seed: int, n_jobs: int = 1,
                     resample: str = "samples") -> tuple[np.ndarray, np.ndarray]:
    """Scores and ranks of `run(evidence)` on B resamples: samples within each task, or whole tasks."""
    seqs = np.random.SeedSequence(seed).spawn(B)

    def one(ss: np.random.SeedSequence) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng(ss)
        if resample == "tasks":
            out = run(resample_tasks(rng, ev))
        else:
            idx = resample_within(rng, ev.sample_task)
            pidx = resample_within(rng, ev.pair_task)
            out = run(ev.take_samples(idx, keep_pairs=pidx))
        return out.scores, _ranks(out.scores, out.lower_is_better)

    if n_jobs > 1:
        with ThreadPoolExecutor(n_jobs) as pool:
            res = list(pool.map(one, seqs))
    else:
        res = [one(s) for s in seqs]
    return np.array([r[0] for r in res]), np.array([r[1] for r in res])


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


# -- fit -------------------------------------------------------------------------------------
def fit(
    evidence: Evidence,
    method: str = "plackett-luce",
    *,
    level: str = "sample",
    ci: str = "auto",
    bootstrap: int = 0,
    resample: str = "samples",
    confidence: float = 0.95,
    seed: int = 0,
    n_jobs: int = 1,
    on_disconnected: str = "refuse",
    **params: Any,
) -> Ranking:
    """Rank the models of `evidence` with `method` (see `METHODS`) and attach intervals and diagnostics."""
    m = get_method(method)
    _check_params(m, params)
    if level not in LEVELS:
        raise SampleBenchError(f"level must be one of {', '.join(LEVELS)}, got '{level}'")
    if ci not in CI_KINDS:
        raise SampleBenchError(f"ci must be one of {', '.join(CI_KINDS)}, got '{ci}'")
    if on_disconnected not in ("refuse", "per-component"):
        raise SampleBenchError("on_disconnected must be 'refuse' or 'per-component'")
    if not 0 < confidence < 1:
        raise SampleBenchError(f"confidence must be in (0, 1), got {confidence}")
    if resample not in RESAMPLE_UNITS:
        raise SampleBenchError(f"resample must be one of {', '.join(RESAMPLE_UNITS)}, got '{resample}'")
    notes = list(evidence.notes)
    ev = evidence
    if level == "task" and not m.task_level:
        ev = task_level_evidence(evidence)
    elif level == "two" and not m.task_level:
        ev = _two_level_evidence(evidence, m, params)
        notes.append("level two: each task's ballots ranked by the method, then one ballot per task")
    elif level != "sample" and m.task_level:
        notes.append(f"{m.name} always works on task scores; level '{level}' changes nothing")
    if ev.n_models == 0 or (ev.n_measurements == 0 and ev.n_pairs == 0):
        raise SampleBenchError("no measurements to aggregate in the selection",
                               hint="check --models/--tasks/--tag/--metrics against `bench results list`")
    n_samp = ev.samples_per_model()
    active = n_samp > 0
    dropped = [ev.models[i] for i in np.flatnonzero(~active)]
    if dropped:
        notes.append(f"left out (no measurement in the selection): {', '.join(dropped)}")
    comps = comparison_components(ev, active)
    diag_extra: dict[str, Any] = {}
    if len(comps) > 1:
        names = [[ev.models[i] for i in c] for c in comps]
        if m.needs_connected and on_disconnected == "refuse":
            shown = "; ".join("{" + ", ".join(c[:4]) + (", ..." if len(c) > 4 else "") + "}" for c in names[:4])
            raise SampleBenchError(
                f"the comparison graph is disconnected ({len(comps)} components: {shown}); "
                f"{m.name} scores of different components are not comparable",
                hint="add samples that several components share, or pass --on-disconnected per-component "
                     "(python: on_disconnected='per-component') to rank each component separately",
            )
        if not m.needs_connected:
            notes.append(f"comparison graph has {len(comps)} components; {m.name} ranks them together, but "
                         "models that never shared a sample were not compared directly")
    use_ci = ci
    if ci == "auto":
        use_ci = "bootstrap" if bootstrap > 0 else ("fisher" if m.fisher else "none")
    if ci == "auto" and use_ci == "fisher" and m.name == "plackett-luce":
        sizes = ev.sizes().astype(np.float64)
        work = float((sizes * (sizes + 1) / 2).sum())
        if work > FISHER_AUTO_LIMIT:
            use_ci = "fisher-diagonal"
            notes.append(f"intervals from the diagonal of the information (the exact matrix needs ~{work:,.0f} "
                         "risk-set entries): each model's interval treats the others' strengths as known; "
                         "ask for exact ones with ci='fisher' (--ci fisher) or --bootstrap N")
    if use_ci == "bootstrap" and bootstrap <= 0:
        raise SampleBenchError("ci='bootstrap' needs bootstrap=N replicates (--bootstrap N)")
    if use_ci == "bootstrap" and resample == "samples" and ev.n_samples and (
            np.bincount(ev.sample_task).max(initial=0) <= 1):
        notes.append("every task holds one sample, so resampling samples within tasks cannot vary anything: "
                     "the intervals have zero width; resample='tasks' (--resample tasks) asks instead how the "
                     "ranking depends on which tasks were included")
    if use_ci == "fisher" and not m.fisher:
        raise SampleBenchError(f"method '{m.name}' has no analytic interval", hint="use --bootstrap N")
    if use_ci == "fisher-diagonal" and m.name != "plackett-luce":
        raise SampleBenchError(f"ci='fisher-diagonal' is for plackett-luce, not '{m.name}'",
                               hint="use ci='fisher' or --bootstrap N")
    groups = comps if (len(comps) > 1 and m.needs_connected) else [list(np.flatnonzero(active))]
    n = ev.n_models
    scores = np.full(n, np.nan)
    ranks = np.zeros(n, np.int64)
    lo = np.full(n, np.nan)
    hi = np.full(n, np.nan)
    rlo = np.zeros(n, np.int64)
    rhi = np.zeros(n, np.int64)
    component_of: dict[str, int] = {}
    method_diag: dict[str, Any] = {}
    lower = False
    scale = ""

    def run(e: Evidence) -> MethodOutput:
        return m(e, **params)

    for ci_idx, comp in enumerate(groups):
        comp_arr = np.asarray(comp, np.int64)
        sub = ev if len(groups) == 1 else ev.restrict_models([ev.models[i] for i in comp])
        local = np.arange(sub.n_models) if len(groups) > 1 else comp_arr
        out = run(sub)
        lower, scale = out.lower_is_better, out.scale
        for k, v in out.diagnostics.items():
            method_diag[k if len(groups) == 1 else f"{k}[{ci_idx}]"] = v
        sub_active = np.zeros(sub.n_models, bool)
        sub_active[local] = True
        s = np.where(sub_active, out.scores, np.nan)
        target = comp_arr
        scores[target] = s[local]
        ranks[target] = _ranks(s, lower)[local]
        if len(groups) > 1:
            for i in comp:
                component_of[ev.models[i]] = ci_idx
        if use_ci in ("fisher", "fisher-diagonal") and sub_active.sum() > 1:
            a, b, c, d = fisher_intervals(out, sub_active, confidence, seed, diagonal=use_ci == "fisher-diagonal")
            lo[target], hi[target], rlo[target], rhi[target] = a[local], b[local], c[local], d[local]
        elif use_ci == "bootstrap":
            bs, br = bootstrap_scores(sub, run, bootstrap, seed, n_jobs, resample)
            q = (1 - confidence) / 2
            with np.errstate(all="ignore"):
                lo[target] = np.nanquantile(bs[:, local], q, axis=0)
                hi[target] = np.nanquantile(bs[:, local], 1 - q, axis=0)
                brl = np.where(br[:, local] > 0, br[:, local], np.nan)
                rlo[target] = np.floor(np.nanquantile(brl, q, axis=0)).astype(np.int64)
                rhi[target] = np.ceil(np.nanquantile(brl, 1 - q, axis=0)).astype(np.int64)
    n_comp = ev.comparisons_per_model()
    won, lost = win_loss_presence(ev, active)
    has_ci = use_ci != "none"
    models = []
    for i in np.flatnonzero(active):
        if np.isnan(scores[i]):
            continue
        models.append(RankedModel(
            model=ev.models[i], score=float(scores[i]), rank=int(ranks[i]),
            ci_low=float(lo[i]) if has_ci and not np.isnan(lo[i]) else None,
            ci_high=float(hi[i]) if has_ci and not np.isnan(hi[i]) else None,
            rank_ci=(int(rlo[i]), int(rhi[i])) if has_ci and rlo[i] > 0 else None,
            n_samples=int(n_samp[i]), n_comparisons=int(n_comp[i]),
        ))
    models.sort(key=lambda r: (component_of.get(r.model, 0), r.rank, r.model))
    index = {name: i for i, name in enumerate(ev.models)}
    tg: list[list[str]] = []
    if has_ci:
        for comp in groups:
            order = [index[r.model] for r in models if index[r.model] in set(comp)]
            tg.extend([[ev.models[i] for i in g] for g in tied_groups(order, lo, hi, lower)])
    act_idx = np.flatnonzero(active)
    diagnostics = Diagnostics(
        connected=len(comps) <= 1,
        components=[[ev.models[i] for i in c] for c in comps] if len(comps) > 1 else [],
        converged=method_diag.pop("converged", None) if len(groups) == 1 else all(
            v for k, v in method_diag.items() if k.startswith("converged")),
        iterations=method_diag.pop("iterations", None) if len(groups) == 1 else None,
        no_wins=[ev.models[i] for i in act_idx if not won[i]],
        no_losses=[ev.models[i] for i in act_idx if not lost[i]],
        tied_groups=tg,
        notes=notes,
    )
    for k, v in {**method_diag, **diag_extra}.items():
        setattr(diagnostics, k, v)
    if component_of:
        diagnostics.component_of = component_of  # type: ignore[attr-defined]
    diagnostics.evidence = ev.summary()  # type: ignore[attr-defined]
    diagnostics.lower_is_better = lower  # type: ignore[attr-defined]
    diagnostics.ci_method = use_ci  # type: ignore[attr-defined]
    if (m.needs_connected and diagnostics.no_wins or diagnostics.no_losses) and m.name in ("plackett-luce",
                                                                                            "bradley-terry"):
        diagnostics.notes.append("some models never won or never lost: their strengths are finite only because "
                                 "of the L2 prior (alpha); read their scores as bounds")
    params_out = {**m.defaults, **params, "level": level, "ci": use_ci, "confidence": confidence, "seed": seed}
    if use_ci == "bootstrap":
        params_out["bootstrap"] = bootstrap
        params_out["resample"] = resample
    return Ranking(method=m.name, params=params_out, score_scale=scale, models=models, diagnostics=diagnostics)


def _two_level_evidence(ev: Evidence, m: Method, params: dict[str, Any]) -> Evidence:
    """Rank within each (task, metric) with the method, then one ballot per task: values = -rank."""
    b = EvidenceBuilder(ev.models, tasks=ev.tasks, metrics=ev.metrics, higher_is_better=ev.higher_is_better)
    n_m = max(len(ev.metrics), 1)
    col = ev.sample_task.astype(np.int64) * n_m + ev.sample_metric
    for t in np.unique(np.r_[ev.sample_task, ev.pair_task]):
        cols = np.unique(col[ev.sample_task == t])
        jobs = [(int(c), np.flatnonzero(col == c)) for c in cols] or [(int(t) * n_m, np.zeros(0, np.int64))]
        for k, (c, sel) in enumerate(jobs):
            psel = np.flatnonzero(ev.pair_task == t) if k == 0 else np.zeros(0, np.int64)
            sub = ev.take_samples(sel, keep_pairs=psel)
            act = sub.samples_per_model() > 0
            if not act.any():
                continue
            out = m(sub, **params)
            s = np.where(act, out.scores, np.nan)
            r = _ranks(s, out.lower_is_better).astype(np.float64)
            ok = np.flatnonzero(r > 0)
            b.add_ballots(np.zeros(ok.size, np.int64), ok, -r[ok], sample_task=int(t), sample_metric=c % n_m)
    out_ev = b.build()
    out_ev.notes = list(ev.notes)
    return out_ev
