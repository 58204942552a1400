"""Options and printing helpers shared by the CLI verbs."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

store_option = click.option(
    "--store", type=click.Path(file_okay=False, path_type=Path), default=None,
    help="Results store folder (default: $SAMPLEBENCH_HOME/store).",
)
registry_option = click.option(
    "--registry", type=click.Path(file_okay=False, path_type=Path), default=None,
    help="Folder of user task specs (default: $SAMPLEBENCH_HOME/tasks).",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")


class LazyChoice(click.Choice):
    """A `click.Choice` whose choices come from `load()` when first needed, so defining the option
    imports nothing from the library (`bench --help` stays fast)."""

    def __init__(self, load: Callable[[], Sequence[str]], case_sensitive: bool = True) -> None:
        self._load = load
        self._loaded: tuple[str, ...] | None = None
        super().__init__((), case_sensitive)

    @property
    def choices(self) -> tuple[str, ...]:  # type: ignore[override]
        if self._loaded is None:
            self._loaded = tuple(self._load())
        return self._loaded

    @choices.setter
    def choices(self, value) -> None:  # click.Choice.__init__ assigns (); the loader decides
        pass


class LazyHelpOption(click.Option):
    """A `click.Option` whose help text is built by `lazy_help()` only when help is shown."""

    def __init__(self, *args, lazy_help: Callable[[], str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._lazy_help = lazy_help

    def get_help_record(self, ctx: click.Context):
        self.help = self._lazy_help()
        return super().get_help_record(ctx)


def split_csv(value: str | None) -> list[str] | None:
    """`a,b , c` -> ['a', 'b', 'c']; None or empty -> None."""
    if not value:
        return None
    return [v.strip() for v in value.split(",") if v.strip()]


def echo_json(data: Any) -> None:
    if hasattr(data, "model_dump"):
        data = data.model_dump(mode="json")
    click.echo(json.dumps(data, indent=2, default=str))


def format_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain, aligned text table (numbers right-aligned)."""
    cells = [[_fmt(v) for v in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    numeric = [all(isinstance(row[i], int | float) or row[i] is None for row in rows) and rows for i in range(len(headers))]

    def line(values: Sequence[str]) -> str:
        return "  ".join(v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric, strict=True)).rstrip()

    out = [line(list(headers)), line(["-" * w for w in widths])]
    out.extend(line(r) for r in cells)
    return "\n".join(out)


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.4f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)
