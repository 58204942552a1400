"""The sample-level results store, its schema, and import/export of the canonical formats."""

from .manifest import MetricInfo, RunRecord
from .schema import MEASUREMENT_KEY, MEASUREMENT_SCHEMA, PAIRWISE_KEY, PAIRWISE_SCHEMA, new_run_id, normalise
from .store import ResultStore, RunWriter, latest_per_cell

__all__ = [
    "MEASUREMENT_KEY",
    "MetricInfo",
    "MEASUREMENT_SCHEMA",
    "PAIRWISE_KEY",
    "PAIRWISE_SCHEMA",
    "ResultStore",
    "RunRecord",
    "RunWriter",
    "latest_per_cell",
    "new_run_id",
    "normalise",
]
