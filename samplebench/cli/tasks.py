"""`bench add-task`, `bench tasks list|show|validate`."""

from __future__ import annotations

from pathlib import Path

import click

from ._common import echo_json, format_table, json_option, registry_option


@click.command("add-task")
@click.argument("spec_path", type=click.Path(path_type=Path))
@click.option("--replace", is_flag=True, help="Overwrite a task already registered under this name.")
@click.option("--no-check", is_flag=True, help="Do not open the dataset before registering.")
@registry_option
def add_task(spec_path: Path, replace: bool, no_check: bool, registry: Path | None) -> None:
    """Validate SPEC_PATH, check its dataset opens, and register it."""
    from ..registry import TaskRegistry, TaskSpec, check_dataset, load_spec
    from ..tasks import evaluator_for

    tasks = TaskRegistry(registry)
    tasks.ensure_writable()  # before reading the dataset
    spec = load_spec(TaskSpec, spec_path)
    evaluator_for(spec)  # the task type's evaluator validates `options` now, not at the first evaluate
    note = "dataset not checked (--no-check)" if no_check else check_dataset(spec)
    target = tasks.add(spec, replace=replace)
    click.echo(f"registered task '{spec.name}' ({spec.type}, {len(spec.metrics)} metric(s)) -> {target}")
    click.echo(f"  {note}")


@click.group("tasks")
def tasks_group() -> None:
    """Browse and validate the task registry."""


@tasks_group.command("list")
@click.option("--type", "type_", help="Only tasks of this type, e.g. sts.")
@click.option("--language", help="Only tasks in this language (en, eng, eng-Latn all match English).")
@click.option("--tag", help="Only tasks with this tag.")
@registry_option
@json_option
def list_tasks(type_: str | None, language: str | None, tag: str | None, registry: Path | None, as_json: bool) -> None:
    """List registered tasks."""
    from ..registry import TaskRegistry

    specs = TaskRegistry(registry).filter(type=type_, language=language, tag=tag)
    if as_json:
        echo_json([s.model_dump(mode="json") for s in specs])
        return
    rows = [(s.name, s.type, s.main_metric, ",".join(s.languages) or "-", ",".join(s.tags) or "-") for s in specs]
    click.echo(format_table(["name", "type", "main metric", "languages", "tags"], rows))
    click.echo(f"{len(specs)} task(s)")


@tasks_group.command("show")
@click.argument("name")
@registry_option
@json_option
def show_task(name: str, registry: Path | None, as_json: bool) -> None:
    """Show one task's spec."""
    from ..registry import TaskRegistry, dump_spec

    spec = TaskRegistry(registry).get(name)
    if as_json:
        echo_json(spec)
        return
    click.echo(f"# {spec.source}" if spec.source else "")
    click.echo(dump_spec(spec).rstrip())
    click.echo(f"# task_revision: {spec.revision_hash()}")


@tasks_group.command("validate")
@click.argument("spec_path", type=click.Path(path_type=Path))
def validate_task(spec_path: Path) -> None:
    """Check SPEC_PATH without registering it."""
    from ..registry import TaskSpec, load_spec
    from ..tasks import evaluator_for

    spec = load_spec(TaskSpec, spec_path)
    evaluator_for(spec)
    click.echo(f"{spec_path}: valid {spec.type} task '{spec.name}'")


COMMANDS = [add_task, tasks_group]
