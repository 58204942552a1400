"""`bench results list|export|import|check|table`."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import SampleBenchError
from ._common import (
    LazyChoice,
    LazyHelpOption,
    echo_json,
    format_table,
    json_option,
    registry_option,
    split_csv,
    store_option,
)


def _formats() -> tuple[str, ...]:
    from ..results.io import FORMATS

    return FORMATS


def _import_formats_help() -> str:
    from ..results.importers import IMPORTERS

    return f"One of: {', '.join(sorted(IMPORTERS))}."


@click.group("results")
def results_group() -> None:
    """Inspect, export and import sample-level results."""


@results_group.command("list")
@store_option
@json_option
def list_results(store: Path | None, as_json: bool) -> None:
    """Runs, models, tasks and cell counts in the store.

    Counts are cells (the latest row of each, what every reader sees); rows that later runs
    replaced are counted apart. A run whose writing process died shows as `interrupted`.
    """
    from ..results import ResultStore

    rs = ResultStore(store)
    summary = rs.summary()
    runs = rs.runs()
    if as_json:
        summary["run_records"] = [{**r.model_dump(mode="json", exclude={"shards"}), "state": r.state()} for r in runs]
        echo_json(summary)
        return
    superseded = f" (+{summary['superseded_rows']:,} superseded rows)" if summary["superseded_rows"] else ""
    click.echo(f"store: {summary['store']}  cells: {summary['rows']:,}{superseded}  "
               f"pairwise judgements: {summary.get('pairwise_rows', 0):,}")
    if runs:
        rows = [(r.run_id, r.kind, r.state(), r.n_rows, r.n_errors, len(r.models), len(r.tasks), r.source or "-")
                for r in runs]
        click.echo(format_table(["run", "kind", "status", "rows", "errors", "models", "tasks", "source"], rows))
    if summary["models"]:
        click.echo(format_table(["model", "cells"], list(summary["models"].items())))
        click.echo(format_table(["task", "cells"], list(summary["tasks"].items())))


@results_group.command("check")
@click.option("--quarantine", is_flag=True,
              help="Move bad shards to <store>/_quarantine/ (nothing is deleted) and finish interrupted imports.")
@store_option
@json_option
def check_results(quarantine: bool, store: Path | None, as_json: bool) -> None:
    """Verify every shard of the store; exit 2 while a bad shard is left in place."""
    from ..results import ResultStore

    rs = ResultStore(store)
    if quarantine:
        rs.ensure_writable()
    report = rs.check(quarantine=quarantine)
    if as_json:
        echo_json(report.as_dict())
    else:
        click.echo("\n".join(report.lines()))
    if not report.ok:
        raise SampleBenchError(f"{len(report.bad)} bad shard(s) in {rs.root}",
                               hint="rerun with --quarantine to move them aside; the rest stays usable")


@results_group.command("export")
@click.option("--format", "fmt", type=LazyChoice(_formats), default="parquet", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--model", "models", help="Only these models (comma-separated).")
@click.option("--task", "tasks", help="Only these tasks (comma-separated).")
@click.option("--pairwise", is_flag=True, help="Export the pairwise table instead of measurements.")
@store_option
def export_results(fmt: str, out: Path, models: str | None, tasks: str | None, pairwise: bool, store: Path | None) -> None:
    """Write the latest row of every selected cell to OUT."""
    from ..results import ResultStore
    from ..results.io import export

    n = export(ResultStore(store), out, fmt, models=split_csv(models), tasks=split_csv(tasks),
               kind="pairwise" if pairwise else "measurements")
    click.echo(f"wrote {n:,} rows to {out}")


@results_group.command("import")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--format", "fmt", required=True, cls=LazyHelpOption, lazy_help=_import_formats_help)
@click.option("--pairwise", is_flag=True, help="PATH holds pairwise judgements (canonical formats only).")
@click.option("--alias", "alias_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="YAML/JSON `source name: model name` table (over $SAMPLEBENCH_HOME/aliases.yaml).")
@click.option("--set", "options", multiple=True, metavar="KEY=VALUE",
              help="Format option, e.g. task=arena, metric=acc, use_mteb=false, experiments=true, "
                   "prefix_systems=false.")
@click.option("--details", "details_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the import's full lists (absent subsets, duplicates, superseded runs, ...) as JSON "
                   "to this file; the printed summary counts them.")
@store_option
@json_option
def import_results(path: Path, fmt: str, pairwise: bool, alias_file: Path | None, options: tuple[str, ...],
                   details_file: Path | None, store: Path | None, as_json: bool) -> None:
    """Import results from PATH; atomic (all or nothing) and idempotent. See `bench importers list`."""
    from ..results import ResultStore
    from ..results.importers import IMPORTERS

    if fmt not in IMPORTERS:
        raise SampleBenchError(f"unknown import format '{fmt}'; choose one of {', '.join(sorted(IMPORTERS))}")
    kwargs: dict = {"kind": "pairwise"} if pairwise else {}
    if alias_file:
        kwargs["aliases"] = alias_file
    for option in options:
        key, sep, value = option.partition("=")
        if not sep or not key:
            raise SampleBenchError(f"--set {option!r}: write KEY=VALUE, e.g. --set task=arena")
        kwargs[key] = {"true": True, "false": False}.get(value.lower(), value)
    summary = IMPORTERS[fmt](ResultStore(store), path, **kwargs)
    if details_file is not None:
        summary.write_details(details_file)
    if as_json:
        echo_json(summary.brief())
    else:
        click.echo("\n".join(summary.lines()))
        if details_file is not None:
            click.echo(f"  details: {details_file}")


@results_group.command("table")
@click.option("--benchmark", required=True, help="An MTEB benchmark name such as 'MTEB(eng, v2)', a benchmark "
                                                 "defined in YAML, or a .yaml file.")
@click.option("--format", "fmt", type=click.Choice(["csv", "parquet", "markdown"]), default="markdown",
              show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write to FILE (needed for parquet).")
@click.option("--models", help="Only these models (comma-separated).")
@store_option
@registry_option
def results_table(benchmark: str, fmt: str, out: Path | None, models: str | None, store: Path | None,
                  registry: Path | None) -> None:
    """Model x task table of a benchmark's main scores, computed as mteb computes them (one scan)."""
    from ..results import ResultStore
    from ..selection.tables import main_score_table, write_table

    table, notes = main_score_table(ResultStore(store), benchmark, registry, models=split_csv(models))
    text = write_table(table, fmt, out)
    if text is not None:
        click.echo(text, nl=False)
    for n in notes:
        click.echo(f"note: {n}", err=True)
    if out is not None:
        cols = [c.to_pylist() for c in table.columns[1:]]
        full = sum(all(v is not None for v in row) for row in zip(*cols, strict=True)) if cols else 0
        click.echo(f"wrote {table.num_rows:,} models x {table.num_columns - 1} tasks to {out} "
                   f"({full:,} models with every task)", err=True)


COMMANDS = [results_group]
