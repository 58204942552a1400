"""`Selection`: which measurements — models, tasks, tags, task types, metrics, a benchmark, samples.

A Selection is a plain value; `plan()` resolves its task criteria against the task registry
(tags, types) and a benchmark's definition into the task names and per-task sample filters one
scan needs. Everything a criterion leaves open (`None`) selects all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ..errors import SampleBenchError


def _names(v: Sequence[str] | str | None) -> tuple[str, ...] | None:
    if v is None:
        return None
    if isinstance(v, str):
        return (v,)
    return tuple(v) or None


@dataclass(frozen=True)
class Selection:
    """Which measurements to read.

    * `models`, `tasks`, `metrics`: names (None = all; metrics None = each task's main metric);
      `exclude_models` drops models after the read.
    * `tags`, `task_types`: tasks with every given tag / any given type in the task registry.
    * `benchmark`: a benchmark name (MTEB's, or one defined in YAML) or a `Benchmark`: its tasks,
      and of task-level results only its splits and subsets (see `benchmarks`).
    * `sample_ids`: task -> the sample ids to keep (the hook capability queries use); a task not
      named keeps all its samples.
    * `all_metrics`: every metric votes, not only the main one; `pairwise`: read judgements too.
    """

    models: tuple[str, ...] | None = None
    tasks: tuple[str, ...] | None = None
    metrics: tuple[str, ...] | None = None
    tags: tuple[str, ...] | None = None
    task_types: tuple[str, ...] | None = None
    benchmark: object | None = None
    sample_ids: Mapping[str, Sequence[str]] | None = None
    exclude_models: tuple[str, ...] = ()
    all_metrics: bool = False
    pairwise: bool = True

    @classmethod
    def of(cls, *, models=None, tasks=None, metrics=None, tags=None, task_types=None, benchmark=None,
           sample_ids=None, exclude_models=(), all_metrics=False, pairwise=True) -> Selection:
        """A Selection from lists, single names or None (what CLI options and specs hold)."""
        return cls(models=_names(models), tasks=_names(tasks), metrics=_names(metrics), tags=_names(tags),
                   task_types=_names(task_types), benchmark=benchmark or None, sample_ids=sample_ids,
                   exclude_models=tuple(exclude_models or ()), all_metrics=all_metrics, pairwise=pairwise)


@dataclass
class Plan:
    """A Selection resolved for one scan: task names (None = every task in the source), the
    benchmark (whose entries filter task-level samples) and `samples` (task -> the only sample
    ids to keep)."""

    tasks: list[str] | None
    benchmark: object | None = None
    samples: dict[str, frozenset[str]] = field(default_factory=dict)


def plan(sel: Selection, registry=None) -> Plan:
    """Resolve tags, task types and the benchmark into task names (registry opened only if needed)."""
    from .benchmarks import resolve_benchmark
    from .directions import open_registry

    tasks = list(sel.tasks) if sel.tasks else None
    bench = None
    if sel.benchmark is not None:
        bench = resolve_benchmark(sel.benchmark, registry=registry)
        names = bench.task_names()
        if tasks is not None:
            outside = [t for t in tasks if t not in names]
            if outside:
                raise SampleBenchError(f"task(s) {', '.join(outside)} are not in benchmark {bench.name}",
                                       hint=f"`bench benchmarks show '{bench.name}'` lists its tasks")
        tasks = [t for t in names if tasks is None or t in tasks]
    if sel.tags or sel.task_types:
        reg = open_registry(registry)
        for key, values, hint in (("tag", sel.tags, "see `bench tasks list` for the tags in the registry"),
                                  ("type", sel.task_types, "see `bench tasks list`")):
            if not values:
                continue
            found = sorted({s.name for v in values for s in reg.filter(**{key: v})})
            if not found:
                raise SampleBenchError(f"no registered task has {key}(s) {', '.join(values)}", hint=hint)
            tasks = [t for t in (tasks or found) if t in found]
        if sel.task_types and not tasks:
            raise SampleBenchError("the selected tasks and task types have no task in common")
    samples = {task: frozenset(map(str, ids)) for task, ids in (sel.sample_ids or {}).items()}
    return Plan(tasks=tasks, benchmark=bench, samples=samples)
