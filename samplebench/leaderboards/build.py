"""LeaderboardSpec + ResultStore -> every artifact of a leaderboard, reproducibly.

`build_leaderboard(spec, store, out)`:

1. selects the measurements (`samplebench.selection.read_store`: one scan of the store, then
   the spec's model filters, `require_all_tasks` and minimum coverage, via `Evidence.restrict_models`);
2. ranks the models with the spec's aggregator and with each `also_show` method
   (`aggregators.fit`; no aggregation happens here);
3. writes `leaderboard.{parquet,csv,json}`, `samples/*.parquet`, `ranking.png`, `index.html`
   and `README.md` (a Hub dataset card) into `out`, and `groups.parquet` for a per-group view.

Everything written is a function of (spec, store content, samplebench version): no clocks, no
hostnames, no dict-order accidents, so building twice gives byte-identical files.

Coverage of model `m` = ballots (selected `(task, metric, sample[, group])` cells) that hold a
value for `m`, divided by all selected ballots. Per-task columns are descriptive: the mean raw
value of the task's selected metric over the samples `m` was measured on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import SampleBenchError, closest_names
from ..registry.leaderboard_spec import LeaderboardSpec
from ..results import ResultStore
from ..selection import Selection, evidence, read_store
from .writers import ARTIFACTS, write_outputs

TASK_PREFIX = "task:"
RANK_PREFIX = "rank:"


@dataclass
class LeaderboardBuild:
    """What a build produced; the tables are also written to disk by `build_leaderboard`."""

    spec: LeaderboardSpec
    table: pa.Table  # one row per ranked model, best first
    ranking: Any  # aggregators.Ranking of the spec's method
    others: dict[str, Any]  # method -> Ranking for also_show
    group_table: pa.Table | None
    coverage: np.ndarray  # (models x tasks) fraction of the task's ballots each model is in
    coverage_models: list[str]
    coverage_tasks: list[str]
    task_metrics: dict[str, list[str]]
    run_ids: list[str]
    n_measurements: int
    n_ballots: int
    n_pairwise: int
    excluded: dict[str, str] = field(default_factory=dict)  # model -> why it is not ranked
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    samples: dict[str, pa.Table] = field(default_factory=dict)  # file stem -> sample rows
    files: list[Path] = field(default_factory=list)

    @property
    def spec_hash(self) -> str:
        return self.spec.spec_hash()


def _methods():
    from ..aggregators import METHODS, fit

    return METHODS, fit


def check_methods(spec: LeaderboardSpec) -> None:
    """Every method named by the spec must be a registered aggregator."""
    methods, _ = _methods()
    for i, m in enumerate([spec.aggregator.method, *spec.also_show]):
        if m not in methods:
            where = "aggregator.method" if i == 0 else f"also_show[{i - 1}]"
            close = closest_names(m, set(methods))
            raise SampleBenchError(
                f"leaderboard spec {spec.name}: {where}: unknown method '{m}'",
                hint=f"closest: {close}" if close else f"choose one of {', '.join(sorted(methods))}",
            )


def _fit(fit, ev, method: str, params: dict[str, Any], spec: LeaderboardSpec, *, intervals: bool = True):
    """`aggregators.fit` with the spec's bootstrap; `intervals=False` (ranks only) skips the CIs."""
    kwargs = dict(params)
    if not intervals:
        kwargs.setdefault("ci", "none")
    elif spec.bootstrap.n:
        kwargs.setdefault("bootstrap", spec.bootstrap.n)
    kwargs.setdefault("seed", spec.bootstrap.seed)
    try:
        return fit(ev, method, **kwargs)
    except SampleBenchError as exc:
        raise SampleBenchError(f"leaderboard spec {spec.name}: method '{method}': {exc.message}",
                               hint=exc.hint) from None


def _coverage(ev) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ballots per model, per-(model, task) ballot counts, ballots per task)."""
    n_m, n_t = ev.n_models, max(len(ev.tasks), 1)
    ms = ev.member_sample()
    task_of_member = ev.sample_task[ms].astype(np.int64) if ms.size else np.zeros(0, np.int64)
    per_mt = np.bincount(ev.member_model.astype(np.int64) * n_t + task_of_member, minlength=n_m * n_t).reshape(n_m, n_t)
    per_task = np.bincount(ev.sample_task.astype(np.int64), minlength=n_t)
    return per_mt.sum(axis=1), per_mt, per_task


def _task_means(ev) -> tuple[dict[tuple[int, int], np.ndarray], dict[str, list[str]]]:
    """Mean raw value per model for each (task, metric) used (`aggregators.task_score_table`), and
    the metrics used per task."""
    from ..aggregators.baselines import task_score_table

    labels, table, _ = task_score_table(ev)
    out: dict[tuple[int, int], np.ndarray] = {}
    used: dict[str, list[str]] = {}
    for (task, metric), row in zip(labels, table, strict=True):
        out[(ev.tasks.index(task), ev.metrics.index(metric))] = row
        used.setdefault(task, []).append(metric)
    return out, used


def _ranking_rows(ranking) -> dict[str, Any]:
    return {m.model: m for m in ranking.models}


def selection_of(spec: LeaderboardSpec, sample_ids: dict[str, list[str]] | None = None) -> Selection:
    """The spec's `selection:` as a `samplebench.selection.Selection`; `sample_ids` (task -> ids,
    from `selection.capability` / `selection.query`) keeps only those samples, and their tasks."""
    sel = spec.selection
    tasks = None if sel.tasks == "all" else list(sel.tasks)
    if sample_ids is not None:
        tasks = [t for t in tasks if t in sample_ids] if tasks else sorted(sample_ids)
        if not tasks:
            raise SampleBenchError(f"leaderboard spec {spec.name}: selection.tasks: none of them holds a sample of "
                                   f"the {'capability' if sel.capability else 'query'}",
                                   hint=f"its tasks: {', '.join(sorted(sample_ids))}")
    return Selection.of(
        models=None if sel.models == "all" else sel.models, tasks=tasks,
        tags=sel.tags, task_types=sel.task_types, benchmark=sel.benchmark, sample_ids=sample_ids,
        metrics=None if sel.metrics in ("main", "all") else sel.metrics, all_metrics=sel.metrics == "all",
    )


def pool_selection(spec: LeaderboardSpec, store: ResultStore) -> tuple[dict[str, list[str]] | None, dict | None]:
    """The samples of the spec's `selection.capability` or `selection.query` (None, None without
    either) and the record that makes them reproducible (query, index version, sample count)."""
    sel = spec.selection
    if sel.capability is None and sel.query is None:
        return None, None
    from ..pool.capabilities import resolve_selection

    field = "capability" if sel.capability is not None else "query"
    try:
        return resolve_selection(store, capability=sel.capability,
                                 query=sel.query.model_dump() if sel.query is not None else None)
    except SampleBenchError as exc:
        raise SampleBenchError(f"leaderboard spec {spec.name}: selection.{field}: {exc.message}", hint=exc.hint) from None


def pool_note(record: dict) -> str:
    q = record["query"] or {}
    opts = ", ".join(f"{k} {v}" for k, v in q.items() if k != "text" and v not in (None, {}, ""))
    what = (f"capability '{record['capability']}' (query {q.get('text')!r}{'; ' + opts if opts else ''})"
            if record["capability"] else f"the capability query {q.get('text')!r}{' (' + opts + ')' if opts else ''}")
    return (f"Samples: {what} on pool index {record['index_version']} ({record['embedder']}): "
            f"{record['n_samples']} samples selected.")


def select(spec: LeaderboardSpec, store: ResultStore, registry=None):
    """The evidence for `spec`: one read of the selection (`samplebench.selection.read_store`),
    then the model list, `require_all_tasks` and the minimum coverage.

    Returns `(evidence, excluded, tables)`: `excluded` maps a left-out model to the reason;
    `tables` (task -> rows) what the evidence was made of.
    """
    sel = spec.selection
    sample_ids, record = pool_selection(spec, store)
    try:
        m = read_store(store, selection_of(spec, sample_ids), registry)
    except SampleBenchError as exc:
        raise SampleBenchError(f"leaderboard spec {spec.name}: selection: {exc.message}", hint=exc.hint) from None
    tables, bench = m.tables(), m.benchmark
    if record is not None:
        m.notes.insert(0, pool_note(record))
    ev = evidence(m)
    models = None if sel.models == "all" else list(sel.models)
    if ev.n_measurements == 0 and ev.n_pairs == 0:
        raise SampleBenchError(
            f"leaderboard spec {spec.name}: the selection matches no measurement in store {store.root}",
            hint="check selection.tasks/models/metrics/benchmark against `bench results list`",
        )
    excluded: dict[str, str] = {}
    per_model, per_mt, per_task = _coverage(ev)
    incomplete = _incomplete(ev, per_mt, per_task, _task_level_cells(tables, bench),
                             m.missing_tasks) if sel.require_all_tasks else {}
    keep = []
    for i, name in enumerate(ev.models):
        cov = per_model[i] / ev.n_samples if ev.n_samples else 1.0
        if name in sel.exclude_models:
            excluded[name] = "excluded by selection.exclude_models"
        elif per_model[i] == 0 and not (np.any(ev.pair_a == i) or np.any(ev.pair_b == i)):
            # A model in the vocabulary without a ballot: every measurement of it was an error
            # (or the spec named a model the selection does not hold). Named, never dropped silently.
            if models is None or name in models:
                excluded[name] = "no measurement with a value in the selection"
        elif i in incomplete:
            excluded[name] = incomplete[i]
        elif cov < sel.min_coverage:
            excluded[name] = f"coverage {cov:.1%} is below selection.min_coverage {sel.min_coverage:.1%}"
        else:
            keep.append(name)
    if not keep:
        why = (f"; {len(m.missing_tasks)} selected task(s) have no results at all: {', '.join(m.missing_tasks[:5])}"
               if sel.require_all_tasks and m.missing_tasks else "")
        raise SampleBenchError(f"leaderboard spec {spec.name}: every model was left out ({len(excluded)} by coverage, "
                               f"require_all_tasks or exclusion){why}",
                               hint="lower selection.min_coverage or drop selection.require_all_tasks")
    if len(keep) != ev.n_models:
        ev = ev.restrict_models(keep)
    return ev, excluded, tables


def _task_level_cells(tables: dict[str, pa.Table], bench) -> dict[str, int]:
    """task -> number of benchmark cells, for tasks whose rows are task-level (`split/subset` ids)."""
    if bench is None:
        return {}
    out = {}
    for task, t in tables.items():
        cells = bench.task(task).cells()
        if cells is not None and t.num_rows and pc.any(pc.match_substring(t["sample_id"].cast(pa.string()), "/")).as_py():
            out[task] = len(cells)
    return out


def _incomplete(ev, per_mt: np.ndarray, per_task: np.ndarray, cells: dict[str, int], missing_tasks: list[str]
                ) -> dict[int, str]:
    """model index -> why it lacks a selected task: no value on it, or, for a task whose results
    are task-level cells of a benchmark (`cells`: task -> how many, e.g. MTEB's split/subset
    cells), not every cell — mteb's rule for which models its benchmark tables rank."""
    need = np.array([cells.get(t, 1) for t in ev.tasks], np.int64)
    out: dict[int, str] = {}
    for i in range(ev.n_models):
        short = [ev.tasks[t] for t in np.flatnonzero((per_task > 0) & (per_mt[i] < need))] if per_mt.size else []
        short += missing_tasks
        if short:
            out[i] = (f"selection.require_all_tasks: incomplete on {len(short)} of {len(ev.tasks) + len(missing_tasks)}"
                      f" tasks ({', '.join(short[:3])}{' ...' if len(short) > 3 else ''})")
    return out


def _scan_samples(store: ResultStore, ev, models: list[str], recorded: dict[str, pa.Table] | None = None
                  ) -> tuple[dict[str, pa.Table], list[str], int]:
    """The sample rows used, one table per task (errors included), and the run ids behind them.

    Rows are the selected metrics of the ranked models; a task's rows come from the scan
    selection's one read made (`recorded`) when there is one, else from a fresh scan.
    """
    dataset = store.dataset()
    if dataset is None:
        return {}, [], 0
    detail = [n for n in dataset.schema.names if n not in _CANONICAL]
    columns = _CANONICAL + detail
    out: dict[str, pa.Table] = {}
    runs: set[str] = set()
    n_errors = 0
    model_set = pa.array(models, pa.string())
    used_metrics = {ev.tasks[t]: sorted({ev.metrics[k] for k in np.unique(ev.sample_metric[ev.sample_task == t])})
                    for t in range(len(ev.tasks))}
    for task in sorted(t for t, ms in used_metrics.items() if ms):
        t = (recorded or {}).get(task)
        if t is None or any(c not in t.column_names for c in columns):
            t = store.scan(tasks=[task], metrics=used_metrics[task], columns=columns)
        keep = pc.and_(pc.is_in(t["model"], value_set=model_set),
                       pc.is_in(t["metric"], value_set=pa.array(used_metrics[task], pa.string())))
        if not pc.all(keep).as_py():  # filtering copies; the usual case keeps a zero-copy slice
            t = t.filter(keep)
        t = t.select(columns)  # dictionary-encoded; writers cast one task at a time
        out[task] = t
        runs.update(pc.unique(t["run_id"]).to_pylist())
        n_errors += t.num_rows - t["error"].null_count
    return out, sorted(runs), n_errors


_CANONICAL = ["model", "model_revision", "task", "task_revision", "sample_id", "metric", "value", "error", "run_id",
              "created_at"]


def assemble(spec: LeaderboardSpec, store: ResultStore, registry=None, *, with_samples: bool = True,
             progress: Callable[[str], None] | None = None) -> LeaderboardBuild:
    """Select, rank and tabulate (no files written). `progress` gets a line per stage."""
    say = progress or (lambda _msg: None)
    check_methods(spec)
    say(f"selecting measurements from {store.root}")
    _, fit = _methods()
    ev, excluded, tables = select(spec, store, registry)
    ranked_models = list(ev.models)
    samples, run_ids, n_errors = _scan_samples(store, ev, ranked_models, tables) if with_samples else ({}, [], 0)
    del tables
    say(f"ranking {ev.n_models:,} models by {spec.aggregator.method} from {ev.n_measurements:,} measurements")
    ranking = _fit(fit, ev, spec.aggregator.method, spec.aggregator.params, spec)
    if spec.also_show:
        say(f"ranking by {', '.join(spec.also_show)} for comparison")
    others = {m: _fit(fit, ev, m, {}, spec, intervals=False) for m in spec.also_show}
    per_model, per_mt, per_task = _coverage(ev)
    means, task_metrics = _task_means(ev)
    n_ballots = ev.n_samples

    # -- the leaderboard table ---------------------------------------------------------------
    index = {m: i for i, m in enumerate(ev.models)}
    rows = sorted(ranking.models, key=lambda r: (r.rank, r.model))
    names = [r.model for r in rows]
    idx = np.array([index[m] for m in names], np.int64)
    cols: dict[str, pa.Array] = {
        "rank": pa.array([r.rank for r in rows], pa.int32()),
        "model": pa.array(names, pa.string()),
        "score": pa.array([r.score for r in rows], pa.float64()),
        "ci_low": pa.array([r.ci_low for r in rows], pa.float64()),
        "ci_high": pa.array([r.ci_high for r in rows], pa.float64()),
        "rank_ci_low": pa.array([r.rank_ci[0] if r.rank_ci else None for r in rows], pa.int32()),
        "rank_ci_high": pa.array([r.rank_ci[1] if r.rank_ci else None for r in rows], pa.int32()),
        "samples_measured": pa.array(per_model[idx], pa.int64()),
        "samples_selected": pa.array(np.full(len(rows), n_ballots), pa.int64()),
        "coverage": pa.array(per_model[idx] / n_ballots if n_ballots else np.full(len(rows), np.nan), pa.float64(),
                             from_pandas=True),
        "tasks_measured": pa.array((per_mt[idx] > 0).sum(axis=1) if per_mt.size else np.zeros(len(rows), np.int32),
                                   pa.int32()),
        "n_comparisons": pa.array([r.n_comparisons for r in rows], pa.int64()),
        "never_lost": pa.array([r.never_lost for r in rows], pa.bool_()),  # score is a lower bound
        "never_won": pa.array([r.never_won for r in rows], pa.bool_()),  # score is an upper bound
    }
    for t, task in enumerate(ev.tasks):
        for metric in task_metrics.get(task, []):
            k = ev.metrics.index(metric)
            name = f"{TASK_PREFIX}{task}" if len(task_metrics[task]) == 1 else f"{TASK_PREFIX}{task}/{metric}"
            cols[name] = pa.array(means[(t, k)][idx], pa.float64(), from_pandas=True)
    for method, other in others.items():
        by = _ranking_rows(other)
        cols[f"{RANK_PREFIX}{method}"] = pa.array([by[m].rank if m in by else None for m in names], pa.int32())
    table = pa.table(cols)

    # -- per-group view --------------------------------------------------------------------------
    group_table = _group_view(spec, ev) if spec.groups is not None else None

    # -- warnings for the card and the page ------------------------------------------------------
    warnings: list[str] = []
    diag = ranking.diagnostics
    if not diag.connected:
        comps = "; ".join("{" + ", ".join(c[:5]) + (", ..." if len(c) > 5 else "") + "}" for c in diag.components[:5])
        warnings.append(f"The comparison graph is not connected ({len(diag.components)} components: {comps}); "
                        "scores are only comparable inside a component.")
    if diag.converged is False:
        warnings.append(f"The {ranking.method} fit did not converge ({diag.iterations} iterations).")
    if rows and all(r.ci_low is None for r in rows):
        why = next((n for n in diag.notes if "interval" in n), "the method gives none")
        warnings.append(f"No confidence intervals: {why}. Set bootstrap.n or aggregator.params.ci in the spec.")
    low = [(names[i], per_model[idx[i]] / n_ballots) for i in range(len(names)) if n_ballots and per_model[idx[i]] < n_ballots]
    if low:
        warnings.append(f"{len(low)} of {len(names)} models were not measured on every selected sample "
                        f"(lowest coverage: {min(c for _, c in low):.1%}); missing samples are not counted as losses.")
    if excluded:
        warnings.append(f"{len(excluded)} model(s) left out: " + "; ".join(f"{m} ({why})" for m, why in sorted(excluded.items())[:10])
                        + (" ..." if len(excluded) > 10 else ""))
    for key in ("no_wins", "no_losses"):
        vals = getattr(diag, key, [])
        if vals:
            warnings.append(f"{len(vals)} model(s) never {'won' if key == 'no_wins' else 'lost'} a comparison "
                            f"({', '.join(vals[:5])}{' ...' if len(vals) > 5 else ''}); their scores are bounds, not estimates.")
    notes = list(dict.fromkeys([*ev.notes, *diag.notes]))

    if n_errors:
        notes = [n for n in notes if "without a value (errors) were left out" not in n]
        notes.append(f"{n_errors:,} selected measurement(s) carry an error instead of a value; they count as not measured.")
    cov = np.where(per_task[None, :] > 0, per_mt / np.maximum(per_task[None, :], 1), 0.0) if per_mt.size else per_mt
    has_task = [t for t in range(len(ev.tasks)) if per_task[t] > 0 or np.any(ev.pair_task == t)]
    cov = cov[:, has_task] if cov.size else cov
    return LeaderboardBuild(
        spec=spec, table=table, ranking=ranking, others=others, group_table=group_table,
        coverage=cov[idx] if cov.size else cov, coverage_models=names, coverage_tasks=[ev.tasks[t] for t in has_task],
        task_metrics=task_metrics, run_ids=run_ids, n_measurements=ev.n_measurements, n_ballots=n_ballots,
        n_pairwise=ev.n_pairs, excluded=excluded, warnings=warnings, notes=notes, samples=samples,
    )


def _group_view(spec: LeaderboardSpec, ev) -> pa.Table | None:
    """One ranking per group, the groups combined by `rule`, and maximin (aggregators.fit_by_group)."""
    from ..aggregators import fit_by_group

    if not ev.groups:
        return None
    params = dict(spec.aggregator.params)
    if spec.bootstrap.n:
        params.setdefault("bootstrap", spec.bootstrap.n)
    params.setdefault("seed", spec.bootstrap.seed)
    res = fit_by_group(ev, spec.groups.column, spec.aggregator.method, rule=spec.groups.rule, **params)
    views = [("group", label, r) for label, r in res.groups.items()]
    views += [("across", res.across.method, res.across), ("maximin", res.maximin.method, res.maximin)]
    cols: dict[str, list] = {k: [] for k in ("view", "group", "rank", "model", "score", "ci_low", "ci_high",
                                             "samples_measured")}
    for view, label, r in views:
        for x in sorted(r.models, key=lambda x: (x.rank, x.model)):
            for k, v in zip(cols, (view, label, x.rank, x.model, x.score, x.ci_low, x.ci_high, x.n_samples),
                            strict=True):
                cols[k].append(v)
    types = {"view": pa.string(), "group": pa.string(), "rank": pa.int32(), "model": pa.string(),
             "score": pa.float64(), "ci_low": pa.float64(), "ci_high": pa.float64(), "samples_measured": pa.int64()}
    return pa.table({k: pa.array(v, types[k]) for k, v in cols.items()})


def build_leaderboard(
    spec: LeaderboardSpec | str | Path, store: ResultStore | str | Path | None = None, out: str | Path = "leaderboard",
    *, registry=None, progress: Callable[[str], None] | None = None,
) -> LeaderboardBuild:
    """Build every artifact of `spec` from `store` into the folder `out` (created if needed)."""
    from ..registry.leaderboard_spec import load_leaderboard_spec

    if not isinstance(spec, LeaderboardSpec):
        spec = load_leaderboard_spec(spec)
    if not isinstance(store, ResultStore):
        store = ResultStore(store)
    build = assemble(spec, store, registry, progress=progress)
    if progress:
        progress(f"writing tables, samples, plot, page and card to {out}")
    build.files = write_outputs(build, Path(out))
    return build


__all__ = ["ARTIFACTS", "LeaderboardBuild", "assemble", "build_leaderboard", "check_methods", "select"]
