"""What an import reports: rows, models, tasks, metrics, skipped rows with reasons, notes."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from ..manifest import RunRecord


class ImportSummary(BaseModel):
    source: str
    format: str
    run_id: str | None = None
    already_imported: bool = False
    rows: int = 0
    pairwise_rows: int = 0
    models: list[str] = Field(default_factory=list)
    tasks: list[str] = Field(default_factory=list)
    metrics: list[str] = Field(default_factory=list)
    cards: int = Field(0, description="sample cards written (new or changed)")
    cards_unchanged: int = Field(0, description="sample cards of the source the store already held as they are")
    skipped: dict[str, int] = Field(default_factory=dict, description="reason -> number of rows skipped")
    notes: list[str] = Field(default_factory=list)
    details: dict[str, Any] = Field(default_factory=dict, description="format-specific facts (e.g. missing main scores)")

    def brief(self, max_items: int = 20) -> dict[str, Any]:
        """The summary as JSON data with every long list in `details` replaced by its count.

        A list of more than `max_items` items becomes `{"count": n, "first": [3 items]}` (the
        full lists: `write_details`), so a summary of a 100k-file import stays readable.
        """
        data = self.model_dump(mode="json")
        data["details"] = {k: _brief(v, max_items) for k, v in data["details"].items()}
        return data

    def write_details(self, path) -> None:
        """Write the full `details` (every list in full) as JSON to `path`, atomically."""
        import json
        from pathlib import Path

        from ..._atomic import publish

        text = json.dumps(self.model_dump(mode="json")["details"], indent=1, default=str)
        publish(Path(path), lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))

    def lines(self) -> list[str]:
        if self.already_imported:
            if self.cards:
                return [f"{self.source}: measurements already imported (same content); added {self.cards:,} "
                        "sample cards the store lacked"]
            return [f"{self.source}: already imported (same content); nothing added"]
        out = [
            f"imported {self.rows:,} measurement rows"
            + (f" and {self.pairwise_rows:,} pairwise rows" if self.pairwise_rows else "")
            + f" from {self.source} (format {self.format}, run {self.run_id})",
            f"  models: {len(self.models)}  tasks: {len(self.tasks)}  metrics: {len(self.metrics)}",
        ]
        if self.cards or self.cards_unchanged:
            out.append(f"  sample cards: {self.cards:,} written, {self.cards_unchanged:,} already in the store")
        out += [f"  skipped {n:,}: {reason}" for reason, n in sorted(self.skipped.items())]
        out += [f"  note: {note}" for note in self.notes]
        return out


def _brief(value: Any, max_items: int) -> Any:
    if isinstance(value, list) and len(value) > max_items:
        return {"count": len(value), "first": value[:3]}
    if isinstance(value, dict) and len(value) > max_items and all(isinstance(v, dict) for v in value.values()):
        return {"count": len(value), "first": dict(list(value.items())[:3])}
    return value


def summarise(record: RunRecord | None, **fields) -> ImportSummary:
    """Build a summary from the import's run record (None means the content was already imported)."""
    if record is None:
        return ImportSummary(already_imported=True, **fields)
    return ImportSummary(
        run_id=record.run_id, rows=record.n_rows, pairwise_rows=record.n_pairwise,
        models=record.models, tasks=record.tasks, metrics=record.metrics, **fields,
    )
