"""samplebench: a benchmark harness and sample-level aggregation registry.

One row per (model, task, sample, metric) in, rankings with confidence intervals and
leaderboards out. See README.md for the CLI (`bench`) and DESIGN.md for the architecture.

The top-level names are resolved lazily (PEP 562 `__getattr__`): `import samplebench` costs
almost nothing, and `from samplebench import ResultStore` imports only the results package.
"""

__version__ = "0.1.0"

__all__ = ["ModelSpec", "ResultStore", "SampleBenchError", "TaskRegistry", "TaskSpec", "__version__"]

_LAZY = {
    "SampleBenchError": "samplebench.errors",
    "ModelSpec": "samplebench.registry",
    "TaskRegistry": "samplebench.registry",
    "TaskSpec": "samplebench.registry",
    "ResultStore": "samplebench.results",
    # diversity metrics (CUBE-style tasks), exported at top level without importing them eagerly
    "vendi_score": "samplebench.tasks.diversity",
    "quality_weighted_vendi": "samplebench.tasks.diversity",
    "grade_entropy": "samplebench.tasks.diversity",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value  # later lookups skip this function
        return value
    raise AttributeError(f"module 'samplebench' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
