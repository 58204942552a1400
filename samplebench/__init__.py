"""samplebench: a benchmark harness and sample-level aggregation registry.

One row per (model, task, sample, metric) in, rankings with confidence intervals and
leaderboards out. See README.md for the CLI (`bench`) and DESIGN.md for the architecture.
"""

__version__ = "0.1.0"

from .errors import SampleBenchError  # noqa: E402
from .registry import ModelSpec, TaskRegistry, TaskSpec  # noqa: E402
from .results import ResultStore  # noqa: E402

__all__ = ["ModelSpec", "ResultStore", "SampleBenchError", "TaskRegistry", "TaskSpec", "__version__"]
