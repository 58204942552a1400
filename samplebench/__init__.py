"""samplebench: a benchmark harness and sample-level aggregation registry.

One row per (model, task, sample, metric) in, rankings with confidence intervals and
leaderboards out. See README.md for the CLI (`bench`) and DESIGN.md for the architecture.
"""

__version__ = "0.1.0"

from .errors import SampleBenchError  # noqa: E402
from .registry import ModelSpec, TaskRegistry, TaskSpec  # noqa: E402
from .results import ResultStore  # noqa: E402

__all__ = ["ModelSpec", "ResultStore", "SampleBenchError", "TaskRegistry", "TaskSpec", "__version__"]

_LAZY = {
    # diversity metrics (CUBE-style tasks), exported at top level without importing them eagerly
    "vendi_score": "samplebench.tasks.diversity",
    "quality_weighted_vendi": "samplebench.tasks.diversity",
    "grade_entropy": "samplebench.tasks.diversity",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'samplebench' has no attribute {name!r}")
