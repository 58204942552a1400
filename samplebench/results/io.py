"""Export and import of the canonical tables as Parquet, CSV or JSON Lines."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from .._atomic import publish
from ..errors import SampleBenchError
from .manifest import RunRecord
from .store import ResultStore

FORMATS = ("parquet", "csv", "jsonl")


def file_hash(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _plain(table: pa.Table) -> pa.Table:
    """Decode dictionary columns so every writer (CSV, JSON) can handle the table."""
    cols = [c.cast(c.type.value_type) if pa.types.is_dictionary(c.type) else c for c in table.columns]
    return pa.table(cols, names=table.column_names)


def write_table(table: pa.Table, out: Path, fmt: str) -> Path:
    """Write `table` to `out` in `fmt`, atomically."""
    table = _plain(table)
    if fmt == "parquet":
        return publish(out, lambda tmp: pq.write_table(table, tmp))
    if fmt == "csv":
        return publish(out, lambda tmp: pacsv.write_csv(table, tmp))
    if fmt == "jsonl":
        def write(tmp: Path) -> None:
            with open(tmp, "w", encoding="utf-8") as fh:
                for batch in table.to_batches(65536):
                    for row in batch.to_pylist():
                        fh.write(json.dumps(row, default=str) + "\n")
        return publish(out, write)
    raise SampleBenchError(f"unknown export format '{fmt}'; choose one of {', '.join(FORMATS)}")


def read_table(path: Path, fmt: str) -> pa.Table:
    """Read a canonical table file; any parse failure names the file and what went wrong."""
    if not path.exists():
        raise SampleBenchError(f"{path}: no such file")
    try:
        if fmt == "parquet":
            return pq.read_table(path)
        if fmt == "csv":
            opts = pacsv.ConvertOptions(
                column_types={"value": pa.float64(), "model_revision": pa.string(), "task_revision": pa.string(),
                              "sample_id": pa.string(), "error": pa.string()},
                strings_can_be_null=True,
                null_values=[""],  # only an empty cell is missing: "NaN", "nan", "NA" are text (or NaN values)
            )
            return pacsv.read_csv(path, convert_options=opts)
        if fmt == "jsonl":
            rows = []
            with open(path, encoding="utf-8") as fh:
                for lineno, line in enumerate(fh, 1):
                    if not line.strip():
                        continue
                    try:
                        row = json.loads(line)
                    except json.JSONDecodeError as exc:
                        raise SampleBenchError(f"{path}:{lineno}: invalid JSON: {exc.msg}") from None
                    if not isinstance(row, dict):
                        raise SampleBenchError(f"{path}:{lineno}: each line must be a JSON object")
                    rows.append(row)
            return pa.Table.from_pylist(rows)
    except SampleBenchError:
        raise
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise SampleBenchError(f"{path}: cannot read as {fmt}: {str(exc).splitlines()[0]}") from None
    raise SampleBenchError(f"unknown format '{fmt}'; choose one of {', '.join(FORMATS)}")


def import_file(store: ResultStore, path: Path, fmt: str, *, kind: str = "measurements") -> RunRecord | None:
    """Import one canonical file atomically; None when the same file content was imported before."""
    path = Path(path)
    return store.import_tables([(kind, read_table(path, fmt))], source=str(path), source_hash=file_hash(path))


def export(store: ResultStore, out: Path, fmt: str, *, models=None, tasks=None, kind="measurements") -> int:
    table = store.scan(kind=kind, models=models, tasks=tasks)
    write_table(table, Path(out), fmt)
    return table.num_rows
