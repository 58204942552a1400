"""`bench placement simulate --budget N`: leave-one-model-out replay of placing models with N samples."""

from __future__ import annotations

from pathlib import Path

import click

from ._common import echo_json, format_table, json_option, split_csv, store_option


@click.group("placement")
def placement_group() -> None:
    """Placing a new model with a fraction of the samples (see `bench evaluate --budget`)."""


@placement_group.command("simulate")
@click.option("--budget", "budgets", required=True, multiple=True, type=int,
              help="Samples per placed model (repeat for several budgets).")
@click.option("--strategy", "strategies", default="adaptive",
              help="Comma-separated: adaptive, adaptive-irt, information, random, random-irt (random is always added "
                   "as the peer).")
@click.option("--tasks", help="Comma-separated task names (default: every task in the store).")
@click.option("--tag", help="Every registered task with this tag.")
@click.option("--benchmark", help="This benchmark's tasks that the store holds (MTEB name, YAML name or file).")
@click.option("--capability", help="Only the samples of this saved capability (`bench query TEXT --save NAME`).")
@click.option("--models", help="Only place these models (comma-separated); the pool is still every model.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--level", type=float, default=0.9, show_default=True, help="Interval level.")
@click.option("--quiet", is_flag=True, help="No progress bar (none with --json either).")
@store_option
@json_option
def simulate_cmd(budgets: tuple[int, ...], strategies: str, tasks: str | None, tag: str | None,
                 benchmark: str | None, capability: str | None, models: str | None, seed: int, level: float, quiet: bool, store: Path | None,
                 as_json: bool) -> None:
    """Hide each model of the store in turn, place it from the others' results answering from its stored
    values, and report per strategy: mean absolute error of the estimated score (metric's own scale; mean
    of task means), share within 1 and 2 ranks of the full rank, and interval coverage."""
    from ..errors import SampleBenchError
    from ..placement import simulate
    from ..placement.source import read_pool
    from ..results import ResultStore

    rs = ResultStore(store)
    names = split_csv(tasks) or []
    if tag:
        from ..runners.runner import resolve_tasks

        names += [s.name for s in resolve_tasks(None, tag=tag) if s.name not in names]
    if benchmark:
        from ..selection import resolve_benchmark

        bench = resolve_benchmark(benchmark)
        held = set(rs.distinct("task"))
        in_bench = [t for t in bench.task_names() if t in held and (not names or t in names)]
        if not in_bench:
            raise SampleBenchError(f"the store {rs.root} holds no results for benchmark {bench.name}'s tasks",
                                   hint="evaluate or import results for them first")
        names = in_bench
    only = None
    if capability:
        from ..pool.capabilities import capability_tasks

        names, only = capability_tasks(rs, capability, names)
    if not names:
        names = rs.distinct("task")
    if not names:
        raise SampleBenchError(f"the store {rs.root} holds no results", hint="evaluate or import results first")
    for b in budgets:
        if b < 1:
            raise SampleBenchError(f"--budget must be a positive number of samples, got {b}")
    chosen = list(dict.fromkeys([*(split_csv(strategies) or ["adaptive"]), "random"]))
    pool = read_pool(rs, names, only=only).pool
    outs = []
    for b in budgets:
        bars: dict = {}

        def tick(done: int, total: int, bars=bars, b=b) -> None:
            if quiet or as_json:
                return
            if "bar" not in bars:  # made on the first placed model, so a refused pool prints no bar
                bars["bar"] = _bar(f"budget {b}", total)
            bars["bar"].update(done - bars["bar"].n)

        report = simulate(pool, budget=b, strategies=chosen, level=level, seed=seed, models=split_csv(models),
                          progress=tick)
        if "bar" in bars:
            bars["bar"].close()
        outs.append(report.to_json())
    if as_json:
        echo_json(outs[0] if len(outs) == 1 else outs)
        return
    click.echo(f"leave-one-model-out over {pool.n_models} models x {pool.n_samples:,} samples in {len(names)} task(s); "
               f"{int(round(level * 100))}% intervals")
    rows = [[o["budget"], s, v["mae"], v["within_1"], v["within_2"], v["coverage"]]
            for o in outs for s, v in o["strategies"].items()]
    click.echo(format_table(["budget", "strategy", "mae", "within_1", "within_2", "coverage"], rows))


@placement_group.command("replay")
@click.argument("record", type=click.Path(dir_okay=False, path_type=Path))
@store_option
def replay_cmd(record: Path, store: Path | None) -> None:
    """Run the placement recorded in RECORD (<store>/placements/*.json) again from the store and check
    that it chooses the same samples in the same order. Exit status 1 when a choice differs."""
    from ..errors import SampleBenchError
    from ..placement.budgeted import replay

    if not record.is_file():
        raise SampleBenchError(f"{record}: no such placement record", hint="see <store>/placements/")
    rep = replay(record, store if store is not None else record.resolve().parent.parent)
    est = rep.estimate
    click.echo(f"{rep.n_same} of {rep.n_choices} recorded choices replayed identically; estimated score "
               f"{est.score:.4f} [{est.score_low:.4f}, {est.score_high:.4f}], rank {est.rank} [{est.rank_low}-{est.rank_high}]")
    if not rep.identical:
        click.echo(f"first difference: {rep.first_difference}")
        raise click.exceptions.Exit(1)


def _bar(desc: str, total: int):
    import sys

    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="model", file=sys.stderr, leave=False, dynamic_ncols=True)


COMMANDS = [placement_group]
