"""`README.md`: a Hugging Face Hub dataset card for a leaderboard.

YAML front matter (license, tags including `leaderboard`, and `configs` pointing at the Parquet
files so the Hub viewer and `datasets.load_dataset(repo, "leaderboard")` work), then the
ranking as a markdown table, the method in plain words, coverage and connectivity warnings, the
spec, the samplebench version and the run ids the results come from. The text depends only on
the build (no dates), so rebuilding gives the same card.

The Hub renders the card's markdown, raw HTML included, so every text that comes from outside the
code — model and task names, the title and description, warnings, group names — is HTML-escaped
(`<`, `>`, `&`) and kept on one table cell (`|` escaped, newlines folded); the spec is shown in
a code fence longer than any run of backticks inside it, so it cannot close the fence early.
"""

from __future__ import annotations

import html
import math
import re
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from .build import LeaderboardBuild

MARKER = "samplebench-leaderboard"
CARD_ROWS = 100
CARD_TASKS = 12

METHOD_WORDS = {
    "plackett-luce": (
        "Plackett-Luce: every sample orders the models measured on it (ties allowed); the model gives each "
        "model a strength w and says the best of any set is chosen with probability proportional to w. The "
        "strengths that make all observed orders most likely are the scores (log-strengths, higher is better). "
        "Samples a model was not measured on say nothing about it, so sparse results are used without imputation."
    ),
    "bradley-terry": (
        "Bradley-Terry: every sample is broken into pairwise comparisons; P(i beats j) = w_i / (w_i + w_j). "
        "The maximum-likelihood strengths are the scores (log scale)."
    ),
    "elo": "Elo: an online rating updated after every comparison, in a fixed order; a baseline, not a fit.",
    "mean": (
        "Mean: the average of the model's per-task mean scores. It assumes every task's scale is comparable "
        "and treats missing tasks as absent; shown for reference."
    ),
    "borda": (
        "Borda: per sample, a model gets one point for every model it beats (half for a tie); points are "
        "averaged over the samples it took part in."
    ),
    "copeland": "Copeland: the number of other models a model beats head to head, minus those it loses to.",
    "schulze": "Schulze: a Condorcet method ranking by the strongest beat-paths between models.",
    "ranked-pairs": "Ranked pairs: head-to-head majorities locked in from strongest to weakest unless they make a cycle.",
    "kemeny-young": "Kemeny-Young: the order that disagrees with the fewest pairwise preferences.",
}


def method_words(method: str) -> str:
    if method in METHOD_WORDS:
        return METHOD_WORDS[method]
    base = method.split("-")[0]
    for k, v in METHOD_WORDS.items():
        if k.startswith(base):
            return v
    try:
        from ..aggregators import METHODS

        text = getattr(METHODS.get(method), "description", None)
        if text:
            return text.strip().splitlines()[0]
    except ImportError:  # pragma: no cover
        pass
    return f"{method} (see samplebench.aggregators)."


def _fmt(v: Any, digits: int = 3) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def _md(text: str) -> str:
    """`text` as inert markdown on one line: HTML escaped, `|` escaped, newlines folded."""
    return _html(text).replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def _html(text: str) -> str:
    """`text` with `<`, `>` and `&` escaped, so the Hub shows it instead of running it."""
    return html.escape(str(text), quote=False)


def _fence(text: str) -> str:
    """A backtick fence longer than any run of backticks in `text`."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def front_matter(build: LeaderboardBuild, sample_files: list[str]) -> dict[str, Any]:
    spec = build.spec
    tags = list(dict.fromkeys(["leaderboard", "samplebench", "evaluation", *spec.tags]))
    configs: list[dict[str, Any]] = [
        {"config_name": "leaderboard", "data_files": [{"split": "train", "path": "leaderboard.parquet"}], "default": True},
    ]
    if sample_files:
        configs.append({"config_name": "samples", "data_files": [{"split": "train", "path": "samples/*.parquet"}]})
    if build.group_table is not None:
        configs.append({"config_name": "groups", "data_files": [{"split": "train", "path": "groups.parquet"}]})
    n = build.n_measurements
    size = "n<1K" if n < 1_000 else "1K<n<10K" if n < 10_000 else "10K<n<100K" if n < 100_000 else \
        "100K<n<1M" if n < 1_000_000 else "1M<n<10M" if n < 10_000_000 else "10M<n<100M" if n < 100_000_000 else "100M<n<1B"
    return {"license": spec.license, "pretty_name": spec.title, "tags": tags, "size_categories": [size],
            "configs": configs}


def ranking_markdown(build: LeaderboardBuild, limit: int = CARD_ROWS, max_tasks: int = CARD_TASKS) -> str:
    t = build.table
    all_task_cols = [c for c in t.column_names if c.startswith("task:")]
    task_cols = all_task_cols[:max_tasks]
    rank_cols = [c for c in t.column_names if c.startswith("rank:")]
    head = ["rank", "model", "score", "CI", "rank CI", "coverage", *[c[5:] for c in task_cols],
            *[f"{c[5:]} rank" for c in rank_cols]]
    lines = ["| " + " | ".join(_md(h) for h in head) + " |", "|" + "|".join(["---"] * len(head)) + "|"]
    rows = t.slice(0, limit).to_pylist()
    for r in rows:
        ci = "–" if r["ci_low"] is None else f"[{_fmt(r['ci_low'])}, {_fmt(r['ci_high'])}]"
        rci = "–" if r["rank_ci_low"] is None else f"{r['rank_ci_low']}–{r['rank_ci_high']}"
        cells = [str(r["rank"]), _md(r["model"]), _fmt(r["score"]), ci, rci, _fmt(r["coverage"] * 100 if r["coverage"] is not None else None, 1) + "%",
                 *[_fmt(r[c]) for c in task_cols], *[_fmt(r[c]) for c in rank_cols]]
        lines.append("| " + " | ".join(cells) + " |")
    cut = []
    if t.num_rows > limit:
        cut.append(f"top {limit} of {t.num_rows} models")
    if len(all_task_cols) > len(task_cols):
        cut.append(f"{len(task_cols)} of {len(all_task_cols)} task columns")
    if cut:
        lines.append(f"\n*Shown: {', '.join(cut)}; the full table is `leaderboard.parquet`.*")
    return "\n".join(lines)


def dataset_card(build: LeaderboardBuild, sample_files: list[str]) -> str:
    from .. import __version__

    spec = build.spec
    meta = yaml.safe_dump(front_matter(build, sample_files), sort_keys=False, allow_unicode=True)
    r = build.ranking
    out = [f"---\n{meta}---\n", f"<!-- {MARKER}: {spec.name} -->\n", f"# {_md(spec.title)}\n"]
    if spec.description:
        out.append(_html(spec.description.strip()) + "\n")
    out.append(
        f"{build.table.num_rows} models ranked by **{r.method}** from {build.n_measurements:,} sample-level "
        f"measurements over {len(build.coverage_tasks)} tasks ({build.n_ballots:,} selected samples"
        + (f", {build.n_pairwise:,} pairwise judgements" if build.n_pairwise else "") + ").\n"
    )
    out.append("## Ranking\n")
    out.append(ranking_markdown(build) + "\n")
    out.append("![ranking](ranking.png)\n")
    out.append("## How the ranking is made\n")
    out.append(method_words(r.method) + "\n")
    if r.score_scale:
        out.append(f"Scores are on the {r.score_scale} scale.\n")
    ci = "bootstrap percentile" if spec.bootstrap.n else "bootstrap-free (the method's own)"
    if getattr(r.diagnostics, "ci_method", None) == "fisher-diagonal":
        ci = ("approximate bootstrap-free (from the diagonal of the information matrix, used because the "
              "evidence is too large for the exact matrix; they treat the other models' strengths as known)")
    out.append(
        f"Intervals (CI, rank CI) are {ci} intervals"
        + (f" from {spec.bootstrap.n} resamples within each task with seed {spec.bootstrap.seed}" if spec.bootstrap.n else "")
        + ". *coverage* is the share of the selected samples on which a model has a value; per-task columns are "
        "the mean raw value of the task's metric over the samples the model was measured on (descriptive only).\n"
    )
    if spec.also_show:
        out.append("Shown beside it for comparison:\n")
        out.extend(f"- **{m}** (`rank:{m}`): {method_words(m)}" for m in spec.also_show)
        out.append("")
    out.append("## Coverage and warnings\n")
    if build.warnings:
        out.extend(f"- ⚠️ {_md(w)}" for w in build.warnings)
    else:
        out.append("- Every model was measured on every selected sample, and the comparison graph is connected.")
    out.extend(f"- {_md(n)}" for n in build.notes)
    out.append("")
    if build.group_table is not None:
        out.append("## Per-group view\n")
        out.append("One ranking per rater group, the groups combined (each group one ballot), and maximin (models "
                   "ordered by their worst group) — `groups.parquet`, config `groups`. The top 3 of each:\n")
        gt = build.group_table.to_pylist()
        groups: dict[str, list[dict]] = {}
        for row in gt:
            groups.setdefault(row["group"] if row["view"] == "group" else f"*{row['group']}*", []).append(row)
        out.append("| group | 1st | 2nd | 3rd |\n|---|---|---|---|")
        for g, rows in groups.items():
            top = [_md(x["model"]) for x in rows[:3]] + ["–"] * (3 - min(3, len(rows)))
            out.append(f"| {_md(g)} | " + " | ".join(top) + " |")
        out.append("")
    out.append("## Files\n")
    out.append(
        "- `leaderboard.parquet` / `.csv` / `.json`: the table above, every model\n"
        "- `samples/*.parquet`: the sample-level measurements used, one file per task (re-aggregate them with "
        "`bench aggregate --input`)\n- `ranking.png`, `index.html`: the plot and a static, sortable page\n"
    )
    out.append("## Reproduce\n")
    spec_yaml = yaml.safe_dump(spec.model_dump(mode="json"), sort_keys=False, allow_unicode=True)
    fence = _fence(spec_yaml)
    out.append(
        f"Built with samplebench {__version__} from the spec below (sha256 `{build.spec_hash}`):\n\n"
        f"{fence}yaml\n{spec_yaml}{fence}\n\n```\nbench leaderboard build {spec.name}.yaml --out {spec.name}\n```\n"
    )
    out.append(f"Results come from {len(build.run_ids)} run(s):\n")
    out.extend(f"- `{rid}`" for rid in build.run_ids)
    return "\n".join(out).rstrip() + "\n"
