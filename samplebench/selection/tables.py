"""The model x task table of main scores of a benchmark, computed the way mteb computes it.

mteb's score of a model on a task (`TaskResult.validate_and_filter_scores` then `get_score`):
the flat mean of `main_score` over every (split, subset) cell the benchmark's task evaluates;
a cell without a score makes the task's score missing (NaN), never a mean of fewer cells.

Here a cell is a sample `split/subset` of task-level results (MTEB imports), and the score is the
task's main metric: the one a run marked main (MTEB imports mark `main_score`), else the
registry's. Per-sample results of a registered task (no split in their sample ids) get the mean
of their per-sample values over the task's samples.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import SampleBenchError
from .query import Selection

FORMATS = ("csv", "parquet", "markdown")


def _main_candidates(store, bench, registry) -> tuple[dict[str, list[str]], set[str]]:
    """Per task, the metrics that may be its main score, best first; and all of them."""
    from .directions import open_registry

    info = store.metric_info()
    reg = open_registry(registry)
    out: dict[str, list[str]] = {}
    for e in bench.tasks:
        marked = sorted(m for m, i in info.get(e.task, {}).items() if i.main)
        spec_main = [reg.get(e.task).main_metric] if e.task in reg else []
        out[e.task] = list(dict.fromkeys([*marked, *spec_main]))
    return out, {m for ms in out.values() for m in ms}


def main_score_table(store, benchmark, registry=None, *, models=None) -> tuple[pa.Table, list[str]]:
    """(table, notes): one row per model (sorted), a `model` column then one column per task of
    the benchmark, in the benchmark's order; null where the model lacks a cell of the task.

    One scan of the store (the benchmark's tasks and their main metrics, pushed down)."""
    from ..results import ResultStore
    from .benchmarks import resolve_benchmark
    from .read import read_store

    store = ResultStore(store) if isinstance(store, str | Path) else store
    bench = resolve_benchmark(benchmark, registry=registry)
    candidates, metrics = _main_candidates(store, bench, registry)
    sel = Selection.of(benchmark=bench, models=models, metrics=sorted(metrics) or None, pairwise=False)
    m = read_store(store, sel, registry, columns=[])
    notes = list(m.notes)
    columns: dict[str, dict[str, float]] = {}
    for task, table in m.tables().items():
        entry = bench.task(task)
        metric = next((c for c in candidates.get(task, []) if c in m.metrics.get(task, [])), None)
        if metric is None:
            notes.append(f"task {task}: no main score in the store (metrics: {', '.join(m.metrics.get(task, []))})")
            continue
        t = table.filter(pc.equal(table["metric"].cast(pa.string()), metric))
        columns[task] = _task_scores(t, entry)
    names = sorted({x for col in columns.values() for x in col})
    out: dict[str, pa.Array] = {"model": pa.array(names, pa.string())}
    for e in bench.tasks:
        col = columns.get(e.task, {})
        out[e.task] = pa.array([col.get(x) for x in names], pa.float64())
    return pa.table(out), notes


def _task_scores(t: pa.Table, entry) -> dict[str, float]:
    """model -> the task's score (see the module docstring)."""
    if t.num_rows == 0:
        return {}
    ids = t["sample_id"].cast(pa.string())
    cells = entry.cells()
    task_level = pc.any(pc.match_substring(ids, "/")).as_py()
    models = t["model"].cast(pa.string())
    value = t["value"]
    g = pa.table({"model": models, "value": value}).group_by("model").aggregate([("value", "mean"),
                                                                                 ("value", "count")])
    names = g["model"].to_pylist()
    means = g["value_mean"].to_numpy(zero_copy_only=False)
    counts = g["value_count"].to_numpy(zero_copy_only=False)
    if task_level and cells is not None:
        need = len(cells)
        return {n: float(v) for n, v, c in zip(names, means, counts, strict=True) if c == need and np.isfinite(v)}
    return {n: float(v) for n, v in zip(names, means, strict=True) if np.isfinite(v)}


def write_table(table: pa.Table, fmt: str, out: str | Path | None) -> str | None:
    """Write `table` as csv/parquet/markdown to `out`, or return the text (csv, markdown) for stdout."""
    if fmt not in FORMATS:
        raise SampleBenchError(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if fmt == "parquet":
        if out is None:
            raise SampleBenchError("--format parquet needs --out FILE")
        import pyarrow.parquet as pq

        from .._atomic import publish

        publish(Path(out), lambda tmp: pq.write_table(table, tmp))
        return None
    text = _csv(table) if fmt == "csv" else _markdown(table)
    if out is None:
        return text
    from .._atomic import write_text_atomic

    write_text_atomic(Path(out), text)
    return None


def _cell(v, digits: int | None) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return repr(v) if digits is None else f"{v:.{digits}f}"
    return str(v)


def _csv(table: pa.Table) -> str:
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(table.column_names)
    for row in zip(*(table[c].to_pylist() for c in table.column_names), strict=True):
        w.writerow([_cell(v, None) for v in row])
    return buf.getvalue()


def _markdown(table: pa.Table) -> str:
    def esc(s: str) -> str:
        return s.replace("|", "\\|")

    lines = ["| " + " | ".join(esc(c) for c in table.column_names) + " |",
             "|" + "|".join(["---"] + ["---:"] * (table.num_columns - 1)) + "|"]
    for row in zip(*(table[c].to_pylist() for c in table.column_names), strict=True):
        lines.append("| " + " | ".join(esc(_cell(v, 4)) if v is not None else "–" for v in row) + " |")
    return "\n".join(lines) + "\n"
