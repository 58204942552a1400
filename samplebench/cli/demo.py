"""`bench demo`: evaluate MiniLM and baselines on the bundled tasks offline, then rank them."""

from __future__ import annotations

import time
from pathlib import Path

import click

from ._common import format_table, split_csv, store_option


@click.command("demo")
@click.option("--limit", type=int, default=None, help="Only the first N samples of each task (quicker).")
@click.option("--models", help="Comma-separated models instead of MiniLM + bm25 + tfidf + random.")
@click.option("--quiet", is_flag=True, help="No progress bars.")
@store_option
def demo_cmd(limit: int | None, models: str | None, quiet: bool, store: Path | None) -> None:
    """Evaluate all-MiniLM-L6-v2 and weight-free baselines on six bundled tasks, offline, and rank them.

    Results are recorded per sample in the store (a rerun computes nothing new); the ranking is
    Plackett-Luce over every sample's ordering of the models.
    """
    from ..demo import DEMO_METHOD, DEMO_TASKS, run_demo

    t0 = time.perf_counter()
    result = run_demo(store, limit=limit, models=split_csv(models), progress=not quiet)
    click.echo(f"evaluated {len(result.reports)} models on {len(DEMO_TASKS)} bundled tasks: {', '.join(DEMO_TASKS)}")
    for rep in result.reports:
        computed = sum(t.n_computed for t in rep.tasks)
        reused = sum(t.n_reused for t in rep.tasks)
        click.echo(f"  {rep.model}: {computed} samples computed, {reused} reused, {rep.n_errors} failed, "
                   f"{rep.seconds:.1f}s")
    click.echo("")
    click.echo(f"ranking ({DEMO_METHOD}, sample level):")
    ranked = sorted(result.ranking.models, key=lambda m: (m.rank, m.model))
    rows = [[m.rank, m.model, m.score, m.ci_low, m.ci_high, m.n_samples] for m in ranked]
    click.echo(format_table(["rank", "model", "score", "ci low", "ci high", "samples"], rows))
    if not result.ranking.diagnostics.connected:
        click.echo("warning: the comparison graph is not connected; see `bench aggregate`")
    click.echo("")
    click.echo(f"results: {result.store}  ({time.perf_counter() - t0:.1f}s)")
    click.echo("next: bench results list --store " + str(result.store)
               + " ; bench aggregate --method plackett-luce --tasks " + ",".join(DEMO_TASKS[:2]) + ",...")
    if any(r.exit_code for r in result.reports):
        raise click.exceptions.Exit(1)


COMMANDS = [demo_cmd]
