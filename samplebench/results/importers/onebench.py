"""ONEBench-style tables (Parquet).

* **wide**: one row per model, one column per sample: a model column (`model`, else the first
  string column) and every other column a sample id holding that model's score (null = not
  measured: no row). One measurement row per (model, sample) with `metric` (default `score`).
* **pairwise**: columns `model_a, model_b, data_instance, winner` (optional `judge`): one
  pairwise judgement per row; `winner` may be `a|b|tie`, `model_a|model_b`, or `tie (bothbad)`
  (ties of any kind map to `tie`).

The task is the file stem unless `task=` names it. A folder imports every `.parquet` in it.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from ...errors import SampleBenchError
from ._common import rename_models
from .aliases import ModelNames
from .driver import GiB, ImportContext, Importer

PAIRWISE_COLUMNS = ("model_a", "model_b", "data_instance", "winner")
_WINNER = {"a": "a", "model_a": "a", "b": "b", "model_b": "b", "tie": "tie", "tie (bothbad)": "tie",
           "tie_bothbad": "tie", "both_bad": "tie", "draw": "tie"}


def _read(path: Path) -> pa.Table:
    import pyarrow.parquet as pq

    try:
        return pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        raise SampleBenchError(f"{path}: cannot read as Parquet: {str(exc).splitlines()[0]}") from None


def pairwise_table(t: pa.Table, path: Path, task: str, names: ModelNames) -> tuple[pa.Table, int]:
    """ONEBench/arena pairwise rows -> the canonical pairwise table; returns (table, rows skipped)."""
    winner = pc.utf8_lower(pc.utf8_trim_whitespace(t["winner"].cast(pa.string())))
    known = pc.is_in(winner, value_set=pa.array(list(_WINNER)))
    if not pc.all(pc.fill_null(known, False)).as_py():
        row = pc.index(pc.fill_null(known, False), False).as_py()
        raise SampleBenchError(
            f"{path}: row {row + 1}: field 'winner' is {t['winner'][row].as_py()!r}; expected one of "
            f"{', '.join(sorted(_WINNER))}"
        )
    keys = list(_WINNER)
    mapped = pc.take(pa.array([_WINNER[k] for k in keys]), pc.index_in(winner, value_set=pa.array(keys)))
    n = t.num_rows
    out = pa.table({
        "task": pa.array([task] * n, pa.string()),
        "sample_id": t["data_instance"].cast(pa.string()),
        "model_a": t["model_a"].cast(pa.string()),
        "model_b": t["model_b"].cast(pa.string()),
        "winner": mapped,
        "judge": t["judge"].cast(pa.string()) if "judge" in t.column_names else pa.nulls(n, pa.string()),
    })
    out = rename_models(out, names, ("model_a", "model_b"))
    same = pc.equal(out["model_a"], out["model_b"])
    skipped = pc.sum(same).as_py() or 0
    return out.filter(pc.invert(same)), skipped


def wide_table(t: pa.Table, path: Path, task: str, metric: str, names: ModelNames,
               model_column: str | None = None) -> tuple[pa.Table, int]:
    """One row per model, one column per sample -> long measurement rows; returns (table, empty cells)."""
    if model_column is None:
        model_column = "model" if "model" in t.column_names else next(
            (f.name for f in t.schema if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)), None)
    if model_column is None or model_column not in t.column_names:
        raise SampleBenchError(f"{path}: no model column; name it 'model' (one row per model, one column per sample)")
    samples = [c for c in t.column_names if c != model_column]
    if not samples:
        raise SampleBenchError(f"{path}: no sample columns beside '{model_column}'")
    models = t[model_column].cast(pa.string())
    if models.null_count:
        raise SampleBenchError(f"{path}: row {pc.index(pc.is_null(models), True).as_py() + 1}: the model name is empty")
    parts, empty = [], 0
    for s in samples:
        try:
            v = t[s].cast(pa.float64())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            raise SampleBenchError(f"{path}: column '{s}' has type {t[s].type}, not numeric scores") from None
        v = pc.if_else(pc.is_nan(pc.fill_null(v, 0.0)), pa.scalar(None, pa.float64()), v)
        keep = pc.is_valid(v)
        empty += t.num_rows - pc.sum(keep).as_py() if t.num_rows else 0
        k = pc.sum(keep).as_py() or 0
        parts.append(pa.table({
            "model": models.filter(keep), "model_revision": pa.nulls(k, pa.string()),
            "task": pa.array([task] * k, pa.string()), "task_revision": pa.nulls(k, pa.string()),
            "sample_id": pa.array([str(s)] * k, pa.string()), "metric": pa.array([metric] * k, pa.string()),
            "value": v.filter(keep), "error": pa.nulls(k, pa.string()),
        }))
    return rename_models(pa.concat_tables(parts), names, ("model",)), empty


def read_onebench(ctx: ImportContext):
    """Each Parquet file one task: wide tables -> measurements, pairwise tables -> judgements."""
    task, metric = ctx.option("task"), ctx.option("metric")
    tables = []
    for f in ctx.files:
        t = _read(f)
        name = task or f.stem
        if all(c in t.column_names for c in PAIRWISE_COLUMNS):
            table, same = pairwise_table(t, f, name, ctx.names)
            ctx.skips.add("pairwise row compares a model with itself", same, f.name)
            tables.append(("pairwise", table))
        else:
            if ctx.kind == "pairwise":
                raise SampleBenchError(f"{f}: --pairwise given but the file lacks {', '.join(PAIRWISE_COLUMNS)}")
            table, empty = wide_table(t, f, name, metric, ctx.names)
            ctx.skips.add("empty cell (model not measured on that sample)", empty, f.name)
            ctx.info.set(name, metric, higher_is_better=ctx.option("higher_is_better"), kind="continuous", main=True)
            tables.append(("measurements", table))
    return tables


IMPORTER = Importer(
    name="onebench", suffixes=(".parquet",), read=read_onebench, pairwise=True, max_bytes=16 * GiB,
    options={"task": None, "metric": "score", "higher_is_better": True},
    identity=("task", "metric", "higher_is_better"), none_found="no .parquet files found",
    help="ONEBench parquet: wide (model x sample) or pairwise (model_a, model_b, data_instance, winner)",
)
