"""The runner: (model, tasks) -> one row per (sample, metric) in the results store, resumably.

For each task: load its data (with `datasets`), list its sample ids (the first `limit` when
given), and look up which (model, task, sample) cells the store already holds for this
`task_revision` with every declared metric and no error. Only the missing samples are
evaluated; a complete rerun builds no model at all. Embeddings go through an `EmbeddingCache`
keyed by (model revision, text hash). A sample whose input fails (exception, NaN/inf output,
timeout) gets rows with `error` set and the run goes on. Rows are published in shards of at most
`shard_rows` as they are produced, with `metric_info` recorded for every task.

What the executors (`samplebench.runners.executors`) build on: `evaluate_local`, `model_identity`,
`completed_samples`, `stored_mean`, `known_sample_ids` and `remember_sample_ids`.
"""

from __future__ import annotations

import contextlib
import math
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import SampleBenchError
from ..registry import ModelRegistry, ModelSpec, TaskRegistry, TaskSpec
from ..results import MetricInfo, ResultStore
from ..results.cards import write_task_cards

SHARD_ROWS = 50_000


@dataclass
class TaskReport:
    """What happened on one task."""

    task: str
    n_samples: int
    n_computed: int = 0
    n_reused: int = 0
    n_errors: int = 0
    main_metric: str = ""
    main_value: float | None = None
    task_scores: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0
    error: str | None = None
    input_errors: dict[str, list] = field(default_factory=dict)  # e.g. training texts: [count, first error]

    def input_error_lines(self) -> list[str]:
        """One line per kind of non-sample input that failed (the values were computed without them)."""
        return [f"{self.task}: {n} {what} failed and were left out, so the values were computed without them "
                f"(first: {first})" for what, (n, first) in self.input_errors.items()]


@dataclass
class EvaluationReport:
    """The outcome of `evaluate`: per-task reports, where results went, and whether the model was built."""

    model: str
    model_revision: str | None
    store: Path
    tasks: list[TaskReport]
    run_id: str | None = None
    model_loaded: bool = False
    seconds: float = 0.0

    @property
    def n_errors(self) -> int:
        return sum(t.n_errors for t in self.tasks)

    @property
    def n_input_errors(self) -> int:
        """Inputs that are not samples (e.g. training texts) that failed, over all tasks."""
        return sum(n for t in self.tasks for n, _ in t.input_errors.values())

    @property
    def exit_code(self) -> int:
        """0 when every sample has a value and every input was used, 1 when some samples or inputs failed."""
        return 1 if self.n_errors or self.n_input_errors else 0

    def table(self) -> tuple[list[str], list[list[Any]]]:
        headers = ["task", "samples", "computed", "reused", "errors", "main metric", "mean", "task score", "seconds"]
        rows = []
        for t in self.tasks:
            ts = next(iter(t.task_scores.items()), None)
            rows.append([t.task, t.n_samples, t.n_computed, t.n_reused, t.n_errors, t.main_metric, t.main_value,
                         f"{ts[0]}={ts[1]:.4f}" if ts else None, round(t.seconds, 2)])
        return headers, rows


def metric_info_for(spec: TaskSpec) -> dict[str, MetricInfo]:
    return {m.name: MetricInfo(higher_is_better=m.higher_is_better, kind=m.kind, main=m.name == spec.main_metric)
            for m in spec.metrics}


def resolve_tasks(tasks: str | TaskSpec | Sequence[str | TaskSpec] | None, *, tag: str | None = None,
                  registry: TaskRegistry | None = None) -> list[TaskSpec]:
    """Task specs from names/specs and/or a tag; unknown names raise with the closest ones."""
    reg = registry or TaskRegistry()
    out: list[TaskSpec] = []
    if isinstance(tasks, str | TaskSpec):
        tasks = [tasks]
    for t in tasks or []:
        out.append(t if isinstance(t, TaskSpec) else reg.get(t))
    if tag:
        tagged = reg.filter(tag=tag)
        if not tagged:
            known = sorted({g for s in reg.all() for g in s.tags})
            from ..errors import closest_names

            close = closest_names(tag, known)
            raise SampleBenchError(f"no task has tag '{tag}'", hint=f"closest: {close}" if close else f"tags: {', '.join(known)}")
        out.extend(s for s in tagged if s.name not in {o.name for o in out})
    if not out:
        raise SampleBenchError("no tasks selected", hint="pass --tasks A,B or --tag X")
    return out


_RESUME_COLUMNS = ["task", "task_revision", "sample_id", "metric", "value", "error"]


def _model_rows(store: ResultStore, model: str, tasks: list[str]):
    """The latest rows of `model` on `tasks`, only the columns resuming and task means need: one scan."""
    names = store.column_names()
    if not names:
        return None
    return store.scan(models=[model], tasks=tasks, columns=_RESUME_COLUMNS + (["group"] if "group" in names else []))


def _task_rows(rows, task: str):
    """The rows of one task in a `_model_rows` table."""
    import pyarrow.compute as pc

    from ..results.store import string_array

    return rows.filter(pc.is_in(rows["task"].cast("string"), value_set=string_array([task])))


def _done_in(t, task_rev: str, retry_errors: bool) -> set[str]:
    """Sample ids with rows at `task_rev` in the latest rows `t` of one (model, task); see `completed_samples`."""
    import pyarrow.compute as pc

    from ..results.store import string_array

    if t is None or t.num_rows == 0:
        return set()
    t = t.filter(pc.is_in(t["task_revision"].cast("string"), value_set=string_array([task_rev])))
    if t.num_rows == 0:
        return set()
    ids = t["sample_id"].cast("string")
    present = set(pc.unique(ids).to_pylist())
    if retry_errors:
        present -= set(pc.unique(pc.filter(ids, pc.is_valid(t["error"]))).to_pylist())
    return present


def _mean_in(t, metric: str, ids: list[str]) -> float | None:
    """Mean `value` of `metric` over the samples `ids` in the latest rows `t` of one (model, task),
    overall rows only (per-rater-group rows, DICES, are details, not more samples); nulls skipped."""
    import pyarrow.compute as pc

    from ..results.store import string_array

    if t is None or t.num_rows == 0:
        return None
    t = t.filter(pc.and_(pc.is_in(t["metric"].cast("string"), value_set=string_array([metric])),
                         pc.is_in(t["sample_id"].cast("string"), value_set=string_array(ids))))
    if "group" in t.column_names:
        t = t.filter(pc.is_null(t["group"]))
    if t.num_rows == 0:
        return None
    v = pc.mean(t["value"]).as_py()
    return None if v is None else float(v)


def completed_samples(store: ResultStore, model: str, spec: TaskSpec, task_rev: str, *,
                      retry_errors: bool = False) -> set[str]:
    """Sample ids with rows at this task revision (with `retry_errors`: and no error among them).

    A (model, task, sample) cell is present once it was measured on this revision of the task
    (any metric, any rater group); a failed sample's error rows count as present unless
    `retry_errors`, so a finished rerun never rebuilds the model for a deterministic failure.
    """
    return _done_in(_model_rows(store, model, [spec.name]), task_rev, retry_errors)


def stored_mean(store: ResultStore, model: str, spec: TaskSpec, ids: list[str]) -> float | None:
    """Mean stored value of `spec`'s main metric for `model` over the samples `ids` (None when none)."""
    return _mean_in(_model_rows(store, model, [spec.name]), spec.main_metric, ids)


def _previous_task_scores(store: ResultStore, model: str, task: str, task_rev: str, limit: int | None,
                          runs: list | None = None) -> dict[str, float]:
    """Task-level scores the newest finished run of `model` recorded for this task revision and limit."""
    for r in reversed(store.runs() if runs is None else runs):
        if r.status != "finished" or model not in r.models:
            continue
        entry = (r.meta.get("task_scores") or {}).get(task)
        if entry and entry.get("task_revision") == task_rev and entry.get("limit") == limit:
            return dict(entry.get("scores") or {})
    return {}


class _Writer:
    """Opens the store run on first use and buffers rows into shards."""

    def __init__(self, store: ResultStore, command: str | None, metric_info: dict, meta: dict, shard_rows: int) -> None:
        self.store, self.command, self.metric_info, self.meta = store, command, metric_info, meta
        self.shard_rows = shard_rows
        self._ctx = None
        self.writer = None
        self.rows: dict[str, list] = self._empty()

    @staticmethod
    def _empty() -> dict[str, list]:
        return {k: [] for k in ("model", "model_revision", "task", "task_revision", "sample_id", "metric", "value",
                                "error", "prediction", "group")}

    def add(self, **row) -> None:
        for k, v in row.items():
            self.rows[k].append(v)
        if len(self.rows["model"]) >= self.shard_rows:
            self.publish()

    def publish(self) -> None:
        if not self.rows["model"]:
            return
        import pyarrow as pa

        if self.writer is None:
            self._ctx = self.store.run(kind="evaluate", command=self.command, metric_info=self.metric_info)
            self.writer = self._ctx.__enter__()
        rows = self.rows
        if all(g is None for g in rows["group"]):
            rows = {k: v for k, v in rows.items() if k != "group"}
        table = pa.table({k: pa.array(v, pa.float64() if k == "value" else pa.string()) for k, v in rows.items()})
        self.writer.write(table, where="evaluate")
        self.rows = self._empty()

    def close(self, exc: BaseException | None = None) -> str | None:
        if exc is None:
            self.publish()
        if self.writer is None:
            return None
        self.writer.record.meta.update(self.meta)
        if exc is None:
            self._ctx.__exit__(None, None, None)
        else:
            self._ctx.__exit__(type(exc), exc, exc.__traceback__)
        return self.writer.run_id


def evaluate(
    model: str | ModelSpec | Any,
    tasks: str | TaskSpec | Sequence[str | TaskSpec] | None = None,
    *,
    store: ResultStore | str | Path | None = None,
    limit: int | None = None,
    batch_size: int = 32,
    executor: str = "local",
    tag: str | None = None,
    cache: bool = True,
    cache_dir: Path | None = None,
    progress: bool = True,
    command: str | None = None,
    task_registry: TaskRegistry | None = None,
    model_registry: ModelRegistry | None = None,
    shard_rows: int = SHARD_ROWS,
    shard_size: int = 256,
    retry_errors: bool = False,
    log: Callable[[str], None] | None = None,
    timeout: float | None = None,
    sample_ids: Mapping[str, Sequence[str]] | None = None,
) -> EvaluationReport:
    """Evaluate `model` on `tasks` (names, specs, and/or every task tagged `tag`) into `store`.

    `model` is a name (see `samplebench.runners.models`), a `ModelSpec`, or an already built
    adapter/encoder (then its `spec.name` or `name` attribute names it in the results).
    Returns an `EvaluationReport`; its `exit_code` is 1 when some samples failed.
    `retry_errors` recomputes samples whose stored rows carry an error (by default they count as done).
    `timeout` (seconds) limits every model call: it replaces the model's own limit where it has
    one (per request for endpoints, per batch for Python callables, which run in a worker
    process), and other in-process models run each call under a watchdog (`CallDeadline`); a
    call that runs out of time makes its samples error rows and the run goes on.
    `executor="ray"` spreads tasks and shards of at most `shard_size` samples over a Ray cluster
    (see `samplebench.runners.executors`). `sample_ids` (task -> ids) evaluates only those samples of
    the tasks it names (instead of `limit`); unknown ids are ignored.
    """
    if limit is not None and limit < 1:
        raise SampleBenchError(f"--limit must be a positive number of samples, got {limit}")
    if batch_size < 1:
        raise SampleBenchError(f"--batch-size must be positive, got {batch_size}")
    if timeout is not None and not timeout > 0:
        raise SampleBenchError(f"--timeout must be a positive number of seconds, got {timeout}")
    if executor not in ("local", "ray"):
        raise SampleBenchError(f"unknown executor '{executor}'", hint="use local or ray")
    specs = resolve_tasks(tasks, tag=tag, registry=task_registry)
    store = store if isinstance(store, ResultStore) else ResultStore(store)
    chosen = None if sample_ids is None else {t: set(map(str, ids)) for t, ids in sample_ids.items()}
    if executor == "ray":
        from .executors import evaluate_ray

        return evaluate_ray(model, specs, store=store, limit=limit, batch_size=batch_size, cache=cache,
                            cache_dir=cache_dir, command=command, model_registry=model_registry,
                            shard_size=shard_size, retry_errors=retry_errors, timeout=timeout, sample_filter=chosen)
    return evaluate_local(model, specs, store=store, limit=limit, batch_size=batch_size, cache=cache,
                          cache_dir=cache_dir, progress=progress, command=command, model_registry=model_registry,
                          shard_rows=shard_rows, log=log, retry_errors=retry_errors, timeout=timeout,
                          sample_filter=chosen)


def model_identity(model: Any) -> tuple[str, ModelSpec | None, Any]:
    """(name recorded in results, spec to build lazily, adapter already built)."""
    from .models import resolve_spec

    if isinstance(model, str):
        spec = resolve_spec(model)
        return spec.name, spec, None
    if isinstance(model, ModelSpec):
        return model.name, model, None
    spec = getattr(model, "spec", None)
    name = getattr(spec, "name", None) or getattr(model, "name", None) or type(model).__name__
    return str(name), None, model


def evaluate_local(model, specs: list[TaskSpec], *, store: ResultStore, limit, batch_size, cache, cache_dir,
                   progress, command, model_registry, shard_rows, log, sample_filter: dict[str, set[str]] | None = None,
                   retry_errors: bool = False, timeout: float | None = None) -> EvaluationReport:
    """Evaluate in this process (what `evaluate` does with `executor="local"`, and each Ray unit runs).

    `sample_filter` maps a task name to the only sample ids to consider (instead of `limit`).
    """
    from ..tasks import evaluator_for
    from ..tasks._data import task_revision
    from .cache import CachedEncoder, EmbeddingCache, default_cache_dir
    from .task_models import task_model

    say = log or (lambda msg: print(msg, file=sys.stderr))
    t_start = time.perf_counter()
    name, spec, adapter = model_identity(model) if not isinstance(model, str) else _resolve_named(model, model_registry)
    built: dict[str, Any] = {"adapter": adapter, "limited": None}

    def get_adapter():
        if built["adapter"] is None:
            from .models import load_model

            built["adapter"] = load_model(spec)
        if built["limited"] is None:  # one per run: a watchdog remembers a hung call
            built["limited"] = _time_limited(built["adapter"], timeout)
        return built["limited"]

    meta: dict[str, Any] = {"model": name, "limit": limit, "batch_size": batch_size, "task_scores": {}}
    writer = _Writer(store, command, {s.name: metric_info_for(s) for s in specs}, meta, shard_rows)
    reports: list[TaskReport] = []
    revision: str | None = getattr(adapter, "revision", None)
    # One scan of the store for every selected task (rows of other tasks do not change them); a
    # task that computes samples is read again afterwards for its mean.
    before = _model_rows(store, name, [s.name for s in specs])
    runs: list | None = None
    try:
        for spec_t in specs:
            t0 = time.perf_counter()
            ev = None

            def evaluator(spec_t=spec_t):
                ev = evaluator_for(spec_t, models=task_model)
                ev.batch_size = batch_size
                return ev

            trev = task_revision(spec_t)
            all_ids = known_sample_ids(spec_t.name, trev)
            data = None
            if all_ids is None:  # first time this task revision is seen: load the data to list its samples
                ev = evaluator()
                data = ev.load()
                write_task_cards(store, spec_t, data)
                all_ids = ev.sample_ids(data)
                remember_sample_ids(spec_t.name, trev, all_ids)
            ids = all_ids
            if sample_filter is not None and spec_t.name in sample_filter:
                ids = [i for i in ids if i in sample_filter[spec_t.name]]
            elif limit is not None:
                ids = ids[:limit]
            rows = _task_rows(before, spec_t.name) if before is not None else None
            done = _done_in(rows, trev, retry_errors)
            missing = [i for i in ids if i not in done]
            if missing:
                if ev is None:
                    ev = evaluator()
                if data is None:
                    data = ev.load()
                    write_task_cards(store, spec_t, data)
                if limit is not None or sample_filter is not None:
                    data = ev.restrict(data, ids)
            rep = TaskReport(task=spec_t.name, n_samples=len(ids), n_reused=len(ids) - len(missing),
                             main_metric=spec_t.main_metric)
            if missing:
                inner = get_adapter()
                revision = getattr(inner, "revision", None)
                emb_cache = EmbeddingCache(cache_dir or default_cache_dir(), name, revision) if cache and revision else None
                bar = _bar(spec_t.name, len(missing), progress)
                encoder = CachedEncoder(inner, emb_cache, on_encoded=lambda n, bar=bar: _bump_texts(bar, n))
                seen: set[str] = set()
                failed: set[str] = set()
                try:
                    for r in ev.evaluate(encoder, data, missing):
                        value, error = r.value, r.error
                        if value is not None and not math.isfinite(value):
                            value, error = None, f"non-finite value {value}"
                        if value is None and error is None:
                            error = "no value"
                        if error is not None:
                            failed.add(r.sample_id)
                        writer.add(model=name, model_revision=revision, task=spec_t.name, task_revision=trev,
                                   sample_id=r.sample_id, metric=r.metric, value=value, error=error,
                                   prediction=r.prediction, group=r.group)
                        if r.sample_id not in seen:
                            seen.add(r.sample_id)
                            if bar is not None:
                                bar.update(1)
                except SampleBenchError:
                    raise
                except (Exception, SystemExit) as exc:  # noqa: BLE001 - a task-level failure becomes error rows
                    msg = (f"SystemExit: the model called sys.exit({exc.code!r})" if isinstance(exc, SystemExit) else
                           f"{type(exc).__name__}: {str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ''}")
                    rep.error = msg
                    for sid in missing:
                        if sid in seen:
                            continue
                        failed.add(sid)
                        for m in ev.metric_names:
                            writer.add(model=name, model_revision=revision, task=spec_t.name, task_revision=trev,
                                       sample_id=sid, metric=m, value=None, error=msg, prediction=None, group=None)
                finally:
                    encoder.flush()
                    if bar is not None:
                        bar.close()
                writer.publish()
                rep.n_computed = len(missing)
                rep.n_errors = len(failed)
                rep.task_scores = dict(ev.task_scores)
                rep.input_errors = {what: [n, first] for what, (n, first) in ev.input_errors.items()}
                meta["task_scores"][spec_t.name] = {"task_revision": trev, "limit": limit, "scores": rep.task_scores,
                                                    **({"input_errors": rep.input_errors} if rep.input_errors else {})}
                rep.main_value = stored_mean(store, name, spec_t, ids)
            else:
                if runs is None:
                    runs = store.runs()
                rep.task_scores = _previous_task_scores(store, name, spec_t.name, trev, limit, runs)
                rep.main_value = _mean_in(rows, spec_t.main_metric, ids)
            rep.seconds = time.perf_counter() - t0
            reports.append(rep)
    except BaseException as exc:
        writer.close(exc)
        raise
    run_id = writer.close()
    report = EvaluationReport(model=name, model_revision=revision, store=store.root, tasks=reports, run_id=run_id,
                              model_loaded=built["adapter"] is not None and adapter is None,
                              seconds=time.perf_counter() - t_start)
    if report.n_errors:
        say(f"{report.n_errors} sample(s) failed; their rows carry the error")
    for t in reports:
        for line in t.input_error_lines():
            say(line)
    return report


def list_sample_ids(spec: TaskSpec) -> list[str]:
    """Every sample id of a task at its current revision (from the ids cache, else by loading its data)."""
    from ..tasks import evaluator_for
    from ..tasks._data import task_revision

    trev = task_revision(spec)
    ids = known_sample_ids(spec.name, trev)
    if ids is None:
        ev = evaluator_for(spec)
        ids = ev.sample_ids(ev.load())
        remember_sample_ids(spec.name, trev, ids)
    return ids


def _time_limited(model: Any, timeout: float | None) -> Any:
    """`model` with every call limited to `timeout` seconds: its own limit where it has one
    (endpoints, Python callables), else a watchdog thread per call (`CallDeadline`)."""
    if timeout is None:
        return model
    if hasattr(model, "timeout"):
        model.timeout = float(timeout)
        return model
    from .worker import CallDeadline

    return CallDeadline(model, timeout)


def _ids_file(task: str, trev: str) -> Path:
    import hashlib

    from .. import __version__, config

    key = hashlib.sha256(f"{task}\0{trev}\0{__version__}".encode()).hexdigest()[:24]
    return config.home() / "cache" / "sample_ids" / f"{key}.json"


def known_sample_ids(task: str, trev: str) -> list[str] | None:
    """Sample ids of a task revision listed before (so a complete rerun need not load the data)."""
    import json

    try:
        data = json.loads(_ids_file(task, trev).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data.get("ids") if data.get("task") == task and data.get("task_revision") == trev else None


def remember_sample_ids(task: str, trev: str, ids: list[str]) -> None:
    """Record the sample ids of a task revision for `known_sample_ids` (best effort)."""
    import json

    from .._atomic import write_text_atomic

    with contextlib.suppress(OSError):  # a read-only home only costs a data load on the next run
        write_text_atomic(_ids_file(task, trev), json.dumps({"task": task, "task_revision": trev, "ids": ids}))


def _resolve_named(model: str, registry: ModelRegistry | None):
    from .models import resolve_spec

    spec = resolve_spec(model, registry)
    return spec.name, spec, None


def _bar(task: str, total: int, enabled: bool):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    # smoothing=0: the rate shown is samples over the time since the task started (encoding included)
    return tqdm(total=total, desc=task, unit="sample", file=sys.stderr, leave=True, dynamic_ncols=True, smoothing=0)


def _bump_texts(bar, n: int) -> None:
    if bar is not None:
        bar.n_texts = getattr(bar, "n_texts", 0) + n
        bar.set_postfix(texts=bar.n_texts, refresh=True)


def iter_task_names(specs: Iterable[TaskSpec]) -> list[str]:
    return [s.name for s in specs]
