"""Generic sample cards (JSON Lines): `bench results import --format samples FILE.jsonl`.

One JSON object per line: `task`, `sample_id`, `text` (required), optional `metadata` (an object)
and any other field, which becomes metadata (`dataset`, `category`, `language`, `tags`, ...). An
optional `text_sha1` is checked against the text. A folder imports every `.jsonl` in it. Cards
land in the store's `cards/` (see `samplebench.results.cards`): atomically, and idempotently by
content (an unchanged card is not written again).
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa

from ...errors import SampleBenchError
from ..cards import CardStore, card_table
from ..store import ResultStore
from .driver import GiB, ImportContext, Importer
from .summary import ImportSummary


class CardImportSummary(ImportSummary):
    cards: int = 0
    unchanged: int = 0

    def lines(self) -> list[str]:
        if self.already_imported:
            return [f"{self.source}: all {self.unchanged:,} sample cards already in the store; nothing added"]
        return [f"imported {self.cards:,} sample cards from {self.source} (format {self.format}); "
                f"{self.unchanged:,} unchanged", f"  tasks: {len(self.tasks)}"]


def _read_cards(path: Path) -> list[dict]:
    cards = []
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise SampleBenchError(f"{path}: line {n}: not JSON ({exc.msg})",
                                       hint="one card object per line: task, sample_id, text, ...") from None
            if not isinstance(obj, dict):
                raise SampleBenchError(f"{path}: line {n}: expected an object with task, sample_id and text")
            cards.append(obj)
    return cards


def read_samples(ctx: ImportContext) -> list[tuple[str, pa.Table]]:
    cards = [card for f in ctx.files for card in _read_cards(f)]
    return [("cards", card_table(cards, where=str(ctx.root)))]


def publish_cards(store: ResultStore, ctx: ImportContext, tables) -> CardImportSummary:
    """Cards go to the store's card store (idempotent by content), not to a measurement run."""
    [(_, table)] = list(tables)
    counts = CardStore(store).write(table)
    return CardImportSummary(
        source=str(ctx.root), format="samples", cards=counts["written"], unchanged=counts["unchanged"],
        already_imported=counts["written"] == 0, tasks=sorted(set(table["task"].to_pylist())),
    )


IMPORTER = Importer(
    name="samples", suffixes=(".jsonl", ".json"), read=read_samples, publish=publish_cards, max_bytes=2 * GiB,
    none_found="no .jsonl files of sample cards",
    help="sample cards, JSON Lines: task, sample_id, text; any other field becomes metadata",
)
