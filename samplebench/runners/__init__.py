"""Model adapters, batching, caching, resume and executors: tasks x models -> results store.

    from samplebench.runners import load_model, evaluate
    report = evaluate("sentence-transformers/all-MiniLM-L6-v2", ["bundled-sts"], store="./store")
"""

from __future__ import annotations

from ..tasks.base import set_model_provider
from .models import load_model, resolve_spec
from .runner import EvaluationReport, TaskReport, evaluate
from .task_models import task_model

set_model_provider(task_model)  # evaluators used directly build their helper models here too

__all__ = ["EvaluationReport", "TaskReport", "evaluate", "load_model", "resolve_spec", "task_model"]
