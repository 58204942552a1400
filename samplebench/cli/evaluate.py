"""`bench evaluate MODEL --tasks A,B | --tag X`: run a model, record one row per (sample, metric)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ._common import format_table, split_csv, store_option


def print_report(report) -> None:
    headers, rows = report.table()
    click.echo(format_table(headers, rows))
    loaded = "model built" if report.model_loaded else "nothing to compute: model not loaded"
    status = f"{report.n_errors} sample(s) failed" if report.n_errors else "no failures"
    if report.n_input_errors:
        status += f", {report.n_input_errors} training or other input(s) failed (see above)"
    click.echo(f"{report.model} ({report.model_revision or 'revision unknown'}): {status}; {loaded}; "
               f"{report.seconds:.1f}s")
    click.echo(f"results: {report.store}" + (f" (run {report.run_id})" if report.run_id else ""))



@click.command("evaluate")
@click.argument("model")
@click.option("--tasks", "tasks", help="Comma-separated task names.")
@click.option("--tag", help="Every task with this tag (e.g. demo, mteb-eng-v2).")
@click.option("--limit", type=int, default=None, help="Only the first N samples of each task.")
@click.option("--batch-size", type=int, default=32, show_default=True, help="Encoder batch size.")
@click.option("--executor", type=click.Choice(["local", "ray"]), default="local", show_default=True,
              help="Run in this process, or spread tasks and sample shards over a Ray cluster.")
@click.option("--no-cache", is_flag=True, help="Do not read or write the embedding cache.")
@click.option("--retry-errors", is_flag=True, help="Recompute samples whose stored rows carry an error.")
@click.option("--timeout", type=float, default=None,
              help="Seconds a model call may take (per request for endpoints, per batch for Python callables); "
                   "a call that runs out of time makes its samples error rows.")
@click.option("--quiet", is_flag=True, help="No progress bars.")
@store_option
def evaluate_cmd(model: str, tasks: str | None, tag: str | None, limit: int | None, batch_size: int, executor: str,
                 no_cache: bool, retry_errors: bool, timeout: float | None, quiet: bool, store: Path | None) -> None:
    """Evaluate MODEL on tasks; only samples missing from the store are computed.

    MODEL is a registered model (`bench models list`), an alias (tfidf, bm25, random, minilm),
    a local folder or cached Hub id, `openai:<model>[@<base url>]`, or `package.module:function`.
    Exit status: 0 all samples scored, 1 some samples failed (rows carry the error), 2 bad input.
    """
    from ..results import ResultStore
    from ..runners import evaluate

    ResultStore(store).ensure_writable()  # before the model is built, not after it computed everything
    report = evaluate(model, split_csv(tasks), tag=tag, store=store, limit=limit, batch_size=batch_size,
                      executor=executor, cache=not no_cache, progress=not quiet, retry_errors=retry_errors, timeout=timeout,
                      command="bench evaluate " + " ".join(sys.argv[2:]) if sys.argv[1:2] == ["evaluate"] else None)
    print_report(report)
    if report.exit_code:
        raise click.exceptions.Exit(report.exit_code)


COMMANDS = [evaluate_cmd]
