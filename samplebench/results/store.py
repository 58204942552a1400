"""The sample-level results store: append-only Parquet shards published by atomic rename.

Layout under the store root::

    measurements/<run_id>/part-000001.parquet   one shard per written batch
    pairwise/<run_id>/part-000001.parquet       explicit pairwise judgements
    runs/<run_id>.json                          the manifest: one record per run
    _staging/<run_id>/                          imports being assembled (never read)
    _quarantine/<kind>/<run_id>/part-*.parquet  unreadable shards moved aside by `bench results check`
    .import.lock                                held while an import checks its hash and publishes

Guarantees:

* A shard becomes visible only by `os.link`/`os.replace` of a fully written, fsynced file, so a
  crash or SIGKILL loses at most the batch in flight and never leaves a half-visible shard.
* Shard names are unique per run and runs are unique per writer, so concurrent writers never
  touch each other's files: nothing is lost or duplicated.
* An import is assembled in `_staging/` and published as a whole by renaming its directory:
  either all of it is visible or none. The check "was this content imported already?" and the
  publication happen under one exclusive lock, so simultaneous imports of one file import it
  once. The manifest is written (status `publishing`) before any shard is renamed into place, so
  no shard is ever visible without a manifest; an import killed while publishing is completed
  (or rolled back) by the next import or by `check(repair=True)`, before its hash is checked.
* Every non-finite value becomes an error row (`nonfinite_to_errors`), whichever path wrote it.
* A shard that cannot be read, or that does not hold the canonical columns, stops a read with
  one line naming it (`BadShard`); `check(quarantine=True)` moves such shards aside.
* Reading returns the latest row per cell (MEASUREMENT_KEY, plus `group` when present), where
  later means a later run (run ids sort by start time) and, within a run, a later shard and row.
  Filters are pushed down to the Parquet scan, so only matching rows are materialised.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .. import config
from .._atomic import fsync_dir, publish
from ..errors import SampleBenchError, require_writable
from .manifest import MetricInfo, RunRecord, process_identity
from .schema import (
    MEASUREMENT_SCHEMA,
    PAIRWISE_SCHEMA,
    key_columns,
    new_run_id,
    nonfinite_to_errors,
    normalise,
)

if TYPE_CHECKING:  # pyarrow.dataset is imported where it is used: its import pulls in pandas (~0.25 s)
    import pyarrow.dataset as ds

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


class BadShard(SampleBenchError):
    """A shard in the store that cannot be read or does not hold the canonical columns."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path, self.reason = path, reason
        super().__init__(f"unreadable shard {path}: {reason}",
                         hint="`bench results check --quarantine` moves bad shards aside; the rest stays usable")


class RunWriter:
    """Writes the shards of one run; every `write` publishes one shard atomically.

    With `checkpoint`, the manifest is rewritten after every shard, so a run that is killed
    still says how many rows it published.
    """

    def __init__(self, store: ResultStore, record: RunRecord, root: Path | None = None,
                 checkpoint: bool = False) -> None:
        self.store = store
        self.record = record
        self._root = root or store.root
        self._checkpoint = checkpoint
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
        if validated and kind == "measurements":
            table = nonfinite_to_errors(table)
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
        if self._checkpoint:
            self.save()
        return table.num_rows

    def save(self, root: Path | None = None) -> None:
        self.record.save((root or self._root) / "runs")


class ResultStore:
    """A results store rooted at `root` (default: `$SAMPLEBENCH_HOME/store`)."""

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root).expanduser() if root else config.default_store()

    # -- writing -----------------------------------------------------------------------------
    def ensure_writable(self) -> None:
        """Raise SampleBenchError (one line, exit 2) when this process cannot write the store.

        Called before any work (evaluate, import), so a read-only store fails in a second, not
        after the model computed everything.
        """
        require_writable(self.root, "results store", subfolders=("runs", *KINDS, "_staging"),
                         hint="pass --store (or set SAMPLEBENCH_HOME) to a folder you can write")

    @contextmanager
    def run(self, kind: str = "write", **meta) -> Iterator[RunWriter]:
        """Open a run: shards written inside are visible as they land; the manifest says how it ended."""
        record = RunRecord(run_id=new_run_id(), kind=kind, samplebench_version=_version(),
                           writer=process_identity(), **meta)
        writer = RunWriter(self, record, checkpoint=True)
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
        exists: importing the same content twice adds nothing, also when several processes
        import it at once (the hash check and the publication hold one exclusive lock).
        """
        self.ensure_writable()
        if source_hash and self._imported(source_hash):
            return None  # cheap early answer; the decisive check is made under the lock
        record = RunRecord(
            run_id=new_run_id(), kind="import", source=source, source_hash=source_hash,
            samplebench_version=_version(), writer=process_identity(), **meta,
        )
        staging = self.root / "_staging" / record.run_id
        writer = RunWriter(self, record, root=staging)
        try:
            writer.save()  # into the staging folder: says whose it is, should this process die
            for kind, table in tables:
                writer.write(table, kind=kind, where=source)
            with self._import_lock():
                self._recover_imports()
                if source_hash and self._imported(source_hash):
                    return None
                for kind in KINDS:
                    if (staging / kind / record.run_id).exists():
                        (self.root / kind).mkdir(parents=True, exist_ok=True)
                # The manifest first, then each kind's run directory is renamed into place: a shard
                # is never visible without a manifest that names it.
                record.status = "publishing"
                writer.save(self.root)
                for kind in KINDS:
                    src = staging / kind / record.run_id
                    if src.exists():
                        os.rename(src, self.root / kind / record.run_id)
                        fsync_dir(self.root / kind)
                record.status, record.finished_at = "finished", _now()
                writer.save(self.root)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return record

    def _imported(self, source_hash: str) -> bool:
        return any(r.source_hash == source_hash and r.status == "finished" for r in self.runs())

    @contextmanager
    def _import_lock(self) -> Iterator[None]:
        """An exclusive advisory lock on `<store>/.import.lock` (released by the kernel if we die)."""
        self.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.root / ".import.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def _recover_imports(self) -> list[str]:
        """Finish or roll back imports killed while publishing; call with the import lock held.

        Holding the lock means no import is publishing right now, so every `publishing`
        manifest belongs to a dead process. Its run directories still in `_staging` are renamed
        into place; if then every shard the manifest names is present the import is `finished`,
        else its published directories are removed and it is `failed` (import it again).
        Returns one line per run it touched.
        """
        lines = []
        for r in self.runs():
            if r.kind != "import" or r.status != "publishing":
                continue
            for kind in KINDS:
                src, dst = self.root / "_staging" / r.run_id / kind / r.run_id, self.root / kind / r.run_id
                if src.exists() and not dst.exists():
                    os.rename(src, dst)
                    fsync_dir(self.root / kind)
            if all((self.root / s).is_file() for s in r.shards):
                r.status, r.finished_at = "finished", _now()
                r.meta["recovered"] = "publication completed after the importing process died"
                lines.append(f"run {r.run_id}: interrupted import completed ({len(r.shards)} shard(s))")
            else:
                for kind in KINDS:
                    shutil.rmtree(self.root / kind / r.run_id, ignore_errors=True)
                r.status, r.finished_at = "failed", _now()
                r.meta["recovered"] = "publication rolled back after the importing process died"
                lines.append(f"run {r.run_id}: interrupted import rolled back; import its source again")
            r.save(self.root / "runs")
            shutil.rmtree(self.root / "_staging" / r.run_id, ignore_errors=True)
        return lines

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
        files = self.shard_files(kind)
        if not files:
            return None
        import pyarrow.dataset as ds

        return ds.dataset([str(p) for p, _ in files], format="parquet",
                          schema=_unified_schema(kind, (f.schema_arrow for _, f in files)))

    def shard_files(self, kind: str = "measurements") -> list[tuple[Path, pq.ParquetFile]]:
        """Every published shard with its opened footer; raises `BadShard` naming the first shard
        that cannot be read or lacks the canonical columns."""
        return [(p, open_shard(p, kind)) for p in self.shard_paths(kind)]

    def column_names(self, kind: str = "measurements") -> list[str]:
        """The columns a scan can return (canonical ones plus any detail column a shard carries);
        [] for an empty store. Reads the shards' footers only."""
        files = self.shard_files(kind)
        return _unified_schema(kind, (f.schema_arrow for _, f in files)).names if files else []

    def distinct(self, column: str, kind: str = "measurements") -> list[str]:
        """Every value of a string column, read from row-group statistics where a group holds one
        value (clustered shards make that the rule) and from the column itself elsewhere."""
        values: set[str] = set()
        for path, pf in self.shard_files(kind):
            names = pf.schema_arrow.names
            if column not in names:
                continue
            col = names.index(column)
            for rg in range(pf.metadata.num_row_groups):
                stats = pf.metadata.row_group(rg).column(col).statistics
                if stats is not None and stats.has_min_max and stats.min == stats.max and stats.null_count == 0:
                    values.add(stats.min)
                else:
                    values.update(pc.unique(_read_group(path, pf, rg, [column]).column(0)).to_pylist())
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
        """Rows matching the filters; with `latest`, only the newest row of each cell.

        Without a `filter` expression the shards are read directly with `pyarrow.parquet`: row
        groups whose min/max statistics exclude the requested models/tasks/metrics are skipped,
        and the rest are read one row group at a time (only the needed columns) and filtered,
        in write order. A `filter` expression goes through `pyarrow.dataset` (same result).
        """
        if filter is None:
            return self._scan_files(kind, models, tasks, metrics, columns, latest)
        import pyarrow.dataset as ds

        dataset = self.dataset(kind)
        if dataset is None:
            return _empty_table(kind, columns)
        expr = filter
        for cols, vals in _conditions(kind, models, tasks, metrics):
            cond = None
            for col in cols:
                c = ds.field(col).isin(vals)
                cond = c if cond is None else cond | c
            expr = cond if expr is None else expr & cond
        keys = key_columns(dataset.schema, kind)
        wanted = columns or dataset.schema.names
        _check_columns(wanted, dataset.schema)
        read_cols = list(dict.fromkeys([*wanted, *keys])) if latest else wanted
        table = _read_encoded(dataset, read_cols, expr)
        if latest:
            table = latest_per_cell(table, keys)
        return table.select(wanted)

    def _scan_files(self, kind: str, models, tasks, metrics, columns: list[str] | None, latest: bool) -> pa.Table:
        """`scan` without a filter expression, straight from the Parquet files (see `scan`)."""
        opened = self.shard_files(kind)
        if not opened:
            return _empty_table(kind, columns)
        schema = _unified_schema(kind, (f.schema_arrow for _, f in opened))
        keys = key_columns(schema, kind)
        wanted = columns or schema.names
        _check_columns(wanted, schema)
        read_cols = list(dict.fromkeys([*wanted, *keys])) if latest else wanted
        conds = _conditions(kind, models, tasks, metrics)
        out_schema = _encoded_schema(schema, read_cols)
        batches: list[pa.RecordBatch] = []
        for path, f in opened:
            names = f.schema_arrow.names
            present = [c for c in read_cols if c in names]
            for cols, _ in conds:  # a filter column a shard lacks is all null there: no row matches
                if not any(c in names for c in cols):
                    present = None
                    break
            if present is None:
                continue
            needed = list(dict.fromkeys([*present, *(c for cols, _ in conds for c in cols if c in names)]))
            for rg in _row_groups(f, conds):
                t = _read_group(path, f, rg, needed)
                mask = None
                for cols, vals in conds:
                    m = None
                    for c in cols:
                        if c in names:
                            mc = pc.is_in(t.column(c), value_set=vals)
                            m = mc if m is None else pc.or_(m, mc)
                    mask = m if mask is None else pc.and_(mask, m)
                if mask is not None:
                    t = t.filter(mask)
                if t.num_rows == 0:
                    continue
                arrays = []
                for field in out_schema:
                    c = field.name
                    target = schema.field(c).type
                    col = t.column(c) if c in names else pa.nulls(t.num_rows, target)
                    if col.type != target:
                        col = col.cast(target)
                    col = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
                    arrays.append(pc.dictionary_encode(col) if pa.types.is_dictionary(field.type) else col)
                batches.append(pa.RecordBatch.from_arrays(arrays, schema=out_schema))
        table = pa.Table.from_batches(batches, schema=out_schema)
        if latest:
            table = latest_per_cell(table, keys)
        return table.select(wanted)

    def iter_batches(self, *, kind: str = "measurements", columns: list[str] | None = None,
                     filter: ds.Expression | None = None, batch_size: int = 1 << 20) -> Iterator[pa.RecordBatch]:
        """Stream raw rows (no de-duplication) in bounded memory."""
        dataset = self.dataset(kind)
        if dataset is None:
            return
        with _arrow_errors():
            yield from dataset.to_batches(columns=columns, filter=filter, batch_size=batch_size)

    def summary(self) -> dict:
        """Counts for `bench results list`, computed from the shards after de-duplication.

        `rows` counts cells (the latest row of each; what every reader sees), per model and per
        task likewise; `superseded_rows` counts the older rows that later runs replaced.
        """
        out: dict = {"store": str(self.root), "runs": len(self.runs())}
        raw, cells = self._cell_counts()
        models: dict[str, int] = {}
        tasks: dict[str, int] = {}
        for (model, task), n in cells.items():
            models[model] = models.get(model, 0) + n
            tasks[task] = tasks.get(task, 0) + n
        total = sum(cells.values())
        out.update(rows=total, superseded_rows=raw - total, models=dict(sorted(models.items())),
                   tasks=dict(sorted(tasks.items())))
        out["pairwise_rows"] = self.scan(kind="pairwise", columns=["task"]).num_rows
        return out

    def _cell_counts(self, batch_rows: int = 2_000_000) -> tuple[int, dict[tuple[str, str], int]]:
        """(rows in the shards, cells per (model, task) after de-duplication).

        A shard never holds a cell twice (a write refuses duplicate cells), so a (model, task)
        pair found in one shard only has as many cells as rows, read from row-group statistics
        (clustered shards) without reading data. Pairs spread over several shards are scanned
        and de-duplicated, a few models (about `batch_rows` rows) at a time, so memory stays bounded.
        """
        rows: dict[tuple[str, str], int] = {}
        seen_in: dict[tuple[str, str], int] = {}
        shared: set[tuple[str, str]] = set()
        raw = 0
        for i, (path, f) in enumerate(self.shard_files()):
            raw += f.metadata.num_rows
            for pair, n in _pair_rows(path, f).items():
                rows[pair] = rows.get(pair, 0) + n
                if seen_in.setdefault(pair, i) != i:
                    shared.add(pair)
        by_model: dict[str, list[str]] = {}
        for model, task in sorted(shared):
            by_model.setdefault(model, []).append(task)
        batch: list[str] = []
        size = 0
        last = max(by_model, default=None)
        for model in sorted(by_model):
            batch.append(model)
            size += sum(rows[(model, t)] for t in by_model[model])
            if size >= batch_rows or model == last:
                tasks = sorted({t for m in batch for t in by_model[m]})
                cells = self.scan(models=batch, tasks=tasks, columns=["model", "task"])
                counts = pa.table({"model": cells["model"].cast(pa.string()), "task": cells["task"].cast(pa.string())}
                                  ).group_by(["model", "task"], use_threads=False).aggregate([([], "count_all")])
                for m, t, n in zip(*(counts[c].to_pylist() for c in ("model", "task", "count_all")), strict=True):
                    if (m, t) in shared:
                        rows[(m, t)] = n
                batch, size = [], 0
        return raw, rows

    # -- checking ----------------------------------------------------------------------------
    def check(self, *, quarantine: bool = False) -> StoreCheck:
        """Verify every shard (footer, canonical columns, every row group decodes) and the runs.

        With `quarantine`, each bad shard is moved to `_quarantine/<kind>/<run_id>/` (a rename:
        nothing is deleted) so every reader works on the rest, and imports killed while
        publishing are completed or rolled back.
        """
        report = StoreCheck(store=str(self.root))
        for kind in KINDS:
            for path in self.shard_paths(kind):
                report.shards += 1
                try:
                    f = open_shard(path, kind)
                    for rg in range(f.metadata.num_row_groups):
                        _read_group(path, f, rg, None)
                except BadShard as exc:
                    report.bad.append((str(path), exc.reason))
                    if quarantine:
                        run_dir = path.parent
                        dest = self.root / "_quarantine" / kind / run_dir.name / path.name
                        dest.parent.mkdir(parents=True, exist_ok=True)
                        os.replace(path, dest)
                        fsync_dir(run_dir)
                        report.quarantined.append(str(dest))
                else:
                    report.rows += f.metadata.num_rows
        runs = self.runs()
        named = {r.run_id for r in runs}
        for kind in KINDS:
            base = self.root / kind
            if base.is_dir():
                report.orphans += sorted(str(e.path) for e in os.scandir(base)
                                         if e.is_dir() and not e.name.startswith((".", "_")) and e.name not in named)
        report.interrupted = [r.run_id for r in runs if r.state() == "interrupted"]
        if quarantine:
            with self._import_lock():
                report.repaired = self._recover_imports()
                for d in self._dead_staging():
                    shutil.rmtree(d, ignore_errors=True)
                    report.repaired.append(f"removed {d}: the unpublished part of an import whose process died")
        else:
            report.leftovers = [str(d) for d in self._dead_staging()]
        return report

    def _dead_staging(self) -> list[Path]:
        """Staging folders of imports whose process died before publishing (never read; only disk)."""
        base = self.root / "_staging"
        dead = []
        for d in sorted(base.iterdir()) if base.is_dir() else []:
            try:
                rec = RunRecord.load(d / "runs" / f"{d.name}.json")
            except (OSError, ValueError):
                continue  # no manifest yet (or foreign): leave it alone
            published = self.root / "runs" / f"{d.name}.json"
            if rec.state() == "interrupted" and not published.exists():
                dead.append(d)
        return dead


# pyarrow converts Python and NumPy values (`pa.array`, `pa.scalar`, `to_numpy`) through a check
# that imports pandas (~0.2 s), so the read path builds and views arrays through their buffers.


def string_array(values: list[str]) -> pa.Array:
    """A plain string array of `values` (str, None skipped), built from its buffers: no pandas import."""
    if any(not isinstance(v, str) for v in values if v is not None):
        return pa.array(values, pa.string())  # pyarrow's own conversion and its error
    data = [v.encode("utf-8") for v in values if v is not None]
    offsets = np.zeros(len(data) + 1, np.int64)
    np.cumsum([len(b) for b in data], out=offsets[1:])
    return pa.Array.from_buffers(pa.large_string(), len(data), [None, pa.py_buffer(offsets), pa.py_buffer(b"".join(data))]
                                 ).cast(pa.string())


def int_array(values: np.ndarray | list[int]) -> pa.Array:
    """An int64 array over `values` (zero-copy for a contiguous int64 ndarray): no pandas import."""
    a = np.ascontiguousarray(values, dtype=np.int64)
    return pa.Array.from_buffers(pa.int64(), len(a), [None, pa.py_buffer(a)])


def int_view(arr: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A NumPy view of a null-free integer array's values (a copy for several chunks): no pandas import."""
    if isinstance(arr, pa.ChunkedArray):
        if arr.num_chunks != 1:
            parts = [int_view(c) for c in arr.chunks]
            return np.concatenate(parts) if parts else np.zeros(0, np.int64)
        arr = arr.chunk(0)
    if arr.null_count:
        raise ValueError("int_view needs an array without nulls")
    t = arr.type
    dtype = np.dtype(f"{'u' if pa.types.is_unsigned_integer(t) else 'i'}{t.bit_width // 8}")
    if len(arr) == 0:
        return np.zeros(0, dtype)
    return np.frombuffer(arr.buffers()[1], dtype=dtype, count=len(arr), offset=arr.offset * dtype.itemsize)


class StoreCheck:
    """What `ResultStore.check` found: bad shards (path, reason), what was moved, run problems."""

    def __init__(self, store: str) -> None:
        self.store = store
        self.shards = 0
        self.rows = 0
        self.bad: list[tuple[str, str]] = []
        self.quarantined: list[str] = []
        self.orphans: list[str] = []
        self.interrupted: list[str] = []
        self.leftovers: list[str] = []
        self.repaired: list[str] = []

    @property
    def ok(self) -> bool:
        """No bad shard is left where readers would read it."""
        return len(self.bad) == len(self.quarantined)

    def as_dict(self) -> dict:
        return {"store": self.store, "shards": self.shards, "rows": self.rows, "ok": self.ok,
                "bad": [{"shard": p, "reason": r} for p, r in self.bad], "quarantined": self.quarantined,
                "orphan_run_dirs": self.orphans, "interrupted_runs": self.interrupted,
                "dead_staging": self.leftovers, "repaired": self.repaired}

    def lines(self) -> list[str]:
        out = [f"bad shard: {p}: {r}" for p, r in self.bad]
        out += [f"moved aside: {q}" for q in self.quarantined]
        out += [f"note: {o} holds shards of a run without a manifest (left by a crash of a version "
                "that published shards before their manifest); its rows are read like any other" for o in self.orphans]
        out += [f"note: run {r} was interrupted (its writer is gone); rows it published are kept"
                for r in self.interrupted]
        out += [f"note: {d} is the unpublished part of an import whose process died (never read); "
                "--quarantine removes it" for d in self.leftovers]
        out += self.repaired
        good = self.shards - len(self.bad)
        out.append(f"{good:,} of {self.shards:,} shard(s) ok ({self.rows:,} rows) in {self.store}")
        return out


def _pair_rows(path: Path, f: pq.ParquetFile) -> dict[tuple[str, str], int]:
    """Rows per (model, task) of one shard: from row-group statistics where a group holds one pair,
    else from its two columns."""
    out: dict[tuple[str, str], int] = {}
    names = f.schema_arrow.names
    cols = [names.index("model"), names.index("task")]
    for rg in range(f.metadata.num_row_groups):
        group = f.metadata.row_group(rg)
        stats = [group.column(c).statistics for c in cols]
        if all(s is not None and s.has_min_max and s.min == s.max and s.null_count == 0 for s in stats):
            pair = (stats[0].min, stats[1].min)
            out[pair] = out.get(pair, 0) + group.num_rows
            continue
        t = _read_group(path, f, rg, ["model", "task"])
        t = pa.table({c: t[c].cast(pa.string()) for c in ("model", "task")})
        counts = t.group_by(["model", "task"], use_threads=False).aggregate([([], "count_all")])
        for m, task, n in zip(*(counts[c].to_pylist() for c in ("model", "task", "count_all")), strict=True):
            out[(m, task)] = out.get((m, task), 0) + n
    return out


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _compatible(actual: pa.DataType, expected: pa.DataType) -> bool:
    """Whether a shard column of type `actual` reads as the canonical `expected` type."""
    if pa.types.is_dictionary(actual):
        actual = actual.value_type
    if pa.types.is_string(expected):
        return pa.types.is_string(actual) or pa.types.is_large_string(actual) or pa.types.is_null(actual)
    if pa.types.is_floating(expected):
        return pa.types.is_floating(actual) or pa.types.is_integer(actual) or pa.types.is_null(actual)
    if pa.types.is_timestamp(expected):
        return pa.types.is_timestamp(actual)
    return actual == expected


def open_shard(path: Path, kind: str = "measurements") -> pq.ParquetFile:
    """Open a shard's footer and check it holds the canonical columns; `BadShard` otherwise."""
    try:
        f = pq.ParquetFile(path)
        schema = f.schema_arrow
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise BadShard(path, _first_line(exc)) from None
    base = PAIRWISE_SCHEMA if kind == "pairwise" else MEASUREMENT_SCHEMA
    required = [f.name for f in base if not f.nullable] + (["value"] if kind == "measurements" else [])
    missing = [c for c in required if c not in schema.names]
    if missing:
        raise BadShard(path, f"not a samplebench {kind} shard: no column(s) {', '.join(missing)}")
    for field in base:
        if field.name in schema.names and not _compatible(schema.field(field.name).type, field.type):
            raise BadShard(path, f"column '{field.name}' is {schema.field(field.name).type}, not {field.type}")
    return f


def _read_group(path: Path, f: pq.ParquetFile, rg: int, columns: list[str] | None) -> pa.Table:
    try:
        return f.read_row_group(rg, columns=columns)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise BadShard(path, f"row group {rg}: {_first_line(exc)}") from None


@contextmanager
def _arrow_errors() -> Iterator[None]:
    """A dataset scan that hits an undecodable shard: one line instead of Arrow's traceback."""
    try:
        yield
    except (pa.ArrowException, OSError) as exc:
        raise SampleBenchError(f"a shard of the store could not be read: {_first_line(exc)}",
                               hint="`bench results check --quarantine` names and moves aside bad shards") from None


def _empty_table(kind: str, columns: list[str] | None) -> pa.Table:
    """What a scan of an empty store returns: the canonical columns asked for, no rows."""
    base = PAIRWISE_SCHEMA if kind == "pairwise" else MEASUREMENT_SCHEMA
    return (base if columns is None else pa.schema([base.field(c) for c in columns])).empty_table()


def _unified_schema(kind: str, schemas: Iterable[pa.Schema]) -> pa.Schema:
    """The canonical schema with plain string columns, plus every detail column some shard carries."""
    base = PAIRWISE_SCHEMA if kind == "pairwise" else MEASUREMENT_SCHEMA
    fields = {f.name: f for f in base}
    for schema in schemas:  # footers only
        for f in schema:
            fields.setdefault(f.name, f)
    return pa.schema(list(fields.values()))


def _check_columns(wanted: list[str], schema: pa.Schema) -> None:
    unknown = [c for c in wanted if c not in schema.names]
    if unknown:
        raise SampleBenchError(f"unknown column(s) {', '.join(unknown)}; the store has {', '.join(schema.names)}")


def _conditions(kind: str, models, tasks, metrics) -> list[tuple[tuple[str, ...], pa.Array]]:
    """The filters as (columns any of which must hold one of the values, values)."""
    out = []
    for col, values in (("model", models), ("task", tasks), ("metric", metrics)):
        if values is None:
            continue
        vals = string_array(list(values))
        if kind == "pairwise" and col == "model":
            out.append((("model_a", "model_b"), vals))
        elif kind == "pairwise" and col == "metric":
            continue
        else:
            out.append(((col,), vals))
    return out


def _row_groups(f: pq.ParquetFile, conds: list[tuple[tuple[str, ...], pa.Array]]) -> list[int]:
    """Row groups of `f` whose min/max statistics do not rule out every condition's values."""
    meta = f.metadata
    names = f.schema_arrow.names
    if not conds:
        return list(range(meta.num_row_groups))
    wanted = [(tuple(names.index(c) for c in cols if c in names), sorted(v for v in vals.to_pylist() if v is not None))
              for cols, vals in conds]
    keep = []
    for rg in range(meta.num_row_groups):
        group = meta.row_group(rg)
        if all(any(_may_hold(group.column(i).statistics, values) for i in idx) for idx, values in wanted):
            keep.append(rg)
    return keep


def _may_hold(stats, values: list[str]) -> bool:
    """False only when the statistics prove that the column chunk holds none of `values`."""
    if stats is None or not stats.has_min_max:
        return True
    lo, hi = stats.min, stats.max
    if not isinstance(lo, str) or not isinstance(hi, str):
        return True
    return any(lo <= v <= hi for v in values)


def _encoded_schema(schema: pa.Schema, columns: list[str]) -> pa.Schema:
    """`columns` of `schema` with the repetitive string columns dictionary-encoded."""
    return pa.schema([
        pa.field(c, pa.dictionary(pa.int32(), pa.string())) if c in _DICT_COLUMNS else schema.field(c) for c in columns
    ])


def _read_encoded(dataset: ds.Dataset, columns: list[str], expr: ds.Expression | None) -> pa.Table:
    """Scan batch by batch (one fragment and batch in flight), dictionary-encoding the repetitive
    string columns as they arrive, so memory stays near the encoded size of the result."""
    schema = _encoded_schema(dataset.schema, columns)
    batches = []
    with _arrow_errors():
        for batch in dataset.to_batches(columns=columns, filter=expr, batch_readahead=1, fragment_readahead=1):
            if batch.num_rows:
                arrays = [pc.dictionary_encode(batch.column(c)) if pa.types.is_dictionary(f.type) else batch.column(c)
                          for c, f in zip(columns, schema, strict=True)]
                batches.append(pa.RecordBatch.from_arrays(arrays, schema=schema))
    return pa.Table.from_batches(batches, schema=schema)


def _dictionary_codes(col: pa.ChunkedArray) -> tuple[np.ndarray, int]:
    """Codes of a dictionary column, with dictionaries unified across chunks, and how many there are."""
    if col.num_chunks > 1:
        col = pa.table({"k": col}).unify_dictionaries()["k"]
    if col.num_chunks == 0:
        return np.zeros(0, np.int64), 1
    size = len(col.chunks[0].dictionary)  # nulls get the extra code `size`
    codes = np.concatenate([int_view(pc.fill_null(c.indices, int_array([size]).cast(c.indices.type)[0]))
                            for c in col.chunks]).astype(np.int64)
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
    sort_keys = pa.table({"__packed": int_array(packed), **{k: table.column(k) for k in plain}})
    order = pc.sort_indices(sort_keys, [(c, "ascending") for c in sort_keys.column_names])  # stable
    same_as_next = np.ones(n - 1, bool)
    order_np = int_view(order)
    ordered = packed[order_np]
    same_as_next &= ordered[1:] == ordered[:-1]
    for k in plain:
        col = table.column(k).take(order).combine_chunks()
        eq = pc.equal(col.slice(1), col.slice(0, n - 1))
        eq = pc.and_kleene(eq, pc.is_valid(eq))  # null (a null key on either side) -> False
        same_as_next &= int_view(eq.cast(pa.uint8())).astype(bool)
    if not same_as_next.any():
        return table
    last = np.append(~same_as_next, True)
    return table.take(int_array(np.sort(order_np[last])))


def _latest_by_hash(table: pa.Table, keys: list[str]) -> pa.Table:
    if any(pa.types.is_dictionary(table.schema.field(k).type) for k in keys):
        table = table.unify_dictionaries()
    key_cols = {}
    for k in keys:
        col = table.column(k)
        if pa.types.is_dictionary(col.type):
            col = pa.chunked_array([c.indices for c in col.chunks], col.type.index_type)
        key_cols[k] = col
    key_cols[_ORDINAL] = int_array(np.arange(table.num_rows, dtype=np.int64))
    winners = pa.table(key_cols).group_by(keys, use_threads=False).aggregate([(_ORDINAL, "max")])
    if winners.num_rows == table.num_rows:
        return table
    last = winners[f"{_ORDINAL}_max"]
    return table.take(pc.take(last, pc.sort_indices(last)))


def _now():
    import datetime as dt

    return dt.datetime.now(dt.UTC)
