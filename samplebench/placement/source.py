"""Reading a pool from a results store: the one module of `samplebench.placement` that does I/O.

`read_pool(store, tasks)` reads the selected tasks' main metric through `selection.read_store` (the
read `bench aggregate` does; overall rows only: per-rater-group rows are details, not more samples)
and returns the models x samples `Pool`
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


def read_pool(store, tasks: Sequence[str], *, target: str | None = None,
              task_samples: Mapping[str, Sequence[str]] | None = None, models: Sequence[str] | None = None,
              only: Mapping[str, Sequence[str]] | None = None) -> PoolData:
    """The pool of every model but `target` on `tasks` (main metrics), read by `selection.read_store`.

    The read is the one `bench aggregate` does (`Selection` of the tasks, `only` as its sample ids):
    each task's main metric and its direction from the runs' metric info and the task registry,
    per-rater-group rows left out (details, not more samples). A task whose rows name no main
    metric among several is refused: a placement scores one value per sample.

    Samples are those any model has a value on, plus `task_samples` (every sample of each task, when
    the caller knows them: a new model may be placed on samples no pool model has). `models` limits
    the pool to those models (a replay uses the pool a placement had); `only` (task -> sample ids, e.g.
    a saved capability's) keeps only those samples of the tasks it names."""
    import pyarrow.compute as pc

    from ..selection import Selection, read_store

    tasks = list(dict.fromkeys(tasks))
    wanted_models = None if models is None else sorted({*models, *([target] if target else [])})
    meas = read_store(store, Selection.of(tasks=tasks, models=wanted_models, sample_ids=only, pairwise=False),
                      columns=["value"])
    metrics: dict[str, str] = {}
    direction: dict[str, bool] = {}
    for t in tasks:
        use = meas.metrics.get(t) or []
        if not use:
            raise SampleBenchError(f"task '{t}': the store holds no results for it",
                                   hint="evaluate or import results for it first")
        if len(use) > 1:
            raise SampleBenchError(f"task '{t}': the store records no main metric among {', '.join(sorted(use))}",
                                   hint="import it with its metric info (a task spec) or select one metric per task")
        metrics[t] = use[0]
        direction[t] = meas.directions.get((t, use[0]), True)
    table = meas.table()
    if "group" in table.column_names:
        table = table.filter(pc.is_null(table["group"]))
    t_code, t_dict = _codes(table["task"])
    task_index = {t: i for i, t in enumerate(tasks)}
    task_of_code = np.array([task_index.get(t, -1) for t in t_dict], dtype=np.int64)
    t_row = task_of_code[t_code] if len(t_dict) else np.zeros(0, np.int64)
    model_code, model_dict = _codes(table["model"])
    s_code, s_dict = _codes(table["sample_id"])
    values = table["value"].to_numpy(zero_copy_only=False).astype(np.float64)
    # every sample of the selection: the listed ones first (a new model may be placed on samples no pool
    # model has), then those only the store knows
    s_names = list(s_dict)
    s_of = {name: k for k, name in enumerate(s_names)}
    pre_t, pre_s = [], []
    for t in tasks:
        for sid in (task_samples or {}).get(t, []):
            sid = str(sid)
            if sid not in s_of:
                s_of[sid] = len(s_names)
                s_names.append(sid)
            pre_t.append(task_index[t])
            pre_s.append(s_of[sid])
    width = max(len(s_names), 1)
    pre_key = np.asarray(pre_t, np.int64) * width + np.asarray(pre_s, np.int64)
    row_key = t_row * width + s_code
    _, first = np.unique(np.concatenate([pre_key, row_key]), return_index=True)
    keys = np.concatenate([pre_key, row_key])[np.sort(first)]  # first-appearance order
    order = np.argsort(keys, kind="stable")
    col = order[np.searchsorted(keys[order], row_key)]
    names = sorted(set(model_dict) - {target})
    row_of_code = _rows(model_dict, names, target)
    r = row_of_code[model_code] if len(model_code) else np.zeros(0, np.int64)
    matrix = np.full((len(names), len(keys)), np.nan)
    pool_rows = r >= 0
    matrix[r[pool_rows], col[pool_rows]] = values[pool_rows]
    known = {int(j): float(v) for j, v in zip(col[~pool_rows], values[~pool_rows], strict=True)}
    sample_task = keys // width
    pool = Pool(values=matrix, models=names, sample_task=sample_task, tasks=tasks,
                sample_ids=[s_names[k] for k in keys % width], higher_is_better=np.array([direction[t] for t in tasks]))
    return PoolData(pool=pool, known=known, metrics=metrics)


def _codes(column) -> tuple[np.ndarray, list[str]]:
    """Integer codes and the dictionary of a string (or dictionary) column."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = column.cast(pa.string())
    arr = pc.dictionary_encode(arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr)
    return arr.indices.to_numpy(zero_copy_only=False).astype(np.int64), [str(v) for v in arr.dictionary.to_pylist()]


def _rows(model_dict: list[str], names: list[str], target: str | None) -> np.ndarray:
    index = {m: i for i, m in enumerate(names)}
    return np.array([index.get(m, -1) if m != target else -1 for m in model_dict], dtype=np.int64)
