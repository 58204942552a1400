"""The `bench` command line: a thin layer that parses, calls the library and prints.

Verbs live in the modules of this package; each module exposes `COMMANDS`, a list of click
commands/groups that belong to the top-level group here. A verb's module is imported only when
that verb runs (`COMMAND_MODULES` says where each lives), so `bench aggregate` never pays for
the imports of `bench evaluate`; `bench --help`, and a name the table does not know, load every
module (a module added without a table entry still works, only not lazily). User errors
(SampleBenchError) print one or two lines and exit with status 2, never with a traceback.
"""

from __future__ import annotations

import importlib
import pkgutil

import click

from .. import __version__
from ..errors import SampleBenchError

# verb -> the module of this package that defines it (a hint for lazy loading, checked by a test)
COMMAND_MODULES = {
    "add-task": "tasks", "aggregate": "aggregate", "benchmarks": "benchmarks", "demo": "demo", "dices": "dices",
    "evaluate": "evaluate", "importers": "importers", "leaderboard": "leaderboard", "models": "models",
    "placement": "placement", "pool": "pool", "query": "query", "results": "results", "tasks": "tasks",
}


class UserError(click.ClickException):
    exit_code = 2

    def show(self, file=None) -> None:  # noqa: ARG002 - click's signature
        click.echo(f"error: {self.message}", err=True)


def _module_commands(name: str) -> dict[str, click.Command]:
    module = importlib.import_module(f"{__name__}.{name}")
    return {c.name: c for c in getattr(module, "COMMANDS", [])}


class BenchGroup(click.Group):
    """The top-level group: loads a verb's module on first use, and turns SampleBenchError into a
    two-line message and exit status 2."""

    _all_loaded = False

    def _load_all(self) -> None:
        if not self._all_loaded:
            for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
                if not info.name.startswith("_"):
                    for name, command in _module_commands(info.name).items():
                        self.commands.setdefault(name, command)
            self._all_loaded = True

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMAND_MODULES:
            for name, command in _module_commands(COMMAND_MODULES[cmd_name]).items():
                self.commands.setdefault(name, command)
        if cmd_name not in self.commands:
            self._load_all()
        return self.commands.get(cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._load_all()
        return sorted(self.commands)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except SampleBenchError as exc:
            raise UserError(str(exc)) from None


@click.group(cls=BenchGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="samplebench")
def cli() -> None:
    """samplebench: sample-level results, rankings with confidence intervals, leaderboards."""


def main() -> None:
    cli(prog_name="bench")


__all__ = ["COMMAND_MODULES", "cli", "main"]
