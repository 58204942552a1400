"""The sample-level results store: append-only Parquet shards published by atomic rename.

Layout under the store root::

    measurements/<run_id>/part-000001.parquet   one shard per written batch
    pairwise/<run_id>/part-000001.parquet       explicit pairwise judgements
    runs/<run_id>.json                          the manifest: one record per run
    _staging/<run_id>/                          imports being assembled (never read)

Guarantees:

* A shard becomes visible only by `os.link`/`os.replace` of a fully written, fsynced file, so a
  crash or SIGKILL loses at most the batch in flight and never leaves a half-visible shard.
* Shard names are unique per run and runs are unique per writer, so concurrent writers never
  touch each other's files: nothing is lost or duplicated.
* An import is assembled in `_staging/` and published as a whole by renaming its directory:
  either all of it is visible or none.
* Reading returns the latest row per cell (MEASUREMENT_KEY, plus `group` when present), where
  later means a later run (run ids sort by start time) and, within a run, a later shard and row.
  Filters are pushed down to the Parquet scan, so only matching rows are materialised.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from .. import config
from .._atomic import fsync_dir, publish
from ..errors import SampleBenchError
from .manifest import MetricInfo, RunRecord
from .schema import MEASUREMENT_SCHEMA, PAIRWISE_SCHEMA, key_columns, new_run_id, normalise

KINDS = ("measurements", "pairwise")
_DICT_COLUMNS = ["model", "model_revision", "task", "task_revision", "metric", "error", "run_id", "group",
                 "model_a", "model_b", "winner", "judge"]
_ORDINAL = "__ordinal"
# Shards are clustered by (model, task) and cut into row groups of this size, so the min/max
# statistics of each row group let a filtered scan skip the groups of other models and tasks.
ROW_GROUP_ROWS = 1 << 17


def _cluster(table: pa.Table, kind: str) -> pa.Table:
    """Sort a multi-model batch by its leading key columns (cells are unique within a batch)."""
    lead = ("model", "task") if kind == "measurements" else ("task", "model_a")
    if table.num_rows <= ROW_GROUP_ROWS or pc.count_distinct(table[lead[0]]).as_py() <= 1:
        return table
    return table.sort_by([(c, "ascending") for c in lead])


def _version() -> str:
    from .. import __version__

    return __version__


class RunWriter:
    """Writes the shards of one run; every `write` publishes one shard atomically."""

    def __init__(self, store: ResultStore, record: RunRecord, root: Path | None = None) -> None:
        self.store = store
        self.record = record
        self._root = root or store.root
        self._seq = 0
        self._models: set[str] = set(record.models)
        self._tasks: set[str] = set(record.tasks)
        self._metrics: set[str] = set(record.metrics)

    @property
    def run_id(self) -> str:
        return self.record.run_id

    def write(self, data, *, kind: str = "measurements", where: str = "input", validated: bool = False) -> int:
        """Validate and publish one batch as a shard; return the number of rows written."""
        table = data if validated else normalise(data, kind=kind, run_id=self.run_id, where=where)
        if table.num_rows == 0:
            return 0
        table = _cluster(table, kind)
        self._seq += 1
        target = self._root / kind / self.run_id / f"part-{self._seq:06d}.parquet"
        publish(target, lambda tmp: pq.write_table(table, tmp, row_group_size=ROW_GROUP_ROWS), overwrite=False)
        rec = self.record
        rec.shards.append(str(target.relative_to(self._root)))
        if kind == "measurements":
            rec.n_rows += table.num_rows
            rec.n_errors += table.num_rows - pc.count(table["error"], mode="only_null").as_py()
            self._models.update(pc.unique(table["model"]).to_pylist())
            self._tasks.update(pc.unique(table["task"]).to_pylist())
            self._metrics.update(pc.unique(table["metric"]).to_pylist())
        else:
            rec.n_pairwise += table.num_rows
            self._models.update(pc.unique(table["model_a"]).to_pylist())
            self._models.update(pc.unique(table["model_b"]).to_pylist())
            self._tasks.update(pc.unique(table["task"]).to_pylist())
        rec.models, rec.tasks, rec.metrics = sorted(self._models), sorted(self._tasks), sorted(self._metrics)
        return table.num_rows

    def save(self, root: Path | None = None) -> None:
        self.record.save((root or self._root) / "runs")


class ResultStore:
    """A results store rooted at `root` (default: `$SAMPLEBENCH_HOME/store`)."""

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root).expanduser() if root else config.default_store()

    # -- writing -----------------------------------------------------------------------------
    @contextmanager
    def run(self, kind: str = "write", **meta) -> Iterator[RunWriter]:
        """Open a run: shards written inside are visible as they land; the manifest says how it ended."""
        record = RunRecord(run_id=new_run_id(), kind=kind, samplebench_version=_version(), **meta)
        writer = RunWriter(self, record)
        writer.save()
        try:
            yield writer
        except BaseException:
            record.status = "failed"
            record.finished_at = _now()
            writer.save()
            raise
        record.status = "finished"
        record.finished_at = _now()
        writer.save()

    def append(self, data, *, kind: str = "measurements", where: str = "input", **meta) -> RunRecord:
        """Write `data` as one run of one shard."""
        with self.run(**meta) as w:
            w.write(data, kind=kind, where=where)
        return w.record

    def import_tables(
        self, tables: Iterable[tuple[str, object]], *, source: str, source_hash: str | None = None, **meta
    ) -> RunRecord | None:
        """Atomically import `(kind, table)` pairs: all become visible together, or none does.

        Returns None (and writes nothing) when a finished import with the same `source_hash`
        exists: importing the same content twice adds nothing.
        """
        if source_hash and any(r.source_hash == source_hash and r.status == "finished" for r in self.runs()):
            return None
        record = RunRecord(
            run_id=new_run_id(), kind="import", source=source, source_hash=source_hash,
            samplebench_version=_version(), **meta,
        )
        staging = self.root / "_staging" / record.run_id
        writer = RunWriter(self, record, root=staging)
        try:
            for kind, table in tables:
                writer.write(table, kind=kind, where=source)
            record.status, record.finished_at = "finished", _now()
            for kind in KINDS:
                src = staging / kind / record.run_id
                if src.exists():
                    (self.root / kind).mkdir(parents=True, exist_ok=True)
            # Publish: each kind's run directory is renamed into place, then the manifest.
            for kind in KINDS:
                src = staging / kind / record.run_id
                if src.exists():
                    os.rename(src, self.root / kind / record.run_id)
                    fsync_dir(self.root / kind)
            writer.save(self.root)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return record

    # -- reading -----------------------------------------------------------------------------
    def runs(self) -> list[RunRecord]:
        d = self.root / "runs"
        if not d.is_dir():
            return []
        out = []
        for p in sorted(d.glob("*.json")):
            try:
                out.append(RunRecord.load(p))
            except (OSError, ValueError):
                continue  # a manifest is advisory; shards are the data
        return out

    def metric_info(self) -> dict[str, dict[str, MetricInfo]]:
        """task -> metric -> MetricInfo merged over all finished runs (later runs win)."""
        merged: dict[str, dict[str, MetricInfo]] = {}
        for r in self.runs():
            for task, metrics in r.metric_info.items():
                merged.setdefault(task, {}).update(metrics)
        return merged

    def shard_paths(self, kind: str = "measurements") -> list[Path]:
        """Published shards in write order (run id, then part number)."""
        base = self.root / kind
        if not base.is_dir():
            return []
        paths: list[Path] = []
        for run_dir in sorted(e.path for e in os.scandir(base) if e.is_dir() and not e.name.startswith((".", "_"))):
            paths.extend(
                Path(run_dir, name)
                for name in sorted(os.listdir(run_dir))
                if name.endswith(".parquet") and not name.startswith(".")
            )
        return paths

    def dataset(self, kind: str = "measurements") -> ds.Dataset | None:
        """A pyarrow dataset over all shards with plain (not dictionary) string columns, or None.

        Plain types matter: a filter on a plain string column is checked against each row
        group's min/max statistics, so a scan for one model or task skips the other row groups
        (clustered writes make them pure); with a dictionary schema Arrow reads them all.
        """
        paths = self.shard_paths(kind)
        if not paths:
            return None
        base = PAIRWISE_SCHEMA if kind == "pairwise" else MEASUREMENT_SCHEMA
        fields = {f.name: f for f in base}
        for p in paths:  # footers only: collect detail columns some shards carry
            for f in pq.read_schema(p):
                fields.setdefault(f.name, f)
        return ds.dataset([str(p) for p in paths], format="parquet", schema=pa.schema(list(fields.values())))

    def distinct(self, column: str, kind: str = "measurements") -> list[str]:
        """Every value of a string column, read from row-group statistics where a group holds one
        value (clustered shards make that the rule) and from the column itself elsewhere."""
        values: set[str] = set()
        for path in self.shard_paths(kind):
            pf = pq.ParquetFile(path)
            names = pf.schema_arrow.names
            if column not in names:
                continue
            col = names.index(column)
            for rg in range(pf.metadata.num_row_groups):
                stats = pf.metadata.row_group(rg).column(col).statistics
                if stats is not None and stats.has_min_max and stats.min == stats.max and stats.null_count == 0:
                    values.add(stats.min)
                else:
                    values.update(pc.unique(pf.read_row_group(rg, columns=[column]).column(0)).to_pylist())
        values.discard(None)
        return sorted(values)

    def scan(
        self,
        *,
        kind: str = "measurements",
        models: Iterable[str] | None = None,
        tasks: Iterable[str] | None = None,
        metrics: Iterable[str] | None = None,
        columns: list[str] | None = None,
        latest: bool = True,
        filter: ds.Expression | None = None,
    ) -> pa.Table:
        """Rows matching the filters; with `latest`, only the newest row of each cell."""
        dataset = self.dataset(kind)
        base = PAIRWISE_SCHEMA if kind == "pairwise" else MEASUREMENT_SCHEMA
        if dataset is None:
            schema = base if columns is None else pa.schema([base.field(c) for c in columns])
            return schema.empty_table()
        expr = filter
        for col, values in (("model", models), ("task", tasks), ("metric", metrics)):
            if values is None:
                continue
            if kind == "pairwise" and col == "model":
                vals = pa.array(list(values), pa.string())
                cond = ds.field("model_a").isin(vals) | ds.field("model_b").isin(vals)
            elif kind == "pairwise" and col == "metric":
                continue
            else:
                cond = ds.field(col).isin(pa.array(list(values), pa.string()))
            expr = cond if expr is None else expr & cond
        keys = key_columns(dataset.schema, kind)
        wanted = columns or dataset.schema.names
        unknown = [c for c in wanted if c not in dataset.schema.names]
        if unknown:
            raise SampleBenchError(f"unknown column(s) {', '.join(unknown)}; the store has {', '.join(dataset.schema.names)}")
        read_cols = list(dict.fromkeys([*wanted, *keys])) if latest else wanted
        table = _read_encoded(dataset, read_cols, expr)
        if latest:
            table = latest_per_cell(table, keys)
        return table.select(wanted)

    def iter_batches(self, *, kind: str = "measurements", columns: list[str] | None = None,
                     filter: ds.Expression | None = None, batch_size: int = 1 << 20) -> Iterator[pa.RecordBatch]:
        """Stream raw rows (no de-duplication) in bounded memory."""
        dataset = self.dataset(kind)
        if dataset is None:
            return
        yield from dataset.to_batches(columns=columns, filter=filter, batch_size=batch_size)

    def summary(self) -> dict:
        """Counts for `bench results list`: runs, rows, models, tasks (computed from the shards)."""
        out: dict = {"store": str(self.root), "runs": len(self.runs())}
        dataset = self.dataset()
        if dataset is None:
            out.update(rows=0, models={}, tasks={})
            return out
        counts: dict[str, dict[str, int]] = {"model": {}, "task": {}}
        rows = 0
        for batch in dataset.to_batches(columns=["model", "task"], batch_readahead=1, fragment_readahead=1):
            rows += batch.num_rows
            for col, acc in counts.items():
                vc = pc.value_counts(batch.column(col))
                for value, n in zip(vc.field("values").to_pylist(), vc.field("counts").to_pylist(), strict=True):
                    acc[value] = acc.get(value, 0) + n
        out["rows"] = rows
        out["models"] = dict(sorted(counts["model"].items()))
        out["tasks"] = dict(sorted(counts["task"].items()))
        pw = self.dataset("pairwise")
        out["pairwise_rows"] = pw.count_rows() if pw is not None else 0
        return out


def _read_encoded(dataset: ds.Dataset, columns: list[str], expr: ds.Expression | None) -> pa.Table:
    """Scan batch by batch (one fragment and batch in flight), dictionary-encoding the repetitive
    string columns as they arrive, so memory stays near the encoded size of the result."""
    encode = [c for c in columns if c in _DICT_COLUMNS]
    schema = pa.schema([
        pa.field(c, pa.dictionary(pa.int32(), pa.string())) if c in encode else dataset.schema.field(c) for c in columns
    ])
    batches = []
    for batch in dataset.to_batches(columns=columns, filter=expr, batch_readahead=1, fragment_readahead=1):
        if batch.num_rows:
            arrays = [pc.dictionary_encode(batch.column(c)) if c in encode else batch.column(c) for c in columns]
            batches.append(pa.RecordBatch.from_arrays(arrays, schema=schema))
    return pa.Table.from_batches(batches, schema=schema)


def _dictionary_codes(col: pa.ChunkedArray) -> tuple[np.ndarray, int]:
    """Codes of a dictionary column, with dictionaries unified across chunks, and how many there are."""
    if col.num_chunks > 1:
        col = pa.table({"k": col}).unify_dictionaries()["k"]
    if col.num_chunks == 0:
        return np.zeros(0, np.int64), 1
    size = len(col.chunks[0].dictionary)  # nulls get the extra code `size`
    codes = np.concatenate([pc.fill_null(c.indices, size).to_numpy() for c in col.chunks]).astype(np.int64)
    return codes, size + 1


def latest_per_cell(table: pa.Table, keys: list[str]) -> pa.Table:
    """Keep the last row (in table order) of each cell identified by `keys`.

    Dictionary-encoded keys (model, task, metric, ...) are packed into one int64 per row (mixed
    radix over their codes); a stable sort on (packed, remaining string keys) puts the rows of a
    cell next to each other in table order, and the last of each run wins. The common case, no
    repeated cell, returns the table untouched. Sorting beats hashing here: for 10M distinct
    sample ids it takes about half the time and a third of the memory of a hash table.
    """
    n = table.num_rows
    if n == 0:
        return table
    packed = np.zeros(n, np.int64)
    capacity = 1
    plain: list[str] = []
    for k in keys:
        if not pa.types.is_dictionary(table.schema.field(k).type):
            plain.append(k)
            continue
        codes, size = _dictionary_codes(table.column(k))
        capacity *= size
        if capacity >= 2**62:
            return _latest_by_hash(table, keys)
        packed = packed * size + codes
    sort_keys = pa.table({"__packed": packed, **{k: table.column(k) for k in plain}})
    order = pc.sort_indices(sort_keys, [(c, "ascending") for c in sort_keys.column_names])  # stable
    same_as_next = np.ones(n - 1, bool)
    ordered = packed[order.to_numpy()]
    same_as_next &= ordered[1:] == ordered[:-1]
    for k in plain:
        col = table.column(k).take(order).combine_chunks()
        eq = pc.fill_null(pc.equal(col.slice(1), col.slice(0, n - 1)), False)
        same_as_next &= eq.to_numpy(zero_copy_only=False)
    if not same_as_next.any():
        return table
    last = np.append(~same_as_next, True)
    return table.take(pa.array(np.sort(order.to_numpy()[last])))


def _latest_by_hash(table: pa.Table, keys: list[str]) -> pa.Table:
    if any(pa.types.is_dictionary(table.schema.field(k).type) for k in keys):
        table = table.unify_dictionaries()
    key_cols = {}
    for k in keys:
        col = table.column(k)
        if pa.types.is_dictionary(col.type):
            col = pa.chunked_array([c.indices for c in col.chunks], col.type.index_type)
        key_cols[k] = col
    key_cols[_ORDINAL] = pa.array(np.arange(table.num_rows, dtype=np.int64))
    winners = pa.table(key_cols).group_by(keys, use_threads=False).aggregate([(_ORDINAL, "max")])
    if winners.num_rows == table.num_rows:
        return table
    last = winners[f"{_ORDINAL}_max"]
    return table.take(pc.take(last, pc.sort_indices(last)))


def _now():
    import datetime as dt

    return dt.datetime.now(dt.UTC)
