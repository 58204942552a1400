"""Evaluators, one per task type, and per-sample metrics. Knows nothing of storage or the CLI.

Every module of this package is imported here so that its `@register_evaluator`s run; a new task
type is a new module. Modules whose name starts with `_` are helpers and are not imported.
"""

from __future__ import annotations

import importlib
import pkgutil

from .base import EVALUATORS, Evaluator, SampleResult, evaluator_for, register_evaluator

for _info in pkgutil.iter_modules(__path__):
    if _info.name != "base" and not _info.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_info.name}")

__all__ = ["EVALUATORS", "Evaluator", "SampleResult", "evaluator_for", "register_evaluator"]
