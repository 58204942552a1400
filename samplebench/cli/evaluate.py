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
@click.option("--budget", help="Evaluate only N samples (or P% of the selection), chosen in rounds to place the "
              "model among the store's models (see `bench placement`).")
@click.option("--until-rank-width", type=int, default=None, help="With --budget: stop once the rank interval is at "
              "most W ranks wide.")
@click.option("--strategy", default="adaptive", show_default=True, help="How --budget chooses samples: adaptive, "
              "adaptive-irt, information, random, random-irt.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of --budget's random choices.")
@click.option("--benchmark", help="With --budget: this benchmark's tasks (an MTEB name, a benchmark defined in "
              "YAML, or a .yaml file).")
@click.option("--capability", help="With --budget: only the samples of this saved capability (`bench query TEXT "
              "--save NAME`).")
@store_option
def evaluate_cmd(model: str, tasks: str | None, tag: str | None, limit: int | None, batch_size: int, executor: str,
                 no_cache: bool, retry_errors: bool, timeout: float | None, quiet: bool, budget: str | None,
                 until_rank_width: int | None, strategy: str, seed: int, benchmark: str | None,
                 capability: str | None, store: Path | None) -> None:
    """Evaluate MODEL on tasks; only samples missing from the store are computed.

    MODEL is a registered model (`bench models list`), an alias (tfidf, bm25, random, minilm),
    a local folder or cached Hub id, `openai:<model>[@<base url>]`, or `package.module:function`.
    With --budget, only the chosen samples are evaluated and the model's score and rank on the whole
    selection are estimated, with intervals; the choices are recorded under <store>/placements/.
    Exit status: 0 all samples scored, 1 some samples failed (rows carry the error), 2 bad input.
    """
    from ..results import ResultStore

    ResultStore(store).ensure_writable()  # before the model is built, not after it computed everything
    command = "bench evaluate " + " ".join(sys.argv[2:]) if sys.argv[1:2] == ["evaluate"] else None
    if budget is not None or until_rank_width is not None:
        _evaluate_budgeted(model, tasks, tag, benchmark, capability, limit, budget, until_rank_width, strategy, seed,
                           executor, batch_size, not no_cache, timeout, quiet, store, command)
        return
    if capability is not None or benchmark is not None:
        from ..errors import SampleBenchError

        raise SampleBenchError("--benchmark and --capability select samples for --budget", hint="add --budget N|P%")
    from ..runners import evaluate

    report = evaluate(model, split_csv(tasks), tag=tag, store=store, limit=limit, batch_size=batch_size,
                      executor=executor, cache=not no_cache, progress=not quiet, retry_errors=retry_errors, timeout=timeout,
                      command=command)
    print_report(report)
    if report.exit_code:
        raise click.exceptions.Exit(report.exit_code)


def _evaluate_budgeted(model, tasks, tag, benchmark, capability, limit, budget, rank_width, strategy, seed, executor, batch_size,
                       cache, timeout, quiet, store, command) -> None:
    from ..errors import SampleBenchError
    from ..placement.budgeted import evaluate_with_budget

    if limit is not None:
        raise SampleBenchError("--limit and --budget do not mix", hint="--budget already chooses which samples to run")
    rep = evaluate_with_budget(model, split_csv(tasks), tag=tag, benchmark=benchmark, capability=capability, store=store, budget=budget, rank_width=rank_width,
                               strategy=strategy, seed=seed, executor=executor, batch_size=batch_size, cache=cache,
                               timeout=timeout, progress=not quiet, command=command, say=click.echo)
    est = rep.estimate
    if est is not None:
        pct = int(round(est.level * 100))
        click.echo(f"{rep.model}: {rep.n_evaluated} of {rep.n_selection} samples evaluated now; estimated score on "
                   f"the selection {est.score:.4f} [{est.score_low:.4f}, {est.score_high:.4f}], rank {est.rank} "
                   f"[{est.rank_low}-{est.rank_high}] of {rep.n_pool_models + 1}" + (f" ({pct}% intervals)" if pct < 100 else ""))
    if rep.record is not None:
        click.echo(f"placement record: {rep.record}")
    if rep.exit_code:
        raise click.exceptions.Exit(rep.exit_code)


COMMANDS = [evaluate_cmd]
