"""samplebench: a benchmark harness and sample-level aggregation registry.

One row per (model, task, sample, metric) in, rankings with confidence intervals and
leaderboards out. See README.md for the CLI (`bench`) and DESIGN.md for the architecture.

The top-level names are resolved lazily (PEP 562 `__getattr__`): `import samplebench` costs
almost nothing, and `from samplebench import ResultStore` imports only the results package.
"""

__version__ = "0.1.0"

__all__ = ["ModelSpec", "ResultStore", "SampleBenchError", "TaskRegistry", "TaskSpec", "__version__"]

from ._lazy import lazy_exports

_LAZY = {
    "SampleBenchError": "errors",
    "ModelSpec": "registry",
    "TaskRegistry": "registry",
    "TaskSpec": "registry",
    "ResultStore": "results",
    # diversity metrics (CUBE-style tasks), exported at top level without importing them eagerly
    "vendi_score": "tasks.diversity",
    "quality_weighted_vendi": "tasks.diversity",
    "grade_entropy": "tasks.diversity",
}
__getattr__, __dir__ = lazy_exports(__name__, globals(), _LAZY)
