"""The measurements of the indexed cards as ballots addressable by card: what a query ranks.

Built from the store once per (cards, measurements) state and kept beside the index:

* the measurements are read by `selection.read_store` (the path `bench aggregate` reads by),
  with the cards' sample ids per task as the selection's `sample_ids`: each task's metric is
  chosen and directed as `bench aggregate` chooses it (the registry's main metric, else the one
  a run marked main, else all of the task's metrics), with the same notes;
* one ballot per (card, metric): the models measured on that sample, ordered by value
  (`EvidenceBuilder.add_ballots`), ballots sorted by card row, so the ballots of any set of
  cards are a few `searchsorted` ranges;
* the arrays are saved as `.npy` files and memory-mapped on load: a query reads only the
  ballots of its matched cards, whatever the size of the pool (reading the matched samples
  through `read_store` at query time instead would scan the store's rows of their tasks:
  2.3 s for 100 samples of the 1M-card, 10M-measurement pool of benchmarks/bench_pool.py).

Rows with a rater `group` (per-group DICES measurements) and pairwise judgements are not card
ballots and are left out (noted).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..aggregators import Evidence, EvidenceBuilder

_ARRAYS = ("offsets", "member_model", "member_level", "member_value", "sample_task", "sample_metric", "sample_group")


@dataclass
class PoolBallots:
    evidence: Evidence
    ballot_card: np.ndarray  # card row of each ballot, non-decreasing

    def for_cards(self, rows: np.ndarray) -> Evidence:
        """The ballots of the given card rows (the sample-level evidence of a selection)."""
        rows = np.unique(np.asarray(rows, np.int64))
        lo = np.searchsorted(self.ballot_card, rows, "left")
        hi = np.searchsorted(self.ballot_card, rows, "right")
        idx = np.concatenate([np.arange(a, b) for a, b in zip(lo, hi, strict=True) if b > a] or [np.zeros(0, np.int64)])
        return self.evidence.take_samples(idx.astype(np.int64), keep_pairs=np.zeros(0, np.int64))

    def n_measured(self, rows: np.ndarray) -> int:
        """How many of the given card rows have at least one ballot."""
        rows = np.unique(np.asarray(rows, np.int64))
        return int(np.count_nonzero(np.searchsorted(self.ballot_card, rows, "right")
                                    > np.searchsorted(self.ballot_card, rows, "left")))

    def measured_cards(self) -> np.ndarray:
        return np.unique(self.ballot_card)

    def save(self, folder: Path) -> None:
        ev = self.evidence
        for name in _ARRAYS:
            np.save(folder / f"ballots_{name}.npy", getattr(ev, name))
        np.save(folder / "ballots_card.npy", self.ballot_card)
        meta = {"models": ev.models, "tasks": ev.tasks, "metrics": ev.metrics, "groups": ev.groups,
                "higher_is_better": [[t, m, v] for (t, m), v in ev.higher_is_better.items()], "notes": ev.notes}
        (folder / "ballots.json").write_text(json.dumps(meta), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> PoolBallots:
        meta = json.loads((folder / "ballots.json").read_text(encoding="utf-8"))
        arrays = {name: np.load(folder / f"ballots_{name}.npy", mmap_mode="r") for name in _ARRAYS}
        ev = Evidence(models=meta["models"], tasks=meta["tasks"], metrics=meta["metrics"], groups=meta["groups"],
                      higher_is_better={(t, m): v for t, m, v in meta["higher_is_better"]},
                      notes=meta["notes"], **arrays)
        return cls(ev, np.load(folder / "ballots_card.npy", mmap_mode="r"))


def build_ballots(store, cards: pa.Table, registry=None) -> PoolBallots:
    """Ballots of every card of `cards` (task, sample_id, in index order) that has measurements.

    The measurements come from `selection.read_store` (the one read path: tasks of the cards that
    the store holds, sample ids = the cards' ids per task; metric choice, directions and their
    notes as `bench aggregate` makes them); they are then keyed by card row."""
    from ..selection import Selection, read_store

    known = set(store.distinct("task"))
    tasks = [t for t in pc.unique(cards["task"]).to_pylist() if t in known]
    if not tasks:
        return PoolBallots(EvidenceBuilder().build(), np.zeros(0, np.int64))
    ids = cards.filter(pc.is_in(cards["task"], value_set=pa.array(tasks, pa.string())))
    sample_ids: dict[str, list[str]] = {}
    for t, sid in zip(ids["task"].to_pylist(), ids["sample_id"].to_pylist(), strict=True):
        sample_ids.setdefault(t, []).append(sid)
    m = read_store(store, Selection.of(tasks=tasks, sample_ids=sample_ids, pairwise=False), registry, columns=[])
    columns = ["model", "task", "sample_id", "metric", "value"]
    parts, notes, n_grouped = [], list(m.notes), 0
    for chunk in m.release():
        t = chunk.table
        if "group" in t.column_names:
            grouped = pc.is_valid(t["group"])
            n_grouped += pc.sum(grouped).as_py() or 0
            t = t.filter(pc.invert(grouped))
        t = t.select(columns)
        parts.append(t.cast(pa.schema([(c, pa.float64() if c == "value" else pa.string()) for c in columns])))
    if n_grouped:
        notes.append(f"{n_grouped} per-group measurement(s) (rater groups) are not card ballots and were left out")
    table = pa.concat_tables(parts) if parts else pa.table({c: pa.array([], pa.string()) for c in columns})
    table = table.filter(pc.is_valid(table["value"]))
    chosen = sorted({(t, x) for t, ms in m.metrics.items() for x in ms})
    directions = {k: v for k, v in m.directions.items() if k in set(chosen)}
    card_keys = pc.binary_join_element_wise(cards["task"], cards["sample_id"], "\0")
    row = pc.index_in(pc.binary_join_element_wise(table["task"], table["sample_id"], "\0"), value_set=card_keys)
    table = table.append_column("card", row).filter(pc.is_valid(row))
    metrics = sorted({x for _, x in chosen})
    models = sorted(pc.unique(table["model"]).to_pylist())
    task_code = np.asarray(pc.index_in(table["task"], value_set=pa.array(tasks)), np.int64)
    metric_code = np.asarray(pc.index_in(table["metric"], value_set=pa.array(metrics, pa.string())), np.int64)
    model_code = np.asarray(pc.index_in(table["model"], value_set=pa.array(models, pa.string())), np.int64)
    card = np.asarray(table["card"], np.int64)
    value = np.asarray(table["value"], np.float64)
    sign = np.array([[1.0 if directions.get((t, x), True) else -1.0 for x in metrics] for t in tasks]).reshape(
        len(tasks), len(metrics))
    key = card * len(metrics) + metric_code
    order = np.argsort(key, kind="stable")
    key, card, task_code, metric_code, model_code, value = (a[order] for a in (key, card, task_code, metric_code,
                                                                                model_code, value))
    b = EvidenceBuilder(models, tasks=tasks, metrics=metrics, higher_is_better=directions)
    b.notes.extend(dict.fromkeys(notes))
    uniq, first = np.unique(key, return_index=True)
    per_key_task = np.zeros(int(key.max()) + 1 if key.size else 0, np.int32)
    per_key_metric = np.zeros_like(per_key_task)
    per_key_task[uniq] = task_code[first]
    per_key_metric[uniq] = metric_code[first]
    b.add_ballots(key, model_code, value, oriented=value * sign[task_code, metric_code],
                  sample_task=per_key_task, sample_metric=per_key_metric)
    return PoolBallots(b.build(), (uniq // max(len(metrics), 1)).astype(np.int64))
