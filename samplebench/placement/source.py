"""Reading a pool from a results store: the one module of `samplebench.placement` that does I/O.

`read_pool(store, tasks)` scans the store once for the selected tasks' main metric (overall rows
only: per-rater-group rows are details, not more samples) and returns the models x samples `Pool`
plus, for a `target` model, the values it already has (they count as answered). The rest of the
package is pure computation over the arrays this returns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import SampleBenchError
from .pool import Pool


@dataclass(frozen=True)
class PoolData:
    """The pool (without the target model), the target's known values (sample index -> raw value)
    and each task's main metric."""

    pool: Pool
    known: dict[int, float]
    metrics: dict[str, str]


def main_metrics(store, tasks: Sequence[str], present: Mapping[str, set[str]]) -> tuple[dict[str, str], dict[str, bool]]:
    """Main metric and its direction per task from the runs' metric info; a task with one metric in
    the rows (`present`) and no declared main metric uses that one (higher is better unless declared)."""
    info = store.metric_info()
    metrics: dict[str, str] = {}
    direction: dict[str, bool] = {}
    for t in tasks:
        declared = info.get(t, {})
        main = [m for m, mi in declared.items() if mi.main and m in present.get(t, set())]
        if not main and len(present.get(t, ())) == 1:
            main = list(present[t])
        if not main:
            if not present.get(t):
                raise SampleBenchError(f"task '{t}': the store holds no results for it",
                                       hint="evaluate or import results for it first")
            raise SampleBenchError(f"task '{t}': the store records no main metric among {', '.join(sorted(present[t]))}",
                                   hint="import it with its metric info (a task spec) or select one metric per task")
        metrics[t] = main[0]
        direction[t] = declared[main[0]].higher_is_better if main[0] in declared else True
    return metrics, direction


def read_pool(store, tasks: Sequence[str], *, target: str | None = None,
              task_samples: Mapping[str, Sequence[str]] | None = None) -> PoolData:
    """The pool of every model but `target` on `tasks` (main metrics), in one scan of `store`.

    Samples are those any model has a value on, plus `task_samples` (every sample of each task, when
    the caller knows them: a new model may be placed on samples no pool model has)."""
    import pyarrow.compute as pc

    tasks = list(dict.fromkeys(tasks))
    cols = ["model", "task", "sample_id", "metric", "value"]
    has_group = "group" in store.column_names()
    table = store.scan(tasks=tasks, columns=cols + (["group"] if has_group else []))
    if has_group:
        table = table.filter(pc.is_null(table["group"]))
    task_col = np.asarray(table["task"].cast("string").to_pylist(), dtype=object)
    metric_col = np.asarray(table["metric"].cast("string").to_pylist(), dtype=object)
    present: dict[str, set[str]] = {}
    for t, m in set(zip(task_col.tolist(), metric_col.tolist(), strict=True)):
        present.setdefault(t, set()).add(m)
    metrics, direction = main_metrics(store, tasks, present)
    keep = np.array([metrics.get(t) == m for t, m in zip(task_col, metric_col, strict=True)], dtype=bool)
    task_col = task_col[keep]
    models = np.asarray(table["model"].cast("string").to_pylist(), dtype=object)[keep]
    sids = np.asarray(table["sample_id"].cast("string").to_pylist(), dtype=object)[keep]
    values = table["value"].to_numpy(zero_copy_only=False).astype(np.float64)[keep]
    keys: dict[tuple[str, str], int] = {}
    for t in tasks:
        for s in (task_samples or {}).get(t, []):
            keys.setdefault((t, str(s)), len(keys))
    col = np.empty(len(sids), dtype=np.int64)
    for k, (t, s) in enumerate(zip(task_col, sids, strict=True)):
        col[k] = keys.setdefault((t, s), len(keys))
    names = sorted(set(models.tolist()) - {target})
    row_of = {m: i for i, m in enumerate(names)}
    matrix = np.full((len(names), len(keys)), np.nan)
    known: dict[int, float] = {}
    for m, j, v in zip(models, col, values, strict=True):
        if m == target:
            known[int(j)] = float(v)
        else:
            matrix[row_of[m], j] = v
    task_index = {t: i for i, t in enumerate(tasks)}
    sample_task = np.array([task_index[t] for t, _ in keys], dtype=np.int64)
    pool = Pool(values=matrix, models=names, sample_task=sample_task, tasks=tasks,
                sample_ids=[s for _, s in keys], higher_is_better=np.array([direction[t] for t in tasks]))
    return PoolData(pool=pool, known=known, metrics=metrics)
