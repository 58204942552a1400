"""Helpers every importer shares: content hashing, column buffers, metric metadata, the import call."""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path

import pyarrow as pa

from ..manifest import MetricInfo, RunRecord
from ..schema import NONFINITE_ERROR
from ..store import ResultStore
from .summary import ImportSummary, summarise

MEASUREMENT_COLUMNS = ("model", "model_revision", "task", "task_revision", "sample_id", "metric", "value", "error")


def content_hash(files: Iterable[Path], root: Path | None = None, *, salt: str = "") -> str:
    """sha256 over the sorted relative file names and their bytes (a directory import's identity).

    `salt` folds in options that change what the import writes (e.g. the alias table), so the
    same files imported with different options are not mistaken for a repeat.
    """
    h = hashlib.sha256(salt.encode())
    items = sorted((str(p.relative_to(root)) if root else str(p), p) for p in files)
    for rel, p in items:
        h.update(rel.encode("utf-8", "surrogateescape"))
        h.update(b"\0")
        with open(p, "rb") as fh:
            h.update(hashlib.sha256(fh.read()).digest())
    return h.hexdigest()


def as_float(value) -> tuple[float | None, str | None]:
    """A source value -> (value, error): finite numbers pass; None, NaN and +-inf become an error naming why
    (the store's wording for non-finite values, `schema.NONFINITE_ERROR`)."""
    if value is None:
        return None, "null in source"
    if isinstance(value, bool):
        return float(value), None
    if isinstance(value, int | float):
        v = float(value)
        if not math.isfinite(v):
            return None, NONFINITE_ERROR.format(v)
        return v, None
    raise TypeError(value)


class Columns:
    """Column buffers for measurement rows, flushed as Arrow tables of about `chunk` rows.

    Rows come in entries that share everything but (metric, value, error) — one MTEB
    split/subset, one lm-eval document — so the shared columns are stored once per entry and
    repeated in Arrow (`take`) when the table is built. A null value without an error gets the
    error "missing (null) in source"; NaN and +-inf are kept for the store's one rule for
    non-finite values (an error row saying so).
    """

    SHARED = ("model", "model_revision", "task", "task_revision", "sample_id")

    def __init__(self, detail: tuple[str, ...] = (), chunk: int = 500_000) -> None:
        self.detail = tuple(detail)
        self.names = MEASUREMENT_COLUMNS + self.detail
        self.chunk = chunk
        self._reset()

    def _reset(self) -> None:
        self._entry: dict[str, list] = {n: [] for n in (*self.SHARED, *self.detail)}
        self._counts: list[int] = []
        self._metric: list[str] = []
        self._value: list = []
        self._error: list = []

    def __len__(self) -> int:
        return len(self._metric)

    def add(self, model, model_revision, task, task_revision, sample_id, metric, value, error, *detail) -> None:
        self.extend(model, model_revision, task, task_revision, sample_id, [metric], [value], [error], *detail)

    def extend(self, model, model_revision, task, task_revision, sample_id, metrics: list[str],
               values: list, errors: list | None, *detail) -> None:
        """Rows that share everything but metric/value/error; `errors=None`: derive from null values."""
        e = self._entry
        e["model"].append(model)
        e["model_revision"].append(model_revision)
        e["task"].append(task)
        e["task_revision"].append(task_revision)
        e["sample_id"].append(sample_id)
        for name, v in zip(self.detail, detail, strict=True):
            e[name].append(v)
        self._counts.append(len(metrics))
        self._metric.extend(metrics)
        self._value.extend(values)
        if errors is None:
            self._error.extend([None] * len(metrics))
        else:
            self._error.extend(errors)

    def full(self) -> bool:
        return len(self) >= self.chunk

    def take(self) -> pa.Table:
        """The buffered rows as a table, and an empty buffer."""
        import numpy as np
        import pyarrow.compute as pc

        counts = np.asarray(self._counts, np.int64)
        cols: dict[str, pa.Array] = {}
        for name in (*self.SHARED, *self.detail):
            codes: dict = {None: -1}
            per_entry = np.fromiter((codes.setdefault(v, len(codes) - 1) for v in self._entry[name]), np.int32,
                                    count=len(counts))
            rows = np.repeat(per_entry, counts)
            if len(codes) == 1:  # all null
                cols[name] = pa.nulls(len(rows), pa.string())
                continue
            null = rows < 0
            cols[name] = pa.DictionaryArray.from_arrays(
                pa.array(rows, mask=null) if null.any() else pa.array(rows),
                pa.array([v for v in codes if v is not None], pa.string()))
        cols["metric"] = pa.array(self._metric, pa.string())
        value = pa.array(self._value, pa.float64())
        error = pa.array(self._error, pa.string())
        if value.null_count:
            error = pc.if_else(pc.and_(pc.is_null(value), pc.is_null(error)),
                               pa.scalar("missing (null) in source"), error)
        cols["value"], cols["error"] = value, error
        for name in self.detail:  # detail columns are stored as written: keep them plain strings
            if pa.types.is_dictionary(cols[name].type):
                cols[name] = cols[name].cast(pa.string())
        self._reset()
        return pa.table({n: cols[n] for n in self.names})


class MetricInfos:
    """task -> metric -> MetricInfo, filled while reading; conflicting declarations are an error."""

    def __init__(self) -> None:
        self.data: dict[str, dict[str, MetricInfo]] = {}

    def set(self, task: str, metric: str, *, higher_is_better: bool = True, kind: str | None = None,
            main: bool = False) -> None:
        per_task = self.data.setdefault(task, {})
        if metric not in per_task:
            per_task[metric] = MetricInfo(higher_is_better=higher_is_better, kind=kind, main=main)
        elif main and not per_task[metric].main:
            per_task[metric] = per_task[metric].model_copy(update={"main": True})


class Skips:
    """reason -> count of rows (or entries) left out, plus a few examples for the notes."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.examples: dict[str, list[str]] = {}

    def add(self, reason: str, n: int = 1, example: str | None = None) -> None:
        if n <= 0:
            return
        self.counts[reason] += n
        if example is not None:
            ex = self.examples.setdefault(reason, [])
            if len(ex) < 3:
                ex.append(example)


def run_import(
    store: ResultStore,
    tables: Iterable[tuple[str, pa.Table]] | Iterator[tuple[str, pa.Table]],
    *,
    source: str,
    source_hash: str,
    fmt: str,
    metric_info: MetricInfos | None = None,
    skips: Skips | None = None,
    notes: list[str] | None = None,
    meta: dict | None = None,
    streamed: bool | None = None,
) -> ImportSummary:
    """Import `(kind, table)` pairs atomically and build the summary.

    `metric_info` may still be filling while `tables` streams (a generator): the manifest is
    written once more, atomically, with the complete metric metadata once the import is published.
    `streamed=False` says `metric_info` is complete although `tables` is an iterator (a reader's
    list passed through a `CardTap`).
    """
    if streamed is None:
        streamed = not isinstance(tables, list | tuple)
    extra = {"meta": meta or {}}
    if metric_info is not None and not streamed:
        extra["metric_info"] = metric_info.data
    record: RunRecord | None = store.import_tables(tables, source=source, source_hash=source_hash, **extra)
    if record is not None and metric_info is not None and streamed:
        record.metric_info = {t: dict(m) for t, m in metric_info.data.items()}
        record.meta = dict(meta or {})
        record.save(store.root / "runs")
    summary = summarise(record, source=source, format=fmt)
    if record is None:
        return summary
    if skips is not None:
        summary.skipped = dict(sorted(skips.counts.items()))
        for reason, ex in sorted(skips.examples.items()):
            summary.notes.append(f"e.g. skipped ({reason}): " + "; ".join(ex))
    summary.notes = list(notes or []) + summary.notes
    return summary


def rename_models(table: pa.Table, names, columns: tuple[str, ...]) -> pa.Table:
    """Map the model-name columns of `table` through `names` (a ModelNames), one lookup per distinct name."""
    import pyarrow.compute as pc

    for col in columns:
        if col not in table.column_names:
            continue
        arr = table[col]
        if pa.types.is_dictionary(arr.type):
            arr = arr.cast(arr.type.value_type)
        uniq = pc.unique(arr).to_pylist()
        mapped = [names(u) if u is not None else None for u in uniq]
        idx = pc.index_in(arr, value_set=pa.array(uniq, arr.type))
        table = table.set_column(table.column_names.index(col), col, pc.take(pa.array(mapped, pa.string()), idx))
    return table
