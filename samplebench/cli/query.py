"""`bench query TEXT`: the samples of the pool that test a capability, and the models ranked on them."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..errors import SampleBenchError
from ._common import echo_json, format_table, json_option, registry_option, store_option


def _where(items: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for item in items:
        field, sep, value = item.partition("=")
        if not sep or not field.strip():
            raise SampleBenchError(f"--where {item!r}: write FIELD=VALUE, e.g. --where dataset=koala")
        out[field.strip()] = value.strip()
    return out


def _print(result, top: int = 20) -> None:
    click.echo(f"query {result.query!r} (index {result.index_version}, {result.retrieval}): "
               f"{len(result.samples)} samples, {result.measured_samples} with measurements")
    judged = any(s.verified is not None for s in result.samples)
    rows = [(s.task, s.sample_id, s.similarity, *([{True: "yes", False: "no"}[s.verified]] if judged else []),
             s.snippet[:70]) for s in result.samples[:top]]
    if rows:
        click.echo(format_table(["task", "sample", "similarity", *(["judge"] if judged else []), "text"], rows))
    if len(result.samples) > top:
        click.echo(f"... {len(result.samples) - top} more (--json lists all)")
    for note in result.notes:
        click.echo(f"note: {note}")
    r = result.ranking
    if r is None:
        return
    tau = "-" if result.tau_vs_global is None else f"{result.tau_vs_global:.3f}"
    click.echo(f"\nranking ({r['method']}) on the matched samples; Kendall tau vs the whole pool: {tau}")
    rows = []
    for m in r["models"]:
        ci = f"[{m['ci_low']:.3g}, {m['ci_high']:.3g}]" if m["ci_low"] is not None else "-"
        rows.append((m["rank"], m["model"], m["score"], ci, m["n_samples"], r["coverage"].get(m["model"])))
    click.echo(format_table(["rank", "model", "score", "ci", "samples", "coverage"], rows))


@click.command("query")
@click.argument("text", required=False)
@click.option("--file", "queries_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="One query per line (plain text, or a JSON object with text, top_k, where, ...); "
                   "prints one JSON object per line.")
@click.option("--top-k", type=int, default=50, show_default=True, help="How many samples to select.")
@click.option("--min-similarity", type=float, default=None, help="Drop matches below this cosine similarity.")
@click.option("--where", "where", multiple=True, metavar="FIELD=VALUE",
              help="Only cards whose task or metadata field equals VALUE (repeatable).")
@click.option("--method", default="plackett-luce", show_default=True, help="Aggregation method for the ranking.")
@click.option("--retrieval", type=click.Choice(["dense", "hybrid", "bm25"]), default="dense", show_default=True,
              help="dense: centred embeddings; hybrid: plus BM25; bm25: lexical only.")
@click.option("--bootstrap", type=int, default=0, help="Bootstrap replicates for the intervals (default: analytic).")
@click.option("--verify", "judge", default=None, metavar="MODEL",
              help="A judge model (openai:MODEL@URL, hf-causal:FOLDER, ...) keeps only the samples it says test TEXT.")
@click.option("--save", "save_name", default=None, help="Save the selection as a named capability.")
@store_option
@registry_option
@json_option
def query_cmd(text: str | None, queries_file: Path | None, top_k: int, min_similarity: float | None,
              where: tuple[str, ...], method: str, retrieval: str, bootstrap: int, judge: str | None, save_name: str | None,
              store: Path | None, registry: Path | None, as_json: bool) -> None:
    """Find the samples that test TEXT and rank the models on them (ONEBench's capability queries)."""
    from ..pool import Pool
    from ..results import ResultStore

    if queries_file is None and text is None:
        raise SampleBenchError("the query is empty", hint='give TEXT (bench query "multi-step arithmetic") or --file')
    if queries_file is not None and text is not None:
        raise SampleBenchError("give either TEXT or --file, not both")
    if save_name is not None and queries_file is not None:
        raise SampleBenchError("--save names one query; use it without --file")
    if save_name is not None:
        from ..pool.capabilities import check_name

        check_name(save_name)
    pool = Pool(ResultStore(store), registry=registry)
    options = {"top_k": top_k, "min_similarity": min_similarity, "where": _where(where), "retrieval": retrieval}
    fit_options = {"method": method, "bootstrap": bootstrap, "verify": judge}
    if queries_file is None:
        result = pool.query(text, **options, **fit_options)
        if save_name is not None:
            _save(pool, save_name, text, options, result, judge)
        if as_json:
            echo_json(result.as_json())
        else:
            _print(result)
            if save_name is not None:
                click.echo(f"\nsaved capability '{save_name}' ({len(result.samples)} samples)")
        return
    for n, line in enumerate(queries_file.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        opts, q = dict(options), line.strip()
        if q.startswith("{"):
            try:
                obj = json.loads(q)
            except json.JSONDecodeError as exc:
                raise SampleBenchError(f"{queries_file}: line {n}: not JSON ({exc.msg})") from None
            q = obj.pop("text", "")
            unknown = set(obj) - set(options)
            if unknown:
                raise SampleBenchError(f"{queries_file}: line {n}: unknown field(s) {', '.join(sorted(unknown))}; "
                                       f"allowed: text, {', '.join(options)}")
            opts.update(obj)
        try:
            result = pool.query(q, **opts, **fit_options)
        except SampleBenchError as exc:
            raise SampleBenchError(f"{queries_file}: line {n}: {exc.message}", hint=exc.hint) from None
        click.echo(json.dumps(result.as_json(), default=str))


def _save(pool, name: str, text: str, options: dict, result, judge: str | None) -> None:
    from ..pool import Capability, save_capability

    if not result.samples:
        raise SampleBenchError(f"capability '{name}' would select no samples; nothing saved",
                               hint="lower --min-similarity or widen --where")
    cap = Capability(name=name, query={"text": text, **options, "verify": judge}, index_version=pool.version,
                     embedder=pool.meta["embedder_identity"],
                     samples=[{"task": s.task, "sample_id": s.sample_id, "similarity": s.similarity}
                              for s in result.samples if s.verified is not False])
    save_capability(pool.store, cap)


COMMANDS = [query_cmd]
