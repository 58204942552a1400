"""`bench models list|show`: the registered models (built-in and the user's) and the adapters."""

from __future__ import annotations

import click

from ._common import echo_json, format_table, json_option


@click.group("models")
def models_group() -> None:
    """Browse registered models and the adapters that load them."""


@models_group.command("list")
@json_option
def list_models(as_json: bool) -> None:
    """List registered models (name, adapter, revision) and the model adapters available."""
    from ..registry import ModelRegistry
    from ..runners.adapters import ADAPTERS
    from ..runners.models import ALIASES

    specs = ModelRegistry().all()
    if as_json:
        echo_json({"models": [s.model_dump(mode="json") for s in specs], "adapters": sorted(ADAPTERS),
                   "aliases": ALIASES})
        return
    rows = [(s.name, s.adapter, s.revision or "-", (s.description or "").split(".")[0][:60]) for s in specs]
    click.echo(format_table(["name", "adapter", "revision", "description"], rows))
    click.echo(f"{len(specs)} model(s); adapters: {', '.join(sorted(ADAPTERS))}")
    click.echo("aliases: " + ", ".join(f"{a} -> {t}" for a, t in sorted(ALIASES.items())))
    click.echo("also: a local folder or cached Hub id, openai:<model>[@<base url>], hf-causal:<folder>, "
               "package.module:function")


@models_group.command("show")
@click.argument("name")
@json_option
def show_model(name: str, as_json: bool) -> None:
    """Show what NAME resolves to (spec, adapter, revision) without loading weights."""
    from ..registry import dump_spec
    from ..runners.models import load_model, resolve_spec

    spec = resolve_spec(name)
    adapter = load_model(spec)
    if as_json:
        echo_json({"spec": spec.model_dump(mode="json"), "adapter": type(adapter).__name__,
                   "revision": adapter.revision})
        return
    if spec.source:
        click.echo(f"# {spec.source}")
    click.echo(dump_spec(spec).rstrip())
    click.echo(f"# adapter: {type(adapter).__name__}; revision: {adapter.revision or 'unknown'}")


COMMANDS = [models_group]
