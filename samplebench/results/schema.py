"""The sample-level data contract (DESIGN.md): Arrow schemas, validation and normalisation.

Measurements: one row per (model, task, sample_id, metric) — plus `group` when that detail
column is present, so per-rater-group rows (DICES) are cells of their own. Pairwise judgements:
one row per (task, sample_id, model_a, model_b, judge).
"""

from __future__ import annotations

import datetime as dt
import uuid

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import SampleBenchError

TIMESTAMP = pa.timestamp("us", tz="UTC")

MEASUREMENT_SCHEMA = pa.schema(
    [
        pa.field("model", pa.string(), nullable=False),
        pa.field("model_revision", pa.string()),
        pa.field("task", pa.string(), nullable=False),
        pa.field("task_revision", pa.string()),
        pa.field("sample_id", pa.string(), nullable=False),
        pa.field("metric", pa.string(), nullable=False),
        pa.field("value", pa.float64()),
        pa.field("error", pa.string()),
        pa.field("run_id", pa.string(), nullable=False),
        pa.field("created_at", TIMESTAMP, nullable=False),
    ]
)
MEASUREMENT_KEY = ("model", "task", "sample_id", "metric")
# Optional detail columns and their types; any other extra column is kept as written.
DETAIL_COLUMNS = {"group": pa.string(), "prediction": pa.string()}

PAIRWISE_SCHEMA = pa.schema(
    [
        pa.field("task", pa.string(), nullable=False),
        pa.field("sample_id", pa.string(), nullable=False),
        pa.field("model_a", pa.string(), nullable=False),
        pa.field("model_b", pa.string(), nullable=False),
        pa.field("winner", pa.string(), nullable=False),
        pa.field("judge", pa.string()),
        pa.field("run_id", pa.string(), nullable=False),
        pa.field("created_at", TIMESTAMP, nullable=False),
    ]
)
PAIRWISE_KEY = ("task", "sample_id", "model_a", "model_b", "judge")
WINNERS = ("a", "b", "tie")

# Columns the writer fills in when the caller leaves them out.
_FILLED = {"run_id", "created_at"}


def new_run_id() -> str:
    """Sortable by start time: `20261128T071203123456-1a2b3c4d`."""
    now = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
    return f"{now}-{uuid.uuid4().hex[:8]}"


def key_columns(schema: pa.Schema, kind: str = "measurements") -> list[str]:
    if kind == "pairwise":
        return list(PAIRWISE_KEY)
    return list(MEASUREMENT_KEY) + (["group"] if "group" in schema.names else [])


def _to_table(data: pa.Table | pa.RecordBatch | dict | list) -> pa.Table:
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data])
    if isinstance(data, dict):
        return pa.table(data)
    if isinstance(data, list):
        return pa.Table.from_pylist(data)
    if hasattr(data, "to_arrow"):  # polars
        return data.to_arrow()
    if hasattr(data, "columns") and hasattr(data, "dtypes"):  # pandas
        return pa.Table.from_pandas(data, preserve_index=False)
    raise TypeError(f"cannot turn {type(data).__name__} into an Arrow table")


def normalise(
    data, *, kind: str = "measurements", run_id: str | None = None, where: str = "input",
    check_duplicates: bool = True,
) -> pa.Table:
    """Validate `data` against the contract and return it with canonical types and column order.

    Raises SampleBenchError naming `where` and the column when a required column is missing,
    a value cannot be cast to its type, a required value is null, `value` is null without an
    `error`, `winner` is not a/b/tie, or a cell appears twice.
    """
    schema = PAIRWISE_SCHEMA if kind == "pairwise" else MEASUREMENT_SCHEMA
    table = _to_table(data)
    n = table.num_rows
    missing = [f.name for f in schema if f.name not in table.column_names and f.name not in _FILLED]
    if kind == "measurements" and "model_revision" in missing:
        missing.remove("model_revision")
    if kind == "measurements" and "task_revision" in missing:
        missing.remove("task_revision")
    if kind == "measurements" and "error" in missing:
        missing.remove("error")
    if kind == "pairwise" and "judge" in missing:
        missing.remove("judge")
    if missing:
        raise SampleBenchError(
            f"{where}: missing column(s) {', '.join(missing)}; "
            f"the {kind} table needs: {', '.join(schema.names)}"
        )
    columns: dict[str, pa.Array | pa.ChunkedArray] = {}
    for field in schema:
        if field.name in table.column_names:
            col = table.column(field.name)
            if pa.types.is_dictionary(col.type):
                col = col.cast(col.type.value_type)
            try:
                if field.name == "created_at" and pa.types.is_timestamp(col.type) and col.type.tz is None:
                    col = pc.assume_timezone(col, "UTC")
                col = col.cast(field.type)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
                raise SampleBenchError(
                    f"{where}: column '{field.name}' has type {col.type}, which cannot be read as {field.type}"
                ) from None
        elif field.name == "run_id":
            if not run_id:
                raise SampleBenchError(f"{where}: missing column run_id")
            col = _constant(run_id, n, pa.string())
        elif field.name == "created_at":
            col = _constant(dt.datetime.now(dt.UTC), n, TIMESTAMP)
        else:
            col = pa.nulls(n, field.type)
        if not field.nullable and col.null_count:
            first = pc.index(pc.is_null(col), True).as_py()
            raise SampleBenchError(f"{where}: column '{field.name}' is empty at row {first + 1}")
        columns[field.name] = col
    for name in table.column_names:
        if name not in columns:
            col = table.column(name)
            if name in DETAIL_COLUMNS:
                try:
                    col = col.cast(DETAIL_COLUMNS[name])
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                    raise SampleBenchError(f"{where}: column '{name}' must be {DETAIL_COLUMNS[name]}") from None
            columns[name] = col
    out = pa.table(columns)
    if kind == "measurements":
        out = nonfinite_to_errors(out)
        bad = pc.and_(pc.is_null(out["value"]), pc.is_null(out["error"]))
        if pc.any(bad).as_py():
            first = pc.index(bad, True).as_py()
            raise SampleBenchError(
                f"{where}: row {first + 1} has neither a value nor an error; set `error` to say why it is empty"
            )
    else:
        ok = pc.is_in(out["winner"], value_set=pa.array(WINNERS))
        if not pc.all(ok).as_py():
            first = pc.index(ok, False).as_py()
            raise SampleBenchError(
                f"{where}: row {first + 1}: winner must be one of a, b, tie, got {out['winner'][first].as_py()!r}"
            )
    if check_duplicates:
        _refuse_duplicates(out, key_columns(out.schema, kind), where)
    return out


NONFINITE_ERROR = "non-finite value ({}) is not a measurement"


def nonfinite_to_errors(table: pa.Table) -> pa.Table:
    """The one rule for NaN and ±inf in `value`: the row becomes an error row, never a value.

    A non-finite value is replaced by null and, unless the row already says why, `error` is set to
    `non-finite value (nan|inf|-inf) is not a measurement`. Every writer (evaluate, imports, appends)
    goes through here, so no aggregator ever sees one. Returns `table` untouched when all values
    are finite or null.
    """
    if "value" not in table.column_names or table.num_rows == 0:
        return table
    value = table["value"]
    bad = pc.fill_null(pc.invert(pc.is_finite(value)), False)  # a null value is not a non-finite one
    if not pc.any(bad).as_py():
        return table
    reason = pc.if_else(pc.is_nan(value), pa.scalar(NONFINITE_ERROR.format("nan")),
                        pc.if_else(pc.greater(value, 0), pa.scalar(NONFINITE_ERROR.format("inf")),
                                   pa.scalar(NONFINITE_ERROR.format("-inf"))))
    error = table["error"] if "error" in table.column_names else pa.nulls(table.num_rows, pa.string())
    if pa.types.is_dictionary(error.type):
        error = error.cast(error.type.value_type)
    error = pc.if_else(bad, pc.coalesce(error, reason), error)
    value = pc.if_else(bad, pa.scalar(None, value.type), value)
    table = table.set_column(table.column_names.index("value"), "value", value)
    if "error" in table.column_names:
        return table.set_column(table.column_names.index("error"), "error", error)
    return table.append_column("error", error)


def _constant(value, n: int, type_: pa.DataType) -> pa.Array:
    """`n` copies of `value`, built in C++ rather than from a Python list."""
    return pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, np.int32)), pa.array([value], type_)).cast(type_)


def _refuse_duplicates(table: pa.Table, keys: list[str], where: str) -> None:
    if table.num_rows == 0:
        return
    counts = table.select(keys).group_by(keys, use_threads=False).aggregate([([], "count_all")])
    if counts.num_rows == table.num_rows:
        return
    dup = counts.filter(pc.greater(counts["count_all"], 1)).slice(0, 1).to_pylist()[0]
    cell = ", ".join(f"{k}={dup[k]!r}" for k in keys)
    raise SampleBenchError(f"{where}: duplicate cell ({cell}) appears {dup['count_all']} times; keep one row per cell")
