"""The measurements of the indexed cards as ballots addressable by card: what a query ranks.

Built from the store once per (cards, measurements) state and kept beside the index:

* each task's metric is chosen as `bench aggregate` chooses it (the registry's main metric, else
  the one a run marked main, else all of the task's metrics), with its direction;
* one ballot per (card, metric): the models measured on that sample, ordered by value
  (`EvidenceBuilder.add_ballots`), ballots sorted by card row, so the ballots of any set of
  cards are a few `searchsorted` ranges;
* the arrays are saved as `.npy` files and memory-mapped on load: a query reads only the
  ballots of its matched cards, whatever the size of the pool.

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
from ..selection.directions import open_registry, resolve_directions, unknown_note

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
    """Ballots of every card of `cards` (task, sample_id, in index order) that has measurements."""
    known = set(store.distinct("task"))
    tasks = [t for t in pc.unique(cards["task"]).to_pylist() if t in known]
    if not tasks:
        return PoolBallots(EvidenceBuilder().build(), np.zeros(0, np.int64))
    columns = ["model", "task", "sample_id", "metric", "value"]
    has_group = "group" in store.column_names()
    table = store.scan(tasks=tasks, columns=columns + (["group"] if has_group else []))
    notes: list[str] = []
    if has_group:
        grouped = pc.is_valid(table["group"])
        n = pc.sum(grouped).as_py() or 0
        if n:
            notes.append(f"{n} per-group measurement(s) (rater groups) are not card ballots and were left out")
            table = table.filter(pc.invert(grouped))
    table = table.select(columns)
    for col in ("model", "task", "sample_id", "metric"):
        if pa.types.is_dictionary(table[col].type):
            table = table.set_column(table.column_names.index(col), col, table[col].cast(pa.string()))
    table = table.filter(pc.is_valid(table["value"]))
    present: dict[str, list[str]] = {}
    for t, m in {(r["task"], r["metric"]) for r in table.select(["task", "metric"]).group_by(["task", "metric"])
                 .aggregate([]).to_pylist()}:
        present.setdefault(t, []).append(m)
    directions, main, unknown = resolve_directions(store.metric_info(), tasks, present, open_registry(registry))
    if unknown:
        notes.append(unknown_note(unknown, "treated as higher is better"))
    chosen: set[tuple[str, str]] = set()
    for t in tasks:
        have = sorted(present.get(t, []))
        if main.get(t) in have:
            have = [main[t]]
        elif len(have) > 1:
            notes.append(f"task {t}: no main metric known; all of {', '.join(have)} vote")
        chosen.update((t, m) for m in have)
    tm = pc.binary_join_element_wise(table["task"], table["metric"], "\0")
    chosen_keys = sorted(f"{t}\0{m}" for t, m in chosen)
    table = table.filter(pc.is_in(tm, value_set=pa.array(chosen_keys, pa.string())))
    card_keys = pc.binary_join_element_wise(cards["task"], cards["sample_id"], "\0")
    row = pc.index_in(pc.binary_join_element_wise(table["task"], table["sample_id"], "\0"), value_set=card_keys)
    table = table.append_column("card", row).filter(pc.is_valid(row))
    metrics = sorted({m for _, m in chosen})
    models = sorted(pc.unique(table["model"]).to_pylist())
    task_code = np.asarray(pc.index_in(table["task"], value_set=pa.array(tasks)), np.int64)
    metric_code = np.asarray(pc.index_in(table["metric"], value_set=pa.array(metrics)), np.int64)
    model_code = np.asarray(pc.index_in(table["model"], value_set=pa.array(models)), np.int64)
    card = np.asarray(table["card"], np.int64)
    value = np.asarray(table["value"], np.float64)
    sign = np.array([[1.0 if directions.get((t, m), True) else -1.0 for m in metrics] for t in tasks])
    key = card * len(metrics) + metric_code
    order = np.argsort(key, kind="stable")
    key, card, task_code, metric_code, model_code, value = (a[order] for a in (key, card, task_code, metric_code,
                                                                                model_code, value))
    b = EvidenceBuilder(models, tasks=tasks, metrics=metrics, higher_is_better=directions)
    b.notes.extend(notes)
    uniq, first = np.unique(key, return_index=True)
    per_key_task = np.zeros(int(key.max()) + 1 if key.size else 0, np.int32)
    per_key_metric = np.zeros_like(per_key_task)
    per_key_task[uniq] = task_code[first]
    per_key_metric[uniq] = metric_code[first]
    b.add_ballots(key, model_code, value, oriented=value * sign[task_code, metric_code],
                  sample_task=per_key_task, sample_metric=per_key_metric)
    return PoolBallots(b.build(), (uniq // max(len(metrics), 1)).astype(np.int64))
