"""`bench importers`: the import formats `bench results import --format NAME` understands."""

from __future__ import annotations

import click

from ._common import echo_json, format_table, json_option


@click.group("importers")
def importers_group() -> None:
    """Formats other harnesses' results can be imported from."""


@importers_group.command("list")
@json_option
def list_importers(as_json: bool) -> None:
    """Every import format with what it reads (model names: org__name -> org/name, then
    $SAMPLEBENCH_HOME/aliases.yaml)."""
    from ..results.importers import FORMAT_HELP, IMPORTERS

    rows = [(name, FORMAT_HELP.get(name, "")) for name in sorted(IMPORTERS)]
    if as_json:
        echo_json(dict(rows))
    else:
        click.echo(format_table(["format", "reads"], rows))


COMMANDS = [importers_group]
