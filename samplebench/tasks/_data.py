"""Loading a task's data with `datasets`, checking the columns a spec binds, and hashing local data.

Local data: `dataset.path` is a file or folder; `dataset.data_files` maps split -> file(s) relative
to it (passed to `datasets.load_dataset(<csv|json|parquet>, data_files=...)`). Hub data: the pinned
`dataset.revision` is always passed, with `dataset.name` (or a per-part config) as the config.
"""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..errors import SampleBenchError
from ..registry import TaskSpec

_BUILDERS = {".csv": "csv", ".tsv": "csv", ".json": "json", ".jsonl": "json", ".parquet": "parquet",
             ".txt": "text", ".arrow": "arrow"}


def _local_files(spec: TaskSpec) -> tuple[Path, dict[str, list[str]] | list[str]]:
    base = Path(spec.resolved_dataset_path())
    root = base if base.is_dir() else base.parent
    files = spec.dataset.data_files
    if files is None:
        if base.is_file():
            return root, [str(base)]
        found = sorted(str(p) for p in base.rglob("*") if p.suffix.lower() in _BUILDERS)
        if not found:
            raise SampleBenchError(f"task '{spec.name}': dataset.path {base} has no data files")
        # name splits after their file stems (train.csv -> train)
        return root, {Path(f).stem: [f] for f in found}

    def resolve(v: str) -> str:
        p = Path(v).expanduser()
        return str(p if p.is_absolute() else root / p)

    if isinstance(files, dict):
        return root, {k: [resolve(v)] if isinstance(v, str) else [resolve(x) for x in v] for k, v in files.items()}
    return root, [resolve(files)] if isinstance(files, str) else [resolve(x) for x in files]


def _all_paths(files: dict[str, list[str]] | list[str]) -> list[str]:
    return [p for v in files.values() for p in v] if isinstance(files, dict) else list(files)


def local_revision(spec: TaskSpec) -> str | None:
    """Content hash (sha256, 16 hex) of a local dataset's files; None for Hub datasets."""
    if not spec.dataset.is_local:
        return None
    _, files = _local_files(spec)
    h = hashlib.sha256()
    for p in sorted(_all_paths(files)):
        st = os.stat(p)
        h.update(_file_digest(p, st.st_size, st.st_mtime_ns).encode())
    return h.hexdigest()[:16]


@lru_cache(maxsize=256)
def _file_digest(path: str, size: int, mtime_ns: int) -> str:  # noqa: ARG001 - size/mtime key the cache
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def task_revision(spec: TaskSpec) -> str:
    return spec.revision_hash(local_revision(spec))


def _quiet_datasets() -> None:
    import datasets

    datasets.utils.logging.set_verbosity_error()
    datasets.disable_progress_bars()


def load_split(spec: TaskSpec, split: str, *, config: str | None = None) -> Any:
    """One split (a `datasets.Dataset`) of the task's data.

    Local data: `split` is a key of `data_files` (or a file stem). Hub data: `config` overrides
    `dataset.name` (retrieval tasks keep corpus/queries/qrels in separate configs).
    """
    import datasets

    _quiet_datasets()
    ds = spec.dataset
    try:
        if ds.is_local:
            _, files = _local_files(spec)
            paths = _all_paths(files)
            missing = [p for p in paths if not os.path.exists(p)]
            if missing:
                raise SampleBenchError(f"task '{spec.name}': dataset file {missing[0]} does not exist")
            if isinstance(files, dict):
                if split not in files:
                    raise SampleBenchError(
                        f"task '{spec.name}': dataset has no split '{split}'; it has: {', '.join(files)}",
                        hint="name the split in dataset.data_files or in the evaluator options",
                    )
                chosen = files[split]
            else:
                chosen = files
            builder = _BUILDERS.get(Path(chosen[0]).suffix.lower(), "json")
            kwargs: dict[str, Any] = {"delimiter": "\t"} if chosen[0].lower().endswith(".tsv") else {}
            return datasets.load_dataset(builder, data_files={split: chosen}, split=split, **kwargs)
        name = config if config is not None else ds.name
        _honour_offline_env()
        try:
            return datasets.load_dataset(ds.path, name, revision=ds.revision, split=split)
        except ValueError as exc:  # a config with one split under another name (e.g. corpus/corpus)
            if "split" not in str(exc).lower():
                raise
            splits = datasets.get_dataset_split_names(ds.path, name, revision=ds.revision)
            if len(splits) != 1:
                raise
            return datasets.load_dataset(ds.path, name, revision=ds.revision, split=splits[0])
    except SampleBenchError:
        raise
    except (FileNotFoundError, ConnectionError, OSError, ValueError) as exc:
        raise SampleBenchError(
            f"task '{spec.name}': cannot load dataset '{ds.path}' split '{split}': {type(exc).__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else ''}",
            hint="Hub datasets need network access (unset HF_HUB_OFFLINE) or a local copy in the HF cache",
        ) from None


def _honour_offline_env() -> None:
    """`datasets` reads HF_HUB_OFFLINE once, at import; follow the environment as it is now."""
    import datasets

    offline = os.environ.get("HF_HUB_OFFLINE", os.environ.get("HF_DATASETS_OFFLINE", "")).lower() in ("1", "true", "yes")
    if hasattr(datasets.config, "HF_HUB_OFFLINE"):
        datasets.config.HF_HUB_OFFLINE = offline


def require_columns(spec: TaskSpec, dataset: Any, roles: list[str], where: str = "") -> dict[str, str]:
    """Map each role to its column, raising SampleBenchError that names a declared column the data lacks."""
    cols = set(dataset.column_names)
    out: dict[str, str] = {}
    for role in roles:
        col = spec.columns.get(role)
        if col is None:
            continue
        if col not in cols:
            raise SampleBenchError(
                f"task '{spec.name}': column '{col}' (role '{role}') is missing from the dataset{where}; "
                f"it has: {', '.join(sorted(cols))}",
                hint=f"fix columns.{role} in {spec.source or 'the task spec'}",
            )
        out[role] = col
    return out


def row_ids(spec: TaskSpec, dataset: Any, prefix: str = "") -> list[str]:
    """Sample ids: the `id` column when the spec binds one, else the row number."""
    col = spec.columns.get("id")
    if col is not None and col in dataset.column_names:
        ids = [str(v) for v in dataset[col]]
        if len(set(ids)) != len(ids):
            raise SampleBenchError(f"task '{spec.name}': column '{col}' (role 'id') has repeated values")
        return ids
    return [f"{prefix}{i}" for i in range(len(dataset))]
