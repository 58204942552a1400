"""Read a selection from a results store or a file: one scan, filters pushed down.

`read_store(store, selection)` makes one `ResultStore.scan` of the selected tasks, models and
metrics (row groups of other tasks/models are skipped by their Parquet statistics), plus one of
the pairwise judgements, then cuts the rows by task in memory. `read_file(path, selection)` reads
a Parquet/CSV file in the canonical columns: only the columns needed, strings kept
dictionary-encoded, model/task/metric filters pushed into the Parquet reader.

Both return `Measurements`: per task, the rows whose metric votes (see `directions`), the task's
pairwise judgements, every metric's direction and each task's main metric — Arrow tables and
plain dicts, what the aggregators' pure builder turns into ballots.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa

from .._arrow import numpy_values
from ..errors import SampleBenchError
from .directions import check_tasks, open_registry, resolve_directions, unknown_note, voting_metrics
from .query import Plan, Selection, plan

EVIDENCE_COLUMNS = ["model", "task", "sample_id", "metric", "value"]


class _Compute:
    """`pyarrow.compute`, imported on first use: its import (~50 ms) is most of what a plain
    file read would otherwise pay for, and reading a whole file needs none of it."""

    def __getattr__(self, name: str):
        import pyarrow.compute

        return getattr(pyarrow.compute, name)


pc = _Compute()


@dataclass
class Chunk:
    """The selected rows of one task (`task` None: a whole file) and its pairwise judgements."""

    task: str | None
    table: pa.Table
    pairwise: pa.Table | None = None


@dataclass
class Measurements:
    """What a selection read: rows by task, directions, main metrics, notes.

    `directions[(task, metric)]` is True when higher is better; `main_metrics[task]` the main
    metric (None when unknown); `metrics[task]` the metrics whose ballots vote (the main one
    unless the selection named metrics or asked for all). `chunks` hold only voting rows."""

    source: str
    chunks: list[Chunk]
    directions: dict[tuple[str, str], bool] = field(default_factory=dict)
    main_metrics: dict[str, str | None] = field(default_factory=dict)
    metrics: dict[str, list[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    models: list[str] | None = None
    benchmark: object | None = None
    missing_tasks: list[str] = field(default_factory=list)

    @property
    def tasks(self) -> list[str]:
        return [c.task for c in self.chunks if c.task is not None]

    @property
    def n_rows(self) -> int:
        return sum(c.table.num_rows for c in self.chunks)

    def tables(self) -> dict[str, pa.Table]:
        """task -> its selected rows (a store read)."""
        return {c.task: c.table for c in self.chunks if c.task is not None}

    def table(self) -> pa.Table:
        """Every selected row in one table (dictionary columns unified)."""
        tables = [c.table for c in self.chunks if c.table.num_rows]
        if not tables:
            return self.chunks[0].table if self.chunks else pa.table({})
        return pa.concat_tables(tables, promote_options="permissive").unify_dictionaries()

    def release(self) -> Iterator[Chunk]:
        """Yield the chunks and drop each from this object once used (peak memory: one chunk)."""
        while self.chunks:
            yield self.chunks.pop(0)


# -- helpers on dictionary columns -----------------------------------------------------------
def _codes(col: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, list]:
    """(int32 codes, dictionary values) of a string column; a null gets code len(dictionary)."""
    if isinstance(col, pa.ChunkedArray):
        col = col.unify_dictionaries().combine_chunks() if pa.types.is_dictionary(col.type) else col.combine_chunks()
    if not pa.types.is_dictionary(col.type):
        col = pc.dictionary_encode(col)
    dictionary = col.dictionary
    return numpy_values(col.indices, null=len(dictionary)).astype(np.int32, copy=False), dictionary.to_pylist()


def _only_value(col: pa.ChunkedArray) -> str | None:
    """The value of a dictionary column without nulls whose chunks' dictionaries all hold just
    that one value (a file of one task or one metric), else None."""
    if not pa.types.is_dictionary(col.type) or col.null_count or not col.num_chunks:
        return None
    values = {v for c in col.chunks for v in c.dictionary.to_pylist()}
    if len(values) != 1 or any(len(c.dictionary) != 1 for c in col.chunks):
        return None
    value = values.pop()
    return None if value is None or value == "" else str(value)


def _first_appearance(col: pa.ChunkedArray | pa.Array) -> pa.Array:
    """The column dictionary-encoded with its values in order of first appearance (only those used):
    what encoding these rows on their own gives, whatever dictionary they were read with."""
    if isinstance(col, pa.ChunkedArray):
        col = col.unify_dictionaries().combine_chunks() if pa.types.is_dictionary(col.type) else col.combine_chunks()
    if not pa.types.is_dictionary(col.type):
        return pc.dictionary_encode(col)
    idx = col.indices
    used = pc.unique(idx).drop_null()
    used_np = np.asarray(used, np.int64)
    remap = np.zeros(len(col.dictionary), np.int32)
    remap[used_np] = np.arange(used_np.size, dtype=np.int32)
    if used_np.size == 0:  # every value null
        return pa.DictionaryArray.from_arrays(pa.nulls(len(idx), pa.int32()), col.dictionary.slice(0, 0))
    mask = np.asarray(pc.is_null(idx)) if idx.null_count else None
    new = pa.array(remap[np.asarray(pc.fill_null(idx, 0) if idx.null_count else idx, np.int64)], pa.int32(), mask=mask)
    return pa.DictionaryArray.from_arrays(new, col.dictionary.take(used))


def _reencode(table: pa.Table) -> pa.Table:
    for i, f in enumerate(table.schema):
        if pa.types.is_dictionary(f.type):
            table = table.set_column(i, f.name, _first_appearance(table.column(i)))
    return table


def _by_task(table: pa.Table) -> dict[str, np.ndarray | slice]:
    """task -> its rows in `table` (a slice when they are one block), store order kept."""
    if table.num_rows == 0:
        return {}
    codes, names = _codes(table["task"])
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(names) + 2))
    out: dict[str, np.ndarray | slice] = {}
    for i, name in enumerate(names):
        rows = order[bounds[i]:bounds[i + 1]]
        if rows.size == 0:
            continue
        out[name] = slice(int(rows[0]), int(rows[0]) + rows.size) if rows[-1] - rows[0] + 1 == rows.size else rows
    return out


def _take(table: pa.Table, rows: np.ndarray | slice) -> pa.Table:
    if isinstance(rows, slice):
        return table.slice(rows.start, rows.stop - rows.start)
    return table.take(pa.array(rows, pa.int64()))


def _keep_samples(table: pa.Table, task: str, p: Plan) -> pa.Table:
    """A task's rows restricted to the benchmark's cells and the selection's sample ids."""
    if p.benchmark is not None and table.num_rows:
        entry = p.benchmark.task(task)
        ids = table["sample_id"].cast(pa.string())
        uniq = pc.unique(ids)
        ok = [s for s in uniq.to_pylist() if entry.matches(s)]
        if len(ok) != len(uniq):
            table = table.filter(pc.is_in(ids, value_set=pa.array(ok, pa.string())))
    if task in p.samples and table.num_rows:
        table = table.filter(pc.is_in(table["sample_id"].cast(pa.string()),
                                      value_set=pa.array(sorted(p.samples[task]), pa.string())))
    return table


def _metrics_present(table: pa.Table) -> list[str]:
    if table.num_rows == 0:
        return []
    codes, names = _codes(table["metric"])
    return sorted(names[i] for i in np.flatnonzero(np.bincount(codes, minlength=len(names) + 1)[: len(names)]))


def _filter_metrics(table: pa.Table, use: list[str], present: list[str]) -> pa.Table:
    if set(use) == set(present):
        return table
    return table.filter(pc.is_in(table["metric"].cast(pa.string()), value_set=pa.array(use, pa.string())))


def _without_models(table: pa.Table, pairs: pa.Table | None, drop) -> tuple[pa.Table, pa.Table | None]:
    out = pa.array(list(drop), pa.string())
    table = table.filter(pc.invert(pc.is_in(table["model"].cast(pa.string()), value_set=out)))
    if pairs is not None and pairs.num_rows:
        pairs = pairs.filter(pc.invert(pc.or_(pc.is_in(pairs["model_a"].cast(pa.string()), value_set=out),
                                              pc.is_in(pairs["model_b"].cast(pa.string()), value_set=out))))
    return table, pairs


def _main_metrics_to_push(tasks: list[str] | None, info: dict, reg, all_metrics: bool) -> list[str] | None:
    """The metrics a main-metric read needs, to push into the scan: when every selected task has a
    main metric marked by its runs, only those (and the registry's main metrics) can vote, so
    the other metrics' rows are never read. None (read every metric) otherwise."""
    if all_metrics or not tasks:
        return None
    wanted: set[str] = set()
    for task in tasks:
        marked = [m for m, i in info.get(task, {}).items() if i.main]
        if not marked:
            return None
        wanted.update(marked)
        if task in reg:
            wanted.add(reg.get(task).main_metric)
    return sorted(wanted)


# -- the store --------------------------------------------------------------------------------
def read_store(store, selection: Selection | None = None, registry=None, *, columns: list[str] | None = None,
               metric_info: dict | None = None) -> Measurements:
    """The selection's measurements from `store` (a ResultStore or its folder), in one scan.

    `columns`: measurement columns to read (default: all, detail columns included); the key and
    evidence columns are always read. When every selected task has a main metric marked by its
    runs and the selection asks for main metrics, only those metrics are read. `registry`: a
    TaskRegistry, its folder, or a mapping task -> TaskSpec; `metric_info` replaces what the
    store's runs recorded (task -> metric -> MetricInfo). Tasks come in the order asked for, else sorted. A task
    asked for by name (or tag) with no results in the store is an error; a benchmark's task
    without results is noted. Metric choice and directions: see `directions`. A metric whose
    direction nobody declared does not vote beside metrics of known direction; a task with no
    declared direction at all (rows written without metadata) is taken as higher-is-better. Each
    case is one note naming the metrics.
    """
    from ..results import ResultStore

    sel = selection or Selection()
    store = ResultStore(store) if isinstance(store, str | Path) else store
    p = plan(sel, registry)
    reg = open_registry(registry)
    models = list(sel.models) if sel.models else None
    if columns is not None:
        names = set(store.column_names())
        columns = list(dict.fromkeys([*EVIDENCE_COLUMNS, *(["group"] if "group" in names else []),
                                      *(c for c in columns if c in names)]))
    info = store.metric_info() if metric_info is None else metric_info
    metrics = list(sel.metrics) if sel.metrics else _main_metrics_to_push(p.tasks, info, reg, sel.all_metrics)
    table = store.scan(models=models, tasks=p.tasks, metrics=metrics, columns=columns).unify_dictionaries()
    pairs = store.scan(kind="pairwise", tasks=p.tasks, models=models) if sel.pairwise else None
    if pairs is not None and models is not None and pairs.num_rows:
        keep = pa.array(models, pa.string())
        pairs = pairs.filter(pc.and_(pc.is_in(pairs["model_a"].cast(pa.string()), value_set=keep),
                                     pc.is_in(pairs["model_b"].cast(pa.string()), value_set=keep)))
    if sel.exclude_models:
        table, pairs = _without_models(table, pairs, sel.exclude_models)
    rows = _by_task(table)
    pair_rows = _by_task(pairs) if pairs is not None else {}
    found = set(rows) | set(pair_rows)
    missing: list[str] = []
    if p.tasks is None:
        task_list = sorted(found)
    elif p.benchmark is not None and not sel.tasks and not sel.tags and not sel.task_types:
        task_list = [t for t in p.tasks if t in found]
        missing = [t for t in p.tasks if t not in found]
    else:
        if any(t not in found for t in p.tasks):  # asked for by name: is it in the store at all?
            known = set(store.distinct("task")) | set(store.distinct("task", kind="pairwise"))
            check_tasks(p.tasks, known, f"store {store.root}")
        task_list = list(p.tasks)
    out = Measurements(source=f"store {store.root}", chunks=[], models=models, benchmark=p.benchmark,
                       missing_tasks=missing)
    unknown: list[tuple[str, str]] = []
    assumed: list[tuple[str, str]] = []
    for task in task_list:
        t = _reencode(_take(table, rows[task])) if task in rows else table.slice(0, 0)
        t = _keep_samples(t, task, p)
        present = _metrics_present(t)
        directions, main, unk = resolve_directions(info, [task], {task: present}, reg)
        use = voting_metrics(task, present, main.get(task), explicit=bool(sel.metrics), all_metrics=sel.all_metrics,
                             notes=out.notes)
        if any((task, x) in directions for x in use):  # beside declared metrics, undeclared ones never vote
            unknown += [(a, x) for a, x in unk if x in use]
            use = [x for x in use if (task, x) in directions]
        else:  # nothing declared for this task (rows written without metadata): the default, noted
            assumed += [(a, x) for a, x in unk if x in use]
        out.directions.update(directions)
        out.directions.update({k: True for k in unk})  # recorded as the default, but they do not vote
        out.main_metrics[task] = main.get(task)
        out.metrics[task] = use
        pt = _reencode(_take(pairs, pair_rows[task])) if task in pair_rows else None
        out.chunks.append(Chunk(task, _filter_metrics(t, use, present), pt))
    if unknown:
        out.notes.append(unknown_note(unknown, "left out (they do not vote beside metrics of known direction)"))
    if assumed:
        out.notes.append(unknown_note(assumed, "treated as higher is better"))
    if missing:
        out.notes.append(f"{len(missing)} of {len(p.tasks)} tasks of benchmark {p.benchmark.name} have no results "
                         f"in the store: {', '.join(missing[:8])}{' ...' if len(missing) > 8 else ''}")
    return out


# -- a file -----------------------------------------------------------------------------------
def _read_table(path: Path, columns: list[str], filters) -> pa.Table:
    """The `columns` of `path` that exist (strings dictionary-encoded), rows passing `filters`."""
    try:
        return _read_columns(path, columns, filters)
    except (pa.ArrowException, OSError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SampleBenchError(f"--input {path}: cannot read it as {_kind(path)}: {first}",
                               hint="give a Parquet file, or a CSV/TSV file with a header row, in the canonical "
                                    "columns model, task, sample_id, metric, value") from None


def _kind(path: Path) -> str:
    return "CSV" if path.suffix.lower() in (".csv", ".tsv") else "Parquet"


def _read_columns(path: Path, columns: list[str], filters) -> pa.Table:
    import pyarrow.parquet as pq

    if path.suffix.lower() in (".csv", ".tsv"):
        import pyarrow.csv as pacsv

        parse = pacsv.ParseOptions(delimiter="\t" if path.suffix.lower() == ".tsv" else ",")
        with pacsv.open_csv(path, parse_options=parse) as reader:
            header = reader.schema.names
        present = [c for c in columns if c in header]
        types = {c: pa.float64() if c == "value" else pa.dictionary(pa.int32(), pa.string()) for c in present}
        table = pacsv.read_csv(path, parse_options=parse,
                               convert_options=pacsv.ConvertOptions(include_columns=present, column_types=types))
        for col, _, values in [f for f in filters or [] if f[0] in table.column_names]:
            table = table.filter(pc.is_in(table[col].cast(pa.string()), value_set=pa.array(values, pa.string())))
        return table
    schema = pq.read_schema(path)
    present = [c for c in columns if c in schema.names]
    strings = [c for c in present if c != "value" and (pa.types.is_string(schema.field(c).type)
                                                        or pa.types.is_large_string(schema.field(c).type))]
    filters = [f for f in (filters or []) if f[0] in schema.names] or None
    if filters:  # row groups skipped by their statistics (pyarrow.dataset)
        return pq.read_table(path, columns=present, read_dictionary=strings, filters=filters)
    with pq.ParquetFile(path, read_dictionary=strings) as f:  # no dataset layer (and no pandas import)
        return f.read(columns=present)


def read_file(path: str | Path, selection: Selection | None = None, registry=None) -> Measurements:
    """A Parquet/CSV file in the canonical columns (`--input`), read with only the needed columns.

    Files carry no metric metadata: directions come from the registry when `registry` is given
    and knows the task, else higher is better (one note names those metrics). Every metric in the
    file votes unless the selection names some.
    """
    sel = selection or Selection()
    p = Path(path)
    if not p.is_file():
        raise SampleBenchError(f"--input {p}: no such file")
    filters = [(col, "in", list(vals)) for col, vals in (("model", sel.models), ("task", sel.tasks),
                                                         ("metric", sel.metrics)) if vals]
    table = _read_table(p, [*EVIDENCE_COLUMNS, "group"], filters)
    for col in EVIDENCE_COLUMNS:
        if col not in table.column_names:
            raise SampleBenchError(f"{p}: missing column '{col}'; measurements need model, task, sample_id, "
                                   "metric, value")
    reg = open_registry(registry) if registry is not None else None
    by_task: dict[str, list[str]] = {}
    one_task, one_metric = _only_value(table["task"]), _only_value(table["metric"])
    if table.num_rows and one_task is not None and one_metric is not None:  # no pass over the rows
        by_task[one_task] = [one_metric]
    elif table.num_rows:
        t_codes, t_names = _codes(table["task"])
        m_codes, m_names = _codes(table["metric"])
        n_m = len(m_names) + 1
        pairs = np.flatnonzero(np.bincount(t_codes.astype(np.int64) * n_m + m_codes, minlength=(len(t_names) + 1) * n_m))
        del t_codes, m_codes
        for code in pairs:
            t, m = divmod(int(code), n_m)
            if t >= len(t_names) or m >= len(m_names):
                raise SampleBenchError(f"{p}: a row has an empty task or metric")
            by_task.setdefault(str(t_names[t]), []).append(str(m_names[m]))
    tasks = sorted(by_task)
    directions, main, unknown = resolve_directions({}, tasks, by_task, reg)
    out = Measurements(source=str(p), chunks=[Chunk(None, table)], models=list(sel.models) if sel.models else None)
    out.directions = {**directions, **{k: True for k in unknown}}
    out.main_metrics = main
    out.metrics = {t: sorted(ms) for t, ms in by_task.items()}
    if unknown:
        out.notes.append(unknown_note(unknown, "treated as higher is better"))
    pa.default_memory_pool().release_unused()  # the reader's decoding buffers (~0.5 GB per 10M rows)
    return out


def read(source, selection: Selection | None = None, registry=None, **kwargs) -> Measurements:
    """`read_file` for a file path, else `read_store` (a ResultStore or a store folder)."""
    if isinstance(source, str | Path) and Path(source).is_file():
        return read_file(source, selection, registry)
    return read_store(source, selection, registry, **kwargs)
