"""Saved capabilities: a query's selection of samples under a name, reproducible.

`pool/capabilities/<name>.json` holds the query (text, top_k, min_similarity, where, retrieval),
the index version and embedder it ran on, and the sample list itself (task, sample_id,
similarity). Aggregating a capability reads that list, never re-runs the query, so the same
store gives the same ranking even after the pool has grown and been re-indexed.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from .._atomic import write_text_atomic
from ..errors import SampleBenchError, closest_names
from .index import pool_dir

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


class Capability(BaseModel):
    name: str
    query: dict[str, Any]
    index_version: str
    embedder: str
    samples: list[dict[str, Any]] = Field(default_factory=list)

    def sample_keys(self) -> list[tuple[str, str]]:
        return [(s["task"], s["sample_id"]) for s in self.samples]


def _dir(store) -> Path:
    return pool_dir(store) / "capabilities"


def check_name(name: str) -> str:
    if not _NAME.match(name or ""):
        raise SampleBenchError(f"capability name {name!r} is not valid",
                               hint="use letters, digits, '.', '_' or '-' (at most 100), starting with a letter or digit")
    return name


def save_capability(store, cap: Capability) -> Path:
    path = _dir(store) / f"{check_name(cap.name)}.json"
    write_text_atomic(path, cap.model_dump_json(indent=2))
    return path


def list_capabilities(store) -> list[str]:
    d = _dir(store)
    return sorted(p.stem for p in d.glob("*.json")) if d.is_dir() else []


def load_capability(store, name: str) -> Capability:
    path = _dir(store) / f"{check_name(name)}.json"
    if not path.exists():
        known = list_capabilities(store)
        close = closest_names(name, known)
        raise SampleBenchError(f"no capability named '{name}' in store {getattr(store, 'root', store)}",
                               hint=f"closest: {close}" if close else "save one with `bench query TEXT --save NAME`")
    return Capability.model_validate_json(path.read_text(encoding="utf-8"))
