"""Importers: other harnesses' result files -> the canonical sample-level tables.

Each importer is a function `(store, path, options) -> ImportSummary` registered in `IMPORTERS`
under the name `bench results import --format NAME` uses. An import is atomic (all rows of one
call become visible together, or none) and idempotent (the same content twice adds nothing).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..io import FORMATS, file_hash, read_table
from ..store import ResultStore
from .summary import ImportSummary, summarise

Importer = Callable[..., ImportSummary]


def import_canonical(store: ResultStore, path: Path, *, fmt: str, kind: str = "measurements") -> ImportSummary:
    """A table already in the canonical columns (Parquet, CSV or JSON Lines)."""
    path = Path(path)
    table = read_table(path, fmt)
    record = store.import_tables([(kind, table)], source=str(path), source_hash=file_hash(path))
    return summarise(record, source=str(path), format=fmt)


IMPORTERS: dict[str, Importer] = {
    fmt: (lambda store, path, _fmt=fmt, **kw: import_canonical(store, path, fmt=_fmt, **kw)) for fmt in FORMATS
}

__all__ = ["IMPORTERS", "ImportSummary", "import_canonical"]
