"""`bench leaderboard build|push|validate`: thin wrappers over samplebench.leaderboards."""

from __future__ import annotations

from pathlib import Path

import click

from ._common import echo_json, format_table, json_option, registry_option, store_option

spec_argument = click.argument("spec_path", metavar="SPEC", type=click.Path(dir_okay=False, path_type=Path))


@click.group("leaderboard")
def leaderboard_group() -> None:
    """Build leaderboards from sample-level results and publish them to the Hugging Face Hub."""


@leaderboard_group.command("validate")
@spec_argument
def validate(spec_path: Path) -> None:
    """Check a leaderboard spec (fields and method names) without building it."""
    from ..leaderboards.build import check_methods
    from ..registry.leaderboard_spec import load_leaderboard_spec

    spec = load_leaderboard_spec(spec_path)
    check_methods(spec)
    click.echo(f"{spec_path}: ok — '{spec.name}', {spec.aggregator.method}"
               + (f" with {', '.join(spec.also_show)} beside it" if spec.also_show else "")
               + f"; spec sha256 {spec.spec_hash()[:12]}")


@leaderboard_group.command("build")
@spec_argument
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True, help="Folder to write into.")
@store_option
@registry_option
@json_option
def build(spec_path: Path, out: Path, store: Path | None, registry: Path | None, as_json: bool) -> None:
    """Write the leaderboard's tables, samples, plot, page and dataset card into OUT."""
    from ..errors import require_writable
    from ..leaderboards.build import build_leaderboard

    require_writable(out, "output folder", hint="pass --out a folder you can write")
    b = build_leaderboard(spec_path, store, out, registry=registry, progress=_progress)
    if as_json:
        echo_json({"out": str(out), "spec_hash": b.spec_hash, "run_ids": b.run_ids,
                   "files": [str(p.relative_to(out)) for p in b.files], "warnings": b.warnings,
                   "rows": b.table.to_pylist()})
        return
    _print_summary(b)
    click.echo(f"wrote {len(b.files)} file(s) to {out} (spec sha256 {b.spec_hash[:12]}, {len(b.run_ids)} run(s))")


def _progress(message: str) -> None:
    click.echo(f"... {message}", err=True)


def _print_summary(b, top: int = 10) -> None:
    rows = b.table.slice(0, top).to_pylist()
    table = [(r["rank"], r["model"], r["score"],
              "-" if r["ci_low"] is None else f"[{r['ci_low']:.3f}, {r['ci_high']:.3f}]",
              f"{100 * r['coverage']:.0f}%" if r["coverage"] is not None else "-") for r in rows]
    click.echo(format_table(["rank", "model", "score", "CI", "coverage"], table))
    if b.table.num_rows > top:
        click.echo(f"... {b.table.num_rows - top} more")
    for w in b.warnings:
        click.echo(f"warning: {w}")


@leaderboard_group.command("push")
@spec_argument
@click.option("--repo", required=True, help="Hub dataset repo, ORG/NAME (created if missing).")
@store_option
@registry_option
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Keep the build in this folder (default: a temporary one).")
@click.option("--private", is_flag=True, help="Create the repo private (when it does not exist yet).")
@click.option("--revision", default=None, help="Branch to commit to (created from main if missing).")
@click.option("--endpoint", default=None, help="Hub URL (default: HF_ENDPOINT or https://huggingface.co).")
@click.option("--force", is_flag=True, help="Publish into a repo that holds unrelated content.")
@click.option("--dry-run", is_flag=True, help="Build and show what would be uploaded; contact nobody.")
@click.option("--retries", type=click.IntRange(0, 20), default=4, show_default=True,
              help="Retries on server errors and dropped connections.")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=60.0, show_default=True,
              help="Seconds each request to the Hub may take.")
@click.option("--deadline", type=click.FloatRange(min=0, min_open=True), default=600.0, show_default=True,
              help="Seconds each Hub call may spend on retries in all.")
@click.option("--eval-results", is_flag=True,
              help="Also write .eval_results/<name>.yaml into the ranked model repos you own.")
@json_option
def push(spec_path: Path, repo: str, store: Path | None, registry: Path | None, out: Path | None, private: bool,
         revision: str | None, endpoint: str | None, force: bool, dry_run: bool, retries: int, timeout: float,
         deadline: float, eval_results: bool, as_json: bool) -> None:
    """Build SPEC and publish it to the Hub dataset repo ORG/NAME in one commit.

    The token comes from HF_TOKEN or `hf auth login` and is never printed. Nothing changes and no
    commit is made when the repo already holds this exact build.
    """
    from ..leaderboards.publish import PushFailed, push_leaderboard

    try:
        b, result = push_leaderboard(spec_path, repo, store, out=out, registry=registry, private=private,
                                     revision=revision, endpoint=endpoint, force=force, dry_run=dry_run,
                                     retries=retries, eval_results=eval_results, progress=_progress,
                                     timeout=timeout, deadline=deadline)
    except PushFailed as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        data = {k: v for k, v in vars(result).items()}
        data["spec_hash"], data["run_ids"] = b.spec_hash, b.run_ids
        echo_json(data)
        return
    click.echo("\n".join(result.lines()))


COMMANDS = [leaderboard_group]
