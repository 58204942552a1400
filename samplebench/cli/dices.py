"""`bench dices diagnostics TASK`, `bench dices generate OUT`: multi-rater (DICES-style) helpers."""

from __future__ import annotations

from pathlib import Path

import click

from ._common import echo_json, format_table, json_option, registry_option


@click.group("dices")
def dices_group() -> None:
    """Multi-rater safety tasks (DICES-style): dataset diagnostics and generated data."""


@dices_group.command("diagnostics")
@click.argument("task")
@click.option("--top", type=int, default=10, show_default=True, help="How many contested items to list.")
@registry_option
@json_option
def diagnostics(task: str, top: int, registry: Path | None, as_json: bool) -> None:
    """Per-group Krippendorff's alpha, cross-group agreement and contested items of TASK."""
    from ..tasks.dices_diagnostics import dataset_diagnostics

    diag = dataset_diagnostics(task, registry_dir=registry)
    if as_json:
        echo_json(diag)
        return
    click.echo(f"task {diag.task}: {diag.n_items:,} items, {diag.n_raters:,} raters, {diag.n_votes:,} votes "
               f"(unsafe {diag.vote_shares['unsafe']:.1%}, safe {diag.vote_shares['safe']:.1%}, "
               f"unsure {diag.vote_shares['unsure']:.1%})")
    if diag.malformed.n_malformed:
        click.echo(f"warning: {diag.malformed.summary()}")
    if diag.n_repeated_ratings:
        click.echo(f"note: {diag.n_repeated_ratings} repeated (item, rater) rating(s); every one is counted")
    click.echo("\nInter-rater reliability (nominal Krippendorff's alpha over Yes/No/Unsure)")
    click.echo(format_table(
        ["group", "raters", "items", "votes", "alpha"],
        [(r.group or "(all raters)", r.n_raters, r.n_items, r.n_votes, r.alpha) for r in diag.reliability],
    ))
    click.echo("\nCross-group agreement (majorities, Unsure ignored)")
    rows = []
    for att in diag.cross_group:
        for p in att.pairs:
            rows.append((p.group_a, p.group_b, p.n_items, p.majority_agreement, p.mean_abs_diff))
    click.echo(format_table(["group a", "group b", "items", "agreement", "mean |dq|"], rows))
    click.echo(format_table(["column", "alpha between group majorities"],
                            [(a.attribute, a.alpha_between_groups) for a in diag.cross_group]))
    n_items = len(diag.contested_ids())
    click.echo(f"\nItems where group majorities disagree: {n_items} item(s), {len(diag.contested)} (item, column) case(s)")
    shown = diag.contested[:top]
    click.echo(format_table(
        ["item", "column", "spread", "majorities"],
        [(c.item_id, c.attribute, c.spread,
          "; ".join(f"{g.split('=', 1)[1]}: {m} ({c.p_unsafe.get(g, float('nan')):.2f})" for g, m in c.majorities.items()))
         for c in shown],
    ))


@dices_group.command("generate")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--layout", type=click.Choice(["350", "990"]), default="350", show_default=True)
@click.option("--items", "n_items", type=int, default=48, show_default=True)
@click.option("--raters", "n_raters", type=int, default=30, show_default=True)
@click.option("--raters-per-item", type=int, default=None, help="Raters per item (default: all, as in DICES-350).")
@click.option("--contested-share", type=float, default=0.25, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--bundled", is_flag=True, help="Use the settings of the bundled dices-mini file (ignores the others).")
def generate(out: Path, layout: str, n_items: int, n_raters: int, raters_per_item: int | None,
             contested_share: float, seed: int, bundled: bool) -> None:
    """Write a generated CSV with exactly the columns of the DICES LAYOUT file to OUT."""
    from ..errors import SampleBenchError
    from ..tasks.dices_generate import BUNDLED, write_dices_csv

    if raters_per_item is not None and not 1 <= raters_per_item <= n_raters:
        raise SampleBenchError(f"--raters-per-item must be between 1 and --raters ({n_raters})")
    kwargs = dict(BUNDLED) if bundled else dict(
        layout=layout, n_items=n_items, n_raters=n_raters, raters_per_item=raters_per_item,
        contested_share=contested_share, seed=seed,
    )
    path = write_dices_csv(out, **kwargs)
    click.echo(f"wrote {path} ({kwargs['layout']} layout, {kwargs['n_items']} items, {kwargs['n_raters']} raters)")


COMMANDS = [dices_group]
