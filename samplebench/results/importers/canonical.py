"""Tables already in the canonical columns (DESIGN.md): Parquet, CSV or JSON Lines.

`--format canonical` takes one file or a folder and reads each file by its suffix (`.parquet`,
`.csv`, `.jsonl`); `--format parquet|csv|jsonl` reads that one format. Measurement tables have
`model, task, sample_id, metric, value` (optional `model_revision, task_revision, error` and
detail columns); `--pairwise` tables have `task, sample_id, model_a, model_b, winner`
(optional `judge`). Model names go through the alias table. A value that is not a finite number
(NaN, inf) becomes a row with an error, as in every importer.
"""

from __future__ import annotations

from pathlib import Path

from ...errors import SampleBenchError
from ..io import FORMATS, read_table
from ._common import rename_models
from .driver import GiB, ImportContext, Importer

_SUFFIX = {".parquet": "parquet", ".csv": "csv", ".jsonl": "jsonl"}


def _format_of(path: Path) -> str:
    fmt = _SUFFIX.get(Path(path).suffix.lower())
    if fmt is None:
        raise SampleBenchError(f"{path}: format 'canonical' reads .parquet, .csv and .jsonl files; "
                               f"name the format (--format parquet|csv|jsonl) for a file named otherwise")
    return fmt


def _read(fmt: str | None):
    def read(ctx: ImportContext):
        columns = ("model_a", "model_b") if ctx.kind == "pairwise" else ("model",)
        out = []
        for path in ctx.files:
            table = read_table(path, fmt or _format_of(path))
            if ctx.aliases_given:  # canonical names are kept as written unless an alias table is passed
                table = rename_models(table, ctx.names, columns)
            out.append((ctx.kind, table))
        return out

    return read


def _importer(name: str, suffixes: tuple[str, ...], fmt: str | None, what: str) -> Importer:
    return Importer(
        name=name, suffixes=suffixes, read=_read(fmt), pairwise=True, max_bytes=16 * GiB if fmt != "jsonl" else 2 * GiB,
        help=f"canonical measurement (or --pairwise judgement) table{what}",
        none_found=f"no {'/'.join(suffixes)} files found",
    )


CANONICAL = _importer("canonical", tuple(_SUFFIX), None, "s: .parquet, .csv or .jsonl by suffix (a file or a folder)")
BY_FORMAT = {fmt: _importer(fmt, (f".{fmt}",), fmt, f", {dict(parquet='Parquet', csv='CSV', jsonl='JSON Lines')[fmt]}")
             for fmt in FORMATS}
