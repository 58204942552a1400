"""Which metric of a task votes, and which way: metric directions and main metrics.

Sources, strongest first: the task's registered TaskSpec, then what the runs that wrote the
measurements recorded (`ResultStore.metric_info()`: an evaluation records every metric's
direction and marks the spec's main metric, an import marks the source's main score). A task's
main metric is the one the runs that wrote its data marked `main` (MTEB imports mark
`main_score`; among several, the registry's `main_metric`), else the registry's `main_metric`
when the data hold it, else the task's only metric.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..errors import SampleBenchError


def open_registry(registry):
    """A TaskRegistry from None (the default one), a folder, or a registry itself."""
    from ..registry import TaskRegistry

    if registry is None:
        return TaskRegistry()
    if isinstance(registry, str | Path):
        return TaskRegistry(Path(registry))
    return registry


def _spec(registry, task: str):
    return registry.get(task) if registry is not None and task in registry else None


def resolve_directions(
    store_info: dict[str, dict[str, Any]], tasks: Iterable[str], metrics_by_task: dict[str, list[str]], registry=None
) -> tuple[dict[tuple[str, str], bool], dict[str, str | None], list[tuple[str, str]]]:
    """(`higher_is_better` per known (task, metric), main metric per task, unknown (task, metric)s).

    `store_info` is task -> metric -> MetricInfo (or anything with `higher_is_better` and `main`).
    A (task, metric) that neither the registry nor any run declares is returned as unknown and
    left out of the directions.
    """
    directions: dict[tuple[str, str], bool] = {}
    main: dict[str, str | None] = {}
    unknown: list[tuple[str, str]] = []
    for task in tasks:
        spec = _spec(registry, task)
        info = store_info.get(task, {})
        present = metrics_by_task.get(task, [])
        declared = {m.name: m.higher_is_better for m in spec.metrics} if spec is not None else {}
        marked = [m for m, i in info.items() if getattr(i, "main", False) and m in present]
        if marked:  # what the runs marked (an import's main score), the registry's among several
            main[task] = spec.main_metric if spec is not None and spec.main_metric in marked else sorted(marked)[0]
        elif spec is not None and spec.main_metric in present or spec is not None:
            main[task] = spec.main_metric
        else:
            main[task] = next((m for m, i in info.items() if getattr(i, "main", False)), None)
        for metric in present:
            if metric in declared:
                directions[(task, metric)] = declared[metric]
            elif metric in info:
                directions[(task, metric)] = info[metric].higher_is_better
            else:
                unknown.append((task, metric))
    return directions, main, unknown


def unknown_note(unknown: list[tuple[str, str]], consequence: str) -> str:
    """One line for every metric of unknown direction (`consequence`: what was done about them)."""
    names = [f"{t}/{m}" for t, m in unknown]
    shown = ", ".join(names[:6]) + (f" and {len(names) - 6} more" if len(names) > 6 else "")
    return (f"direction of {shown} unknown (no run recorded it, task not registered): {consequence}; "
            "register the task (bench add-task) to declare it")


def voting_metrics(task: str, present: list[str], main: str | None, *, explicit: bool, all_metrics: bool,
                   notes: list[str]) -> list[str]:
    """The metrics of `task` whose ballots vote: the main one, else the only one, else all (noted).

    `explicit`: the user named the metrics, so every present one votes."""
    if explicit or all_metrics or not present:
        return list(present)
    if main in present:
        return [main]
    if len(present) > 1:
        notes.append(f"task {task}: no main metric known; all of {', '.join(present)} vote")
    return list(present)


def check_tasks(requested: list[str], known: Iterable[str], where: str) -> None:
    missing = [t for t in requested if t not in set(known)]
    if missing:
        from ..errors import closest_names

        close = closest_names(missing[0], set(known))
        raise SampleBenchError(f"task(s) {', '.join(missing)} have no results in {where}",
                               hint=f"closest: {close}" if close else "see `bench results list`")
