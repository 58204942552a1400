"""Instance-level tables from "What are the best systems?" (Colombo et al., 2022).

Each CSV is one task (its file stem, e.g. `SUM_EVAL`); a row is one (instance, system) with one
column per metric. NB the column names are swapped in the published files: `System` holds the
instance id and `Utterance` the system id. Every other column is a metric, automatic (ROUGE,
BERTScore, ...) or human (`H:*`); all are higher-is-better (the JS divergences are stored negated).
One measurement row per (system, instance, metric); empty cells become rows with an error.

System ids are local to each table (`M0` of SUM_EVAL is not `M0` of TAC_08), so by default the
model is named `<task>/<system>` (`SUM_EVAL/M0`); `prefix_systems=False` keeps the bare id.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from ...errors import SampleBenchError
from .aliases import ModelNames
from .driver import GiB, ImportContext, Importer

INSTANCE_COLUMN = "System"  # sic: the instance id
SYSTEM_COLUMN = "Utterance"  # sic: the system id


def colombo_table(path: Path, names: ModelNames | None = None, *, prefix_systems: bool = True,
                  ) -> tuple[pa.Table, list[str]]:
    """One instance-level CSV -> canonical rows (task = file stem) and its metric columns."""
    import pyarrow.csv as pacsv

    path = Path(path)
    try:
        t = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(
            column_types={INSTANCE_COLUMN: pa.string(), SYSTEM_COLUMN: pa.string()}))
    except pa.ArrowInvalid as exc:
        raise SampleBenchError(f"{path}: cannot read as an instance-level table: {str(exc).splitlines()[0]}") from None
    for col in (INSTANCE_COLUMN, SYSTEM_COLUMN):
        if col not in t.column_names:
            raise SampleBenchError(
                f"{path}: missing column '{col}' (the instance-level tables name the instance id 'System' "
                f"and the system id 'Utterance')"
            )
        if t[col].null_count:
            row = pc.index(pc.is_null(t[col]), True).as_py()
            raise SampleBenchError(f"{path}:{row + 2}: column '{col}' is empty")
    metrics = [c for c in t.column_names if c not in (INSTANCE_COLUMN, SYSTEM_COLUMN)]
    if not metrics:
        raise SampleBenchError(f"{path}: no metric columns besides System/Utterance")
    for m in metrics:
        if not (pa.types.is_floating(t[m].type) or pa.types.is_integer(t[m].type) or pa.types.is_null(t[m].type)):
            bad = 0
            try:
                t[m].cast(pa.float64())
            except pa.ArrowInvalid:
                vals = t[m].to_pylist()
                for i, v in enumerate(vals):
                    try:
                        float(v)
                    except (TypeError, ValueError):
                        bad = i
                        break
                raise SampleBenchError(f"{path}:{bad + 2}: column '{m}' holds {vals[bad]!r}, not a number") from None
    systems = t[SYSTEM_COLUMN]
    if prefix_systems:
        systems = pc.binary_join_element_wise(pa.scalar(path.stem), systems, "/")
    if names is not None:
        uniq = pc.unique(systems).to_pylist()
        systems = pc.take(pa.array([names(u) for u in uniq]), pc.index_in(systems, value_set=pa.array(uniq)))
    n = t.num_rows
    parts = []
    for m in metrics:
        v = t[m].cast(pa.float64())
        nan = pc.is_nan(pc.fill_null(v, 0.0))
        v = pc.if_else(nan, pa.scalar(None, pa.float64()), v)
        err = pc.if_else(pc.is_null(v), pa.scalar("empty cell in source"), pa.scalar(None, pa.string()))
        parts.append(pa.table({
            "model": systems, "model_revision": pa.nulls(n, pa.string()),
            "task": pa.array([path.stem] * n, pa.string()), "task_revision": pa.nulls(n, pa.string()),
            "sample_id": t[INSTANCE_COLUMN], "metric": pa.array([m] * n, pa.string()),
            "value": v, "error": err,
        }))
    return pa.concat_tables(parts), metrics


def read_colombo(ctx: ImportContext):
    """Each CSV one task; (kind, table) per file for the driver."""
    tables = []
    empty_cells: list[str] = []
    for f in ctx.files:
        table, metrics = colombo_table(f, ctx.names, prefix_systems=ctx.option("prefix_systems"))
        for m in metrics:
            ctx.info.set(f.stem, m, higher_is_better=True, kind="continuous", main=(m == "H:overall"))
        tables.append(("measurements", table))
        errors = table.num_rows - pc.count(table["error"], mode="only_null").as_py()
        if errors:
            empty_cells.append(f"{f.name}: {errors}")
    ctx.notes.append("columns swapped in the source: 'System' = instance id, 'Utterance' = system id; "
                     "human metrics are the 'H:*' columns")
    if ctx.option("prefix_systems"):
        ctx.notes.append("system ids are local to each table: models are named '<task>/<system>'")
    if empty_cells:
        ctx.notes.append("empty metric cells imported as rows with an error (value null): " + ", ".join(empty_cells))
    return tables


IMPORTER = Importer(
    name="colombo", suffixes=(".csv",), read=read_colombo, options={"prefix_systems": True},
    identity=("prefix_systems",), max_bytes=2 * GiB, none_found="no instance-level CSV files found",
    help="'What are the best systems?' instance-level CSVs (System = instance, Utterance = system)",
)
