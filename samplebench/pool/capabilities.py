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
from .index import pool_dir, store_root

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
        raise SampleBenchError(f"no capability named '{name}' in store {store_root(store)}",
                               hint=f"closest: {close}" if close else "save one with `bench query TEXT --save NAME`")
    return Capability.model_validate_json(path.read_text(encoding="utf-8"))


def sample_ids_by_task(samples) -> dict[str, list[str]]:
    """[(task, sample_id), ...] -> {task: [sample_id, ...]} (the selection layer's `sample_ids`)."""
    out: dict[str, list[str]] = {}
    for task, sid in samples:
        out.setdefault(task, []).append(sid)
    return out


def capability_tasks(store, capability: str, tasks: list[str] | None) -> tuple[list[str], dict[str, list[str]]]:
    """The tasks to read for a saved capability and its samples per task: `tasks` kept where the
    capability has samples (all of the capability's tasks when `tasks` is empty). A capability
    with no sample in the given tasks is a user error naming its tasks."""
    only = capability_selection(store, capability=capability)
    names = [t for t in tasks if t in only] if tasks else sorted(only)
    if not names:
        raise SampleBenchError(f"capability '{capability}' has no samples in the selected tasks",
                               hint=f"its tasks: {', '.join(sorted(only))}")
    return names, only


def capability_selection(store, *, capability: str | None = None, query: dict | None = None) -> dict[str, list[str]]:
    """The samples a saved capability names, or those a query selects on the store's current
    index (`query`: text, top_k, min_similarity, where, retrieval), as {task: [sample_id, ...]}."""
    return resolve_selection(store, capability=capability, query=query)[0]


def resolve_selection(store, *, capability: str | None = None, query: dict | None = None
                      ) -> tuple[dict[str, list[str]], dict[str, Any]]:
    """`capability_selection` and what makes it reproducible: {capability, query, index_version,
    embedder, n_samples} (a capability's own record; for a query, the index it ran on now)."""
    if capability is not None:
        cap = load_capability(store, capability)
        if not cap.samples:
            raise SampleBenchError(f"capability '{capability}' holds no samples")
        record = {"capability": cap.name, "query": cap.query, "index_version": cap.index_version,
                  "embedder": cap.embedder, "n_samples": len(cap.samples)}
        return sample_ids_by_task(cap.sample_keys()), record
    from .query import Pool

    q = dict(query or {})
    text = q.pop("text", None)
    allowed = {"top_k", "min_similarity", "where", "retrieval"}
    unknown = set(q) - allowed
    if unknown:
        raise SampleBenchError(f"query: unknown field(s) {', '.join(sorted(unknown))}; allowed: text, "
                               f"{', '.join(sorted(allowed))}")
    pool = Pool(store)
    hits = pool.search(text or "", **{k: v for k, v in q.items() if v is not None})
    if not hits:
        raise SampleBenchError(f"query {text!r} selects no samples", hint="lower min_similarity or widen where")
    record = {"capability": None, "query": {"text": text, **q}, "index_version": pool.version,
              "embedder": pool.meta.get("embedder_identity"), "n_samples": len(hits)}
    return sample_ids_by_task([(h.task, h.sample_id) for h in hits]), record
