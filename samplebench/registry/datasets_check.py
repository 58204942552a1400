"""Cheap checks that a task's dataset can be opened, done when a task is registered.

Local files: they exist and every column the spec binds appears in at least one of them (only
headers/schemas are read). Hub datasets: the repo and revision exist — skipped, and said so, when
`HF_HUB_OFFLINE=1`. URLs are not fetched at registration time.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..errors import SampleBenchError
from .schemas import TaskSpec


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


def _local_files(spec: TaskSpec) -> list[Path]:
    base = Path(spec.resolved_dataset_path())
    files = spec.dataset.data_files
    if files is None:
        if base.is_dir():
            return sorted(p for p in base.rglob("*") if p.suffix.lower() in (".csv", ".tsv", ".parquet", ".json", ".jsonl"))
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
        seen: set[str] = set()
        for p in files:
            if p.is_file():
                seen |= _columns_of(p)
        if seen:
            absent = sorted({c for c in spec.columns.values()} - seen)
            if absent:
                raise SampleBenchError(
                    f"columns: dataset {files[0]} has no column(s) {', '.join(absent)}; "
                    f"it has: {', '.join(sorted(seen))}"
                )
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
