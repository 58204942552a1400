"""Generic sample cards (JSON Lines): `bench results import --format samples FILE.jsonl`.

One JSON object per line: `task`, `sample_id`, `text` (required), optional `metadata` (an object)
and any other field, which becomes metadata (`dataset`, `category`, `language`, `tags`, ...). An
optional `text_sha1` is checked against the text. A folder imports every `.jsonl` in it. Cards
land in the store's `cards/` (see `samplebench.results.cards`): atomically, and idempotently by
content (an unchanged card is not written again).
"""

from __future__ import annotations

import pyarrow as pa

from ..cards import CardStore, card_table
from ..io import iter_jsonl
from ..store import ResultStore
from .driver import GiB, ImportContext, Importer
from .summary import ImportSummary


class CardImportSummary(ImportSummary):
    """An import of cards only: `cards` written, `cards_unchanged` already in the store."""

    def lines(self) -> list[str]:
        if self.already_imported:
            return [f"{self.source}: all {self.cards_unchanged:,} sample cards already in the store; nothing added"]
        return [f"imported {self.cards:,} sample cards from {self.source} (format {self.format}); "
                f"{self.cards_unchanged:,} unchanged", f"  tasks: {len(self.tasks)}"]


def read_samples(ctx: ImportContext) -> list[tuple[str, pa.Table]]:
    hint = "one card object per line: task, sample_id, text, ..."
    cards = [card for f in ctx.files for _, card in iter_jsonl(f, hint=hint)]
    return [("cards", card_table(cards, where=str(ctx.root)))]


def publish_cards(store: ResultStore, ctx: ImportContext, tables) -> CardImportSummary:
    """Cards go to the store's card store (idempotent by content), not to a measurement run."""
    [(_, table)] = list(tables)
    counts = CardStore(store).write(table)
    return CardImportSummary(
        source=str(ctx.root), format="samples", cards=counts["written"], cards_unchanged=counts["unchanged"],
        already_imported=counts["written"] == 0, tasks=sorted(set(table["task"].to_pylist())),
    )


IMPORTER = Importer(
    name="samples", suffixes=(".jsonl", ".json"), read=read_samples, publish=publish_cards, max_bytes=2 * GiB,
    none_found="no .jsonl files of sample cards",
    help="sample cards, JSON Lines: task, sample_id, text; any other field becomes metadata",
)
