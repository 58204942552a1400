"""Export and import of the canonical tables as Parquet, CSV or JSON Lines.

CSV files are opened by spreadsheets, which run a cell that starts with `=`, `+`, `-`, `@`, a
tab or a carriage return as a formula (CSV injection). Exported CSV text cells that start with
one of those (after any quotes) get a leading `'` (the OWASP rule), which spreadsheets show as
text; reading a CSV back strips that one quote again, so export -> import round-trips exactly.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from .._atomic import publish
from ..errors import SampleBenchError, closest_names, require_writable
from .manifest import RunRecord
from .store import ResultStore

FORMATS = ("parquet", "csv", "jsonl")
# A text cell starting with one of these is a formula to a spreadsheet (OWASP "CSV injection").
# Cells that already start with quotes before such a character get one more, so reading back is exact.
_FORMULA = r"^'*[=+\-@\t\r]"
_ESCAPED_FORMULA = r"^'+[=+\-@\t\r]"


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


def _map_strings(table: pa.Table, pattern: str, change) -> pa.Table:
    for i, field in enumerate(table.schema):
        if pa.types.is_string(field.type) or pa.types.is_large_string(field.type):
            col = table.column(i)
            hit = pc.fill_null(pc.match_substring_regex(col, pattern), False)
            if pc.any(hit).as_py():
                table = table.set_column(i, field.name, pc.if_else(hit, change(col), col))
    return table


def neutralise_formulas(table: pa.Table) -> pa.Table:
    """Prefix `'` to every text cell a spreadsheet would run as a formula (see the module doc)."""
    return _map_strings(table, _FORMULA, lambda col: pc.binary_join_element_wise("'", col, ""))


def restore_formulas(table: pa.Table) -> pa.Table:
    """Undo `neutralise_formulas` on a CSV read back: drop the one `'` before a formula character."""
    return _map_strings(table, _ESCAPED_FORMULA, lambda col: pc.utf8_slice_codeunits(col, 1))


def write_table(table: pa.Table, out: Path, fmt: str) -> Path:
    """Write `table` to `out` in `fmt`, atomically."""
    table = _plain(table)
    if fmt == "parquet":
        return publish(out, lambda tmp: pq.write_table(table, tmp))
    if fmt == "csv":
        safe = neutralise_formulas(table)
        return publish(out, lambda tmp: pacsv.write_csv(safe, tmp))
    if fmt == "jsonl":
        def write(tmp: Path) -> None:
            with open(tmp, "w", encoding="utf-8") as fh:
                for batch in table.to_batches(65536):
                    for row in batch.to_pylist():
                        fh.write(json.dumps(row, default=str) + "\n")
        return publish(out, write)
    raise SampleBenchError(f"unknown export format '{fmt}'; choose one of {', '.join(FORMATS)}")


def iter_jsonl(path: Path, *, hint: str | None = None) -> Iterator[tuple[int, dict[str, Any]]]:
    """`(line number, object)` for every non-blank line of a JSON Lines file (the one loop every
    `.jsonl` reader uses: canonical tables, lm-eval samples, sample cards).

    A line that is not JSON or not one JSON object, or bytes that are not UTF-8 (a binary file, a
    line cut inside a character), raise `SampleBenchError` naming the file and the line:
    `FILE:LINE: invalid JSON (MESSAGE)`, `FILE:LINE: expected one JSON object per line, got
    TYPE`, `FILE:LINE: not UTF-8 text`, each ending in "; nothing was imported". A truncated
    last line (a writer killed mid-line) is invalid JSON like any other.
    """
    lineno = 0
    try:
        with open(path, encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise SampleBenchError(f"{path}:{lineno}: invalid JSON ({exc.msg}); nothing was imported",
                                           hint=hint) from None
                if not isinstance(obj, dict):
                    raise SampleBenchError(f"{path}:{lineno}: expected one JSON object per line, got "
                                           f"{type(obj).__name__}; nothing was imported", hint=hint)
                yield lineno, obj
    except UnicodeDecodeError:
        raise SampleBenchError(f"{path}:{lineno + 1}: not UTF-8 text; nothing was imported", hint=hint) from None


def read_table(path: Path, fmt: str) -> pa.Table:
    """Read a canonical table file; any parse failure names the file and what went wrong."""
    if not path.exists():
        raise SampleBenchError(f"{path}: no such file")
    if not path.is_file():  # follows links: a folder, device or pipe is not a table file
        raise SampleBenchError(f"{path}: not a regular file", hint=f"give the path of one .{fmt} file")
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
            return restore_formulas(pacsv.read_csv(path, convert_options=opts))
        if fmt == "jsonl":
            rows = [row for _, row in iter_jsonl(path)]
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
    """Write the latest row of every selected cell to `out`; a model or task the store lacks is an error."""
    require_writable(Path(out).parent, "output folder", hint="pass --out a path in a folder you can write")
    for what, wanted, columns in (("model", models, ("model_a", "model_b") if kind == "pairwise" else ("model",)),
                                  ("task", tasks, ("task",))):
        if not wanted:
            continue
        known = set().union(*(store.distinct(c, kind=kind) for c in columns))
        unknown = [w for w in wanted if w not in known]
        if unknown:
            close = closest_names(unknown[0], known)
            raise SampleBenchError(
                f"no {what} '{unknown[0]}' in the store {store.root}" + (f" ({kind})" if kind != "measurements" else ""),
                hint=f"closest: {close}" if close else f"the store has {len(known)} {what}(s); see `bench results list`")
    table = store.scan(kind=kind, models=models, tasks=tasks)
    write_table(table, Path(out), fmt)
    return table.num_rows
