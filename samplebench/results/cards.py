"""Sample cards: what each (task, sample_id) of the store *is* — its text and metadata.

Cards live beside the measurements, in the same store, with the same guarantees::

    cards/<write_id>.parquet      one shard per write: task, sample_id, text, text_sha1, metadata

* A shard becomes visible only by an atomic link of a fully written, fsynced file
  (`_atomic.publish`), so a write is all or nothing and a crash never leaves half a shard.
* Reading returns the latest card per (task, sample_id); later means a later write (write ids
  sort by time), and within a write a later row.
* Writes are idempotent by content: a card whose text and metadata equal the latest stored card
  of its key is not written again, and a write with nothing new publishes nothing. Importing the
  same file twice, or a rerun of `bench evaluate`, adds no shard.

`metadata` is a JSON object (keys sorted) of scalar fields: source dataset, category, language,
tags (a list), the task type... `text` is what the sample asks: a prompt, a query, an
instruction; for pairs both sides (joined by a blank line); for images a reference to them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .._atomic import publish
from ..errors import SampleBenchError
from .schema import new_run_id

CARD_SCHEMA = pa.schema([
    ("task", pa.string()),
    ("sample_id", pa.string()),
    ("text", pa.string()),
    ("text_sha1", pa.string()),
    ("metadata", pa.string()),
])
RESERVED = ("task", "sample_id", "text", "text_sha1", "metadata")


def text_sha1(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def _metadata_json(meta: Mapping[str, Any], where: str) -> str:
    clean: dict[str, Any] = {}
    for key, value in meta.items():
        if not isinstance(key, str) or not key:
            raise SampleBenchError(f"{where}: metadata keys must be non-empty strings, got {key!r}")
        if key in RESERVED:
            raise SampleBenchError(f"{where}: metadata field '{key}' is reserved for the card itself")
        if value is None:
            continue
        if isinstance(value, list | tuple):
            value = [str(v) for v in value]
        elif not isinstance(value, str | int | float | bool):
            raise SampleBenchError(f"{where}: metadata field '{key}' must be a string, number, boolean or list, "
                                   f"got {type(value).__name__}")
        clean[key] = value
    return json.dumps(clean, sort_keys=True, ensure_ascii=False)


def source_metadata(fields: Mapping[str, Any], *, prefix: str = "source_") -> dict[str, Any]:
    """A source record's fields (an lm-eval `doc`, an inspect sample's `metadata`) as card metadata.

    Strings, numbers, booleans and lists of them are kept as they are; nested objects (and lists
    holding any) become compact JSON text; None is left out. A field whose name a card reserves
    (`task`, `sample_id`, `text`, `text_sha1`, `metadata`) or that is empty is kept under
    `prefix` + its name (e.g. an lm-eval doc's `text` field -> `source_text`).
    """
    out: dict[str, Any] = {}
    for key, value in fields.items():
        key = str(key)
        if value is None:
            continue
        if key in RESERVED or not key:
            key = prefix + key
        scalar = (str, int, float, bool)
        if isinstance(value, scalar) or (isinstance(value, list | tuple) and all(isinstance(v, scalar) for v in value)):
            out[key] = list(value) if isinstance(value, tuple) else value
        else:
            out[key] = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str, separators=(",", ":"))
    return out


def card_table(cards: Iterable[Mapping[str, Any]], *, where: str = "cards") -> pa.Table:
    """Card dicts (`task`, `sample_id`, `text`, optional `metadata` dict or any other fields) ->
    a table in `CARD_SCHEMA`. A given `text_sha1` must match the text (it guards against a file
    whose texts were edited after hashing). Duplicate keys: the last card wins."""
    rows: dict[tuple[str, str], tuple[str, str, str]] = {}
    for i, card in enumerate(cards, 1):
        at = f"{where}: card {i}"
        if not isinstance(card, Mapping):
            raise SampleBenchError(f"{at}: expected an object with task, sample_id and text")
        for name in ("task", "sample_id", "text"):
            if card.get(name) is None or (isinstance(card.get(name), str) and not card[name].strip()):
                raise SampleBenchError(f"{at}: missing field '{name}'", hint="every card needs task, sample_id and text")
        task, sid, text = str(card["task"]), str(card["sample_id"]), card["text"]
        if not isinstance(text, str):
            raise SampleBenchError(f"{at}: field 'text' must be a string, got {type(text).__name__}")
        digest = text_sha1(text)
        if card.get("text_sha1") not in (None, digest):
            raise SampleBenchError(f"{at} ({task}/{sid}): text_sha1 {card['text_sha1']} does not match the text "
                                   f"(sha1 {digest})", hint="fix the text or drop the text_sha1 field")
        meta = dict(card.get("metadata") or {})
        meta.update({k: v for k, v in card.items() if k not in RESERVED})
        rows[(task, sid)] = (text, digest, _metadata_json(meta, at))
    keys = list(rows)
    vals = list(rows.values())
    return pa.table({
        "task": pa.array([k[0] for k in keys], pa.string()),
        "sample_id": pa.array([k[1] for k in keys], pa.string()),
        "text": pa.array([v[0] for v in vals], pa.string()),
        "text_sha1": pa.array([v[1] for v in vals], pa.string()),
        "metadata": pa.array([v[2] for v in vals], pa.string()),
    }, schema=CARD_SCHEMA)


def _content(table: pa.Table) -> list[str]:
    """One string per row naming its key and content (text hash + metadata)."""
    cols = [table[c].to_pylist() for c in ("task", "sample_id", "text_sha1", "metadata")]
    return ["\0".join(v) for v in zip(*cols, strict=True)]


class CardStore:
    """The sample cards of a results store (`store` is a ResultStore or its root folder)."""

    def __init__(self, store) -> None:
        root = Path(store) if isinstance(store, str | os.PathLike) else Path(store.root)
        self.dir = root / "cards"

    def shard_paths(self) -> list[Path]:
        if not self.dir.is_dir():
            return []
        return sorted(p for p in self.dir.glob("*.parquet") if not p.name.startswith("."))

    def fingerprint(self) -> str:
        """Changes whenever a card shard is published (names are unique and never rewritten)."""
        return hashlib.sha256("\n".join(p.name for p in self.shard_paths()).encode()).hexdigest()[:16]

    def read(self, tasks: Sequence[str] | None = None, columns: Sequence[str] | None = None) -> pa.Table:
        """The latest card per (task, sample_id), ordered by task then first appearance."""
        paths = self.shard_paths()
        cols = list(columns) if columns else CARD_SCHEMA.names
        if not paths:
            return CARD_SCHEMA.empty_table().select(cols)
        read_cols = list(dict.fromkeys(["task", "sample_id", *cols]))
        parts = []
        for p in paths:
            t = pq.read_table(p, columns=read_cols)
            if tasks is not None:
                t = t.filter(pc.is_in(t["task"], value_set=pa.array(list(tasks), pa.string())))
            parts.append(t)
        table = pa.concat_tables(parts)
        if len(paths) > 1:
            table = _latest(table)
        return table.select(cols)

    def __len__(self) -> int:
        return self.read(columns=["task"]).num_rows

    def write(self, cards: Iterable[Mapping[str, Any]] | pa.Table, *, where: str = "cards") -> dict[str, int]:
        """Publish the new or changed cards as one shard; returns counts (`written`, `unchanged`)."""
        table = cards if isinstance(cards, pa.Table) else card_table(cards, where=where)
        table = table.select(CARD_SCHEMA.names).cast(CARD_SCHEMA)
        if table.num_rows == 0:
            return {"written": 0, "unchanged": 0}
        before = table.num_rows
        known = self.read(tasks=pc.unique(table["task"]).to_pylist(),
                          columns=["task", "sample_id", "text_sha1", "metadata"])
        if known.num_rows:
            seen = set(_content(known))
            table = table.filter(pa.array([c not in seen for c in _content(table)], pa.bool_()))
        if table.num_rows:
            target = self.dir / f"{new_run_id()}.parquet"
            publish(target, lambda tmp: pq.write_table(table, tmp), overwrite=False)
        return {"written": table.num_rows, "unchanged": before - table.num_rows}


def _latest(table: pa.Table) -> pa.Table:
    """Keep the last row of each (task, sample_id), in the order keys first appeared."""
    import numpy as np

    if table.num_rows == 0:
        return table
    key = pc.binary_join_element_wise(table["task"], table["sample_id"], "\0")
    codes = np.asarray(pc.dictionary_encode(key).combine_chunks().indices)
    last = np.full(codes.max() + 1, -1, np.int64)
    last[codes] = np.arange(codes.size)  # later rows overwrite earlier ones
    return table.take(pa.array(np.sort(last)))


# -- cards from a task's data (what runners write) ----------------------------------------------
_ID_FIELDS = ("ids", "query_ids", "sample_ids", "prompt_ids")
_TEXT_FIELDS = ("texts", "queries", "questions", "prompts", "text1", "texts1", "text2", "texts2", "contexts")


def cards_from_task_data(spec, data: Any) -> list[dict[str, Any]]:
    """Cards for the samples of a task's loaded data (the evaluator's `load()` result).

    Data that knows what its samples are says so: a `sample_cards()` method returning dicts
    with `sample_id`, `text` and optional `metadata` (DICES conversations, CUBE prompts and
    diversity groups). Otherwise it works on the evaluators' dataclasses: the sample ids are the
    first of `ids`/`query_ids`/..., the text joins the parallel string fields (`texts`,
    `queries`, `text1` + `text2`, ...; for pairs both sides, one per paragraph). Metadata, for
    both: task type, languages, tags (a card's own metadata wins). Data whose samples have no
    text field gives no cards (nothing is invented).
    """
    task_meta = {"task_type": str(spec.type), "languages": list(spec.languages or []), "tags": list(spec.tags or [])}
    own = getattr(data, "sample_cards", None)
    if callable(own):
        return [{"task": spec.name, "sample_id": str(c["sample_id"]), "text": c["text"],
                 "metadata": {**task_meta, **(c.get("metadata") or {})}} for c in own() if str(c["text"]).strip()]
    if not dataclasses.is_dataclass(data):
        return []
    values = {f.name: getattr(data, f.name) for f in dataclasses.fields(data)}
    ids_field = next((n for n in _ID_FIELDS if isinstance(values.get(n), list)), None)
    if ids_field is None:
        return []
    ids = values[ids_field]
    parts = [values[n] for n in _TEXT_FIELDS
             if isinstance(values.get(n), list) and len(values[n]) == len(ids)
             and all(isinstance(v, str | None) for v in values[n][:50])]
    if not parts:
        return []
    meta = task_meta
    cards = []
    for i, sid in enumerate(ids):
        text = "\n\n".join(p[i] for p in parts if p[i])
        if text.strip():
            cards.append({"task": spec.name, "sample_id": str(sid), "text": text, "metadata": meta})
    return cards





def write_task_cards(store, spec, data: Any) -> int:
    """Write the cards of a task's loaded data (runners call this after `load()`); returns how
    many were new. Idempotent: a rerun on the same data writes nothing."""
    cards = cards_from_task_data(spec, data)
    return CardStore(store).write(cards, where=f"task {spec.name}")["written"] if cards else 0
__all__ = ["CARD_SCHEMA", "CardStore", "card_table", "cards_from_task_data", "source_metadata", "text_sha1",
           "write_task_cards"]
