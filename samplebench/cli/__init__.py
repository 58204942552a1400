"""The `bench` command line: a thin layer that parses, calls the library and prints.

Verbs live in the modules of this package; each module exposes `COMMANDS`, a list of click
commands/groups that are added to the top-level group here. User errors (SampleBenchError)
print one or two lines and exit with status 2, never with a traceback.
"""

from __future__ import annotations

import importlib
import pkgutil

import click

from .. import __version__
from ..errors import SampleBenchError


class UserError(click.ClickException):
    exit_code = 2

    def show(self, file=None) -> None:  # noqa: ARG002 - click's signature
        click.echo(f"error: {self.message}", err=True)


class BenchGroup(click.Group):
    """A click group that turns SampleBenchError into a two-line message and exit status 2."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except SampleBenchError as exc:
            raise UserError(str(exc)) from None


@click.group(cls=BenchGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="samplebench")
def cli() -> None:
    """samplebench: sample-level results, rankings with confidence intervals, leaderboards."""


def _register() -> None:
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        for command in getattr(module, "COMMANDS", []):
            cli.add_command(command)


_register()


def main() -> None:
    cli(prog_name="bench")


__all__ = ["cli", "main"]
