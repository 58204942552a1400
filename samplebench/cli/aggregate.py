"""`bench aggregate`: sparse, heterogeneous sample-level results -> a ranking with intervals."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..errors import SampleBenchError
from ._common import echo_json, format_table, json_option, registry_option, split_csv, store_option

_METHOD_NAMES = [
    "plackett-luce", "bradley-terry", "elo", "borda", "copeland", "schulze", "ranked-pairs", "kemeny",
    "borda-mteb", "mean", "normalized-mean", "mean-rank", "win-rate",
]


_OPTION_PARAMS = {"level", "ci", "bootstrap", "resample", "confidence", "seed", "n_jobs", "on_disconnected",
                  "progress"}  # aggregators.methods.FIT_OPTIONS, listed here to import fast


def _at_least(low: int):
    """A click callback refusing integers below `low` in one line (exit 2), never silently."""
    def check(ctx, param, value):  # noqa: ARG001 - click's signature
        if value is not None and value < low:
            raise SampleBenchError(f"--{param.name.replace('_', '-')} must be >= {low}, got {value}")
        return value
    return check


def _open_unit(ctx, param, value):  # noqa: ARG001 - click's signature
    if not 0 < value < 1:
        raise SampleBenchError(f"--{param.name} must be between 0 and 1 (exclusive), got {value}")
    return value


def _parse_params(items: tuple[str, ...]) -> dict:
    if not items:
        return {}
    import yaml

    out = {}
    for item in items:
        if "=" not in item:
            raise SampleBenchError(f"--param '{item}' must look like KEY=VALUE (e.g. --param alpha=0.1)")
        k, v = item.split("=", 1)
        key = k.strip().replace("-", "_")
        if key in _OPTION_PARAMS:
            raise SampleBenchError(f"--param {item}: '{key}' is an option of bench aggregate, not a method parameter",
                                   hint=f"use --{key.replace('_', '-').replace('n-jobs', 'jobs')}")
        try:
            out[key] = yaml.safe_load(v)
        except yaml.YAMLError:
            raise SampleBenchError(f"--param {item}: the value is not a number, word, list or mapping") from None
    return out


def _flag(m) -> str:
    """'never lost' / 'never won' (its score is a bound, not an estimate), else ''."""
    if m.never_lost and m.never_won:
        return "never compared"
    return "never lost" if m.never_lost else ("never won" if m.never_won else "")


def _ranking_table(r) -> str:
    rows = []
    for m in r.models:
        ci = f"[{m.ci_low:.4g}, {m.ci_high:.4g}]" if m.ci_low is not None else "-"
        rci = f"{m.rank_ci[0]}-{m.rank_ci[1]}" if m.rank_ci else "-"
        rows.append((m.rank, m.model, m.score, ci, rci, m.n_samples, m.n_comparisons, _flag(m)))
    return format_table(["rank", "model", "score", "ci", "rank ci", "samples", "comparisons", "flag"], rows)


def _diag_lines(r) -> list[str]:
    d = r.diagnostics
    lines = [f"method: {r.method}  scale: {r.score_scale}"]
    ev = d.evidence
    if ev:
        lines.append("evidence: " + ", ".join(f"{k} {v:,}" for k, v in ev.items()))
    if not d.connected:
        lines.append(f"comparison graph: {len(d.components)} components (see --json for members)")
    if d.converged is not None:
        it = f" in {d.iterations} iterations" if d.iterations is not None else ""
        lines.append(f"converged: {d.converged}{it}")
    if d.kemeny_exact is not None:
        orders = f"; {d.kemeny_optimal_orders:,} optimal order(s)" if d.kemeny_optimal_orders else ""
        lines.append(f"kemeny: optimum {'proven' if d.kemeny_exact else 'NOT proven'}; agreement "
                     f"{d.kemeny_agreement:,.0f}, upper bound {d.kemeny_upper_bound:,.0f}{orders}")
    groups = [g for g in d.tied_groups if len(g) > 1]
    if groups:
        lines.append("statistically tied: " + "; ".join("{" + ", ".join(g) + "}" for g in groups[:5])
                     + (" ..." if len(groups) > 5 else ""))
    lines.extend(f"note: {n}" for n in d.notes)
    return lines


@click.command("aggregate")
@click.option("--method", "-m", default="plackett-luce", show_default=True,
              help=f"One of: {', '.join(_METHOD_NAMES)}.")
@click.option("--models", help="Only these models (comma-separated).")
@click.option("--tasks", help="Only these tasks (comma-separated).")
@click.option("--tag", "tags", multiple=True, help="Only tasks with this registry tag (repeatable).")
@click.option("--benchmark", help="Only this benchmark's tasks, splits and subsets: an MTEB name such as "
                                  "'MTEB(eng, v2)', a benchmark defined in YAML, or a .yaml file.")
@click.option("--capability", help="Only the samples of this saved capability (`bench query TEXT --save NAME`).")
@click.option("--metrics", help="Use these metrics (default: each task's main metric).")
@click.option("--input", "input_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Read measurements from a Parquet/CSV file in the canonical columns instead of the store.")
@click.option("--level", type=click.Choice(["sample", "task", "two"]), default="sample", show_default=True,
              help="Who votes: each sample, each task (main score), or within-task then across tasks.")
@click.option("--bootstrap", type=int, default=0, show_default=True, callback=_at_least(0),
              help="Bootstrap replicates (progress and time left on stderr; Ctrl-C stops).")
@click.option("--resample", type=click.Choice(["samples", "tasks"]), default="samples", show_default=True,
              help="Bootstrap unit: samples within each task, or whole tasks.")
@click.option("--ci", type=click.Choice(["auto", "fisher", "fisher-diagonal", "bootstrap", "none"]), default="auto",
              show_default=True, help="auto: bootstrap with --bootstrap N, else the method's analytic intervals "
                                      "(diagonal information for very large Plackett-Luce fits).")
@click.option("--confidence", type=float, default=0.95, show_default=True, callback=_open_unit)
@click.option("--seed", type=int, default=0, show_default=True, callback=_at_least(0))
@click.option("--jobs", type=int, default=1, show_default=True, callback=_at_least(1),
              help="Threads for the bootstrap.")
@click.option("--executor", type=click.Choice(["local", "ray"]), default="local", show_default=True,
              help="Build each task's ballots here, one task at a time, or in Ray workers ($RAY_ADDRESS, "
                   "else a local cluster).")
@click.option("--arena", is_flag=True, help="bradley-terry: Chatbot Arena's fit and scale (400, base 10, 1000).")
@click.option("--param", "params", multiple=True, help="Method parameter KEY=VALUE (repeatable), e.g. alpha=0.1.")
@click.option("--on-disconnected", type=click.Choice(["refuse", "per-component"]), default="refuse",
              show_default=True, help="What to do when models split into groups never compared.")
@click.option("--compare", "compare_methods", help="Comma-separated methods: print their Kendall tau matrix.")
@click.option("--by-group", "by_group", help="Rank per value of this rater column (the `group` detail column), "
                                             "then across groups and by worst group.")
@click.option("--group-rule", type=click.Choice(["copeland", "schulze"]), default="copeland", show_default=True)
@store_option
@registry_option
@json_option
def aggregate(method, models, tasks, tags, benchmark, capability, metrics, input_file, level, bootstrap, resample, ci, confidence, seed, jobs,
              executor, arena, params, on_disconnected, compare_methods, by_group, group_rule, store, registry,
              as_json) -> None:
    """Rank models from sample-level results (Plackett-Luce by default) with intervals and diagnostics."""
    from ..aggregators.api import fit  # the modules this run needs, nothing more (a fresh process's start-up)

    kw = _parse_params(params)
    if arena:
        if method not in ("plackett-luce", "bradley-terry"):
            raise SampleBenchError("--arena applies to --method bradley-terry")
        method = "bradley-terry"
        kw["arena"] = True
    if input_file is not None:
        if benchmark or tags or capability:
            raise SampleBenchError("--benchmark, --tag and --capability select from the store; with --input use "
                                   "--tasks/--metrics")
        from ..selection.evidence import evidence_from_file

        ev = evidence_from_file(input_file, models=split_csv(models), tasks=split_csv(tasks),
                                metrics=split_csv(metrics), registry=registry)
    else:
        from ..results import ResultStore
        from ..selection.evidence import select_evidence

        rs = ResultStore(store)
        task_list, only = split_csv(tasks), None
        if capability:
            from ..pool.capabilities import capability_tasks

            task_list, only = capability_tasks(rs, capability, task_list)
        ev = select_evidence(rs, models=split_csv(models), tasks=task_list, metrics=split_csv(metrics),
                             tags=list(tags) or None, registry=registry, executor=executor, benchmark=benchmark,
                             sample_ids=only)
    common = {"level": level, "seed": seed, "on_disconnected": on_disconnected}
    if compare_methods:
        from ..aggregators.plural import compare

        names = split_csv(compare_methods) or []
        rankings, tau = compare(ev, names, **common)
        if as_json:
            echo_json({"methods": names, "kendall_tau": tau.tolist(),
                       "rankings": {k: v.model_dump(mode="json") for k, v in rankings.items()}})
            return
        click.echo("Kendall tau between methods' rankings")
        click.echo(format_table(["method", *names], [(a, *[float(x) for x in row]) for a, row in zip(names, tau,
                                                                                                      strict=True)]))
        return
    fit_kw = {**common, "ci": ci, "bootstrap": bootstrap, "resample": resample, "confidence": confidence,
              "n_jobs": jobs, "progress": True, **kw}
    if by_group:
        from ..aggregators.plural import fit_by_group

        res = fit_by_group(ev, by_group, method, rule=group_rule, **fit_kw)
        if as_json:
            echo_json(res)
            return
        for label, r in res.groups.items():
            click.echo(f"== {by_group} = {label}")
            click.echo(_ranking_table(r))
        click.echo(f"== across groups ({group_rule} over the {len(res.groups)} group rankings)")
        click.echo(format_table(["rank", "model", "score"], [(m.rank, m.model, m.score) for m in res.across.models]))
        click.echo("== worst group (maximin)")
        wg = res.maximin.diagnostics.worst_group
        click.echo(format_table(["rank", "model", "worst score", "worst group"],
                                [(m.rank, m.model, m.score, wg.get(m.model, "-")) for m in res.maximin.models]))
        for n in res.maximin.diagnostics.notes:
            click.echo(f"note: {n}")
        return
    r = fit(ev, method, **fit_kw)
    if as_json:
        click.echo(json.dumps(r.model_dump(mode="json"), indent=2, default=str))
        return
    click.echo(_ranking_table(r))
    for line in _diag_lines(r):
        click.echo(line)


COMMANDS = [aggregate]
