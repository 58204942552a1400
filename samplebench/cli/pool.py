"""`bench pool index|capabilities`: the searchable index of the sample pool."""

from __future__ import annotations

from pathlib import Path

import click

from ._common import echo_json, format_table, json_option, store_option


@click.group("pool")
def pool_group() -> None:
    """Index the sample pool for capability queries (`bench query`)."""


@pool_group.command("index")
@click.option("--embedder", default="sentence-transformers/all-MiniLM-L6-v2", show_default=True,
              help="Any registered text encoder (a sentence-transformers folder or Hub id, openai:MODEL, ...).")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
@store_option
@json_option
def index_cmd(embedder: str, no_progress: bool, store: Path | None, as_json: bool) -> None:
    """Embed every sample card once (cached by text hash) and publish the index."""
    from ..pool import build_index
    from ..results import ResultStore

    summary = build_index(ResultStore(store), embedder, progress=not no_progress)
    if as_json:
        echo_json(summary.__dict__)
    else:
        click.echo("\n".join(summary.lines()))


@pool_group.command("capabilities")
@store_option
@json_option
def capabilities_cmd(store: Path | None, as_json: bool) -> None:
    """Saved capabilities (`bench query TEXT --save NAME`)."""
    from ..pool import list_capabilities, load_capability
    from ..results import ResultStore

    rs = ResultStore(store)
    caps = [load_capability(rs, n) for n in list_capabilities(rs)]
    if as_json:
        echo_json([c.model_dump(mode="json", exclude={"samples"}) | {"n_samples": len(c.samples)} for c in caps])
        return
    rows = [(c.name, c.query.get("text", ""), len(c.samples), c.index_version) for c in caps]
    click.echo(format_table(["name", "query", "samples", "index"], rows) if rows else "no saved capabilities")


COMMANDS = [pool_group]
