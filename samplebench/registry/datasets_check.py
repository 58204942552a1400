"""Checks that a task's dataset can be opened and evaluated, done when a task is registered.

Local files: each is a regular file (not a device, FIFO or a symlink to one) with a suffix the
loader reads, not empty and at most `max_dataset_bytes()` (20 GiB unless
`$SAMPLEBENCH_MAX_DATASET_BYTES` says otherwise); every column the spec binds appears in at least
one of them. Files up to `CONTENT_CHECK_BYTES` are also read: the rows the task will score must
be at least two, labels/scores/answers may not be null, NaN or empty, ids must be unique within a
file, and a classification needs two classes — so such data fails at `add-task`, in our words,
not at evaluate with a scikit-learn message. Hub datasets: the repo and revision exist — skipped,
and said so, when `HF_HUB_OFFLINE=1`. URLs are not fetched at registration time.
"""

from __future__ import annotations

import json
import math
import os
import stat
from pathlib import Path

from ..errors import SampleBenchError
from .schemas import TaskSpec

LOADER_SUFFIXES = (".csv", ".tsv", ".json", ".jsonl", ".parquet", ".txt", ".arrow")
DEFAULT_MAX_DATASET_BYTES = 20 << 30
CONTENT_CHECK_BYTES = 512 << 20
# Roles whose values are what a task scores against: none may be missing.
_TARGET_ROLES = {"classification": "label", "pair_classification": "label", "clustering": "label", "sts": "score",
                 "multiple_choice": "answer", "pairwise_preference": "winner"}
_NEEDS_TWO_CLASSES = ("classification", "pair_classification")


def max_dataset_bytes() -> int:
    raw = os.environ.get("SAMPLEBENCH_MAX_DATASET_BYTES")
    if not raw:
        return DEFAULT_MAX_DATASET_BYTES
    try:
        return int(raw)
    except ValueError:
        raise SampleBenchError(f"SAMPLEBENCH_MAX_DATASET_BYTES={raw!r} is not a number of bytes") from None


def _size(n: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n} bytes"


def check_file(path: Path) -> int:
    """Refuse what the loader must not open: not a regular file, a foreign suffix, empty, too big.

    Returns the file's size. `os.stat` follows symlinks, so a `.jsonl` that links to `/dev/zero`
    is refused as the character device it is.
    """
    try:
        st = os.stat(path)
    except OSError as exc:
        raise SampleBenchError(f"dataset.path: {path}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(st.st_mode):
        kind = "a folder" if stat.S_ISDIR(st.st_mode) else "a device, pipe or socket"
        raise SampleBenchError(f"dataset.path: {path} is {kind}, not a regular data file")
    if path.suffix.lower() not in LOADER_SUFFIXES:
        raise SampleBenchError(
            f"dataset.path: {path} is not a dataset file the loader reads (suffix {path.suffix or 'none'!r})",
            hint=f"use one of {', '.join(LOADER_SUFFIXES)}")
    if st.st_size == 0:
        raise SampleBenchError(f"dataset.path: {path} is empty (0 bytes)")
    limit = max_dataset_bytes()
    if st.st_size > limit:
        raise SampleBenchError(
            f"dataset.path: {path} is {_size(st.st_size)}; the limit for one dataset file is {_size(limit)}",
            hint="split it, or raise SAMPLEBENCH_MAX_DATASET_BYTES")
    return st.st_size


def _columns_of(path: Path) -> set[str]:
    suffix = path.suffix.lower()
    try:
        if suffix in (".csv", ".tsv"):
            import pyarrow.csv as pacsv

            opts = pacsv.ParseOptions(delimiter="\t" if suffix == ".tsv" else ",")
            reader = pacsv.open_csv(path, parse_options=opts)
            return set(reader.schema.names)
        if suffix == ".parquet":
            import pyarrow.parquet as pq

            return set(pq.read_schema(path).names)
        if suffix in (".jsonl", ".json"):
            with open(path, encoding="utf-8") as fh:
                if suffix == ".jsonl":
                    first = fh.readline()
                    row = json.loads(first) if first.strip() else {}
                else:
                    data = json.load(fh)
                    row = data[0] if isinstance(data, list) and data else data
            return set(row) if isinstance(row, dict) else set()
    except Exception as exc:  # any parse failure is a user-facing data problem
        raise SampleBenchError(f"{path}: cannot read dataset file: {exc}") from None
    return set()


def _read_rows(path: Path, columns: list[str]) -> dict[str, list] | None:
    """column -> values of a data file, or None for a format only its loader reads (.txt, .arrow).

    CSV cells such as `NaN`, `NA`, `null` or nothing read as missing, as the loader (pandas) reads them.
    """
    suffix = path.suffix.lower()
    try:
        if suffix in (".csv", ".tsv"):
            import pyarrow.csv as pacsv

            t = pacsv.read_csv(path, parse_options=pacsv.ParseOptions(delimiter="\t" if suffix == ".tsv" else ","),
                               convert_options=pacsv.ConvertOptions(include_columns=columns, strings_can_be_null=True))
            return {c: t.column(c).to_pylist() for c in columns}
        if suffix == ".parquet":
            import pyarrow.parquet as pq

            t = pq.read_table(path, columns=columns)
            return {c: t.column(c).to_pylist() for c in columns}
        if suffix in (".jsonl", ".json"):
            with open(path, encoding="utf-8") as fh:
                if suffix == ".jsonl":
                    rows = [json.loads(line) for line in fh if line.strip()]
                else:
                    data = json.load(fh)
                    rows = data if isinstance(data, list) else [data]
            rows = [r for r in rows if isinstance(r, dict)]
            return {c: [r.get(c) for r in rows] for c in columns}
    except Exception as exc:  # noqa: BLE001 - any parse failure is a user-facing data problem
        raise SampleBenchError(f"{path}: cannot read dataset file: {str(exc).splitlines()[0] if str(exc) else exc}"
                               ) from None
    return None


def _is_missing(value) -> bool:
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    return isinstance(value, str) and not value.strip()


def _check_content(spec: TaskSpec, files: list[Path]) -> None:
    """Rows the task scores: at least two, targets present, ids unique per file, two classes."""
    target = _TARGET_ROLES.get(spec.type)
    target_col = spec.columns.get(target) if target else None
    id_col = spec.columns.get("id")
    rows, classes, scored = 0, set(), []
    for path in files:
        if path.stat().st_size > CONTENT_CHECK_BYTES:
            return  # too big to read now: the loader will read it at evaluate
        names = _columns_of(path)
        wanted = [c for c in (target_col, id_col) if c and c in names]
        if not wanted:
            continue
        table = _read_rows(path, wanted)
        if table is None:
            return
        if target_col in wanted:
            values = table[target_col]
            rows += len(values)
            scored.append(str(path))
            bad = next((i for i, v in enumerate(values) if _is_missing(v)), None)
            if bad is not None:
                raise SampleBenchError(
                    f"{path}: row {bad + 1}: column '{target_col}' ({target}) is empty or NaN; every sample "
                    f"needs one", hint="drop or fill such rows before registering the task")
            classes.update(str(v) for v in values[:100_000])
        if id_col in wanted:
            seen: set = set()
            for i, v in enumerate(table[id_col]):
                v = v if not isinstance(v, list | dict) else json.dumps(v, sort_keys=True)
                if v in seen:
                    raise SampleBenchError(f"{path}: row {i + 1}: id {v!r} (column '{id_col}') appears twice; "
                                           "sample ids must be unique")
                seen.add(v)
    if target_col is None or not scored:
        return
    where = scored[0] + (f" (and {len(scored) - 1} more file(s))" if len(scored) > 1 else "")
    if rows < 2:
        raise SampleBenchError(f"{where}: {rows} row(s) with a '{target_col}' value; a task needs at least 2 samples")
    if spec.type in _NEEDS_TWO_CLASSES and len(classes) < 2:
        raise SampleBenchError(f"{where}: column '{target_col}' holds a single class ({next(iter(classes))!r}); "
                               f"a {spec.type} task needs at least two")


def _local_files(spec: TaskSpec) -> list[Path]:
    base = Path(spec.resolved_dataset_path())
    files = spec.dataset.data_files
    if files is None:
        if base.is_dir():
            return sorted(p for p in base.rglob("*") if p.suffix.lower() in LOADER_SUFFIXES)
        return [base]
    flat: list[str] = []
    for v in files.values() if isinstance(files, dict) else [files]:
        flat.extend([v] if isinstance(v, str) else v)
    root = base if base.is_dir() else base.parent
    return [p if p.is_absolute() else root / p for p in map(Path, flat)]


def check_dataset(spec: TaskSpec) -> str:
    """Raise SampleBenchError if the dataset cannot be opened; return a short note of what was checked."""
    ds = spec.dataset
    if ds.is_local:
        files = _local_files(spec)
        missing = [p for p in files if not p.exists()]
        if missing or not files:
            where = missing[0] if missing else spec.resolved_dataset_path()
            raise SampleBenchError(
                f"dataset.path: {where} does not exist", hint="paths are relative to the spec file's folder"
            )
        for p in files:
            check_file(p)
        seen: set[str] = set()
        for p in files:
            seen |= _columns_of(p)
        if seen:
            absent = sorted({c for c in spec.columns.values()} - seen)
            if absent:
                raise SampleBenchError(
                    f"columns: dataset {files[0]} has no column(s) {', '.join(absent)}; "
                    f"it has: {', '.join(sorted(seen))}"
                )
        _check_content(spec, files)
        return f"local dataset ok ({len(files)} file(s))"
    if ds.is_url:
        return "URL dataset not fetched at registration"
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes"):
        return "Hub dataset not checked (HF_HUB_OFFLINE=1)"
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError, RepositoryNotFoundError, RevisionNotFoundError

    try:
        HfApi().dataset_info(ds.path, revision=ds.revision, timeout=10)
    except RepositoryNotFoundError:
        raise SampleBenchError(f"dataset.path: Hub dataset '{ds.path}' not found") from None
    except RevisionNotFoundError:
        raise SampleBenchError(f"dataset.revision: '{ds.revision}' not found in '{ds.path}'") from None
    except (HfHubHTTPError, OSError) as exc:
        raise SampleBenchError(
            f"dataset.path: cannot reach the Hub for '{ds.path}': {type(exc).__name__}",
            hint="set HF_HUB_OFFLINE=1 to register without checking, or pass --no-check",
        ) from None
    return "Hub dataset ok"
