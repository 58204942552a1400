"""`bench benchmarks list|show`: the named benchmarks a selection can use."""

from __future__ import annotations

import click

from ._common import echo_json, format_table, json_option


@click.group("benchmarks")
def benchmarks_group() -> None:
    """Named benchmarks (MTEB's, and yours in $SAMPLEBENCH_HOME/benchmarks/*.yaml)."""


@benchmarks_group.command("list")
@json_option
def list_benchmarks(as_json: bool) -> None:
    """Every benchmark `--benchmark` accepts, with its source and number of tasks."""
    from ..selection import list_benchmarks as known

    rows = known()
    if as_json:
        echo_json([{"name": n, "source": s, "tasks": k} for n, s, k in rows])
        return
    click.echo(format_table(["benchmark", "tasks", "source"], [(n, k, s) for n, s, k in rows]))


@benchmarks_group.command("show")
@click.argument("name")
@json_option
def show_benchmark(name: str, as_json: bool) -> None:
    """A benchmark's tasks with their splits and subsets."""
    from ..selection import resolve_benchmark

    b = resolve_benchmark(name)
    if as_json:
        echo_json(b)
        return
    click.echo(f"{b.name}  ({b.source}; {len(b.tasks)} tasks)")
    if b.aliases:
        click.echo(f"aliases: {', '.join(b.aliases)}")
    rows = [(t.task, t.type or "-", ",".join(t.splits or ("*",)), _subsets(t.subsets)) for t in b.tasks]
    click.echo(format_table(["task", "type", "splits", "subsets"], rows))


def _subsets(subsets) -> str:
    if subsets is None:
        return "*"
    return ",".join(subsets) if len(subsets) <= 4 else f"{','.join(subsets[:3])} ... ({len(subsets)})"


COMMANDS = [benchmarks_group]
