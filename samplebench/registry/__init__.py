"""Task and model registry: strict pydantic specs, YAML loading, discovery and filters."""

from .datasets_check import check_dataset
from .languages import language_key, validate_language
from .loading import dump_spec, load_spec
from .registry import ModelRegistry, SpecRegistry, TaskRegistry
from .schemas import DatasetRef, MetricSpec, ModelSpec, RaterSpec, TaskSpec
from .task_types import TASK_TYPES, MetricKind, TaskType

__all__ = [
    "TASK_TYPES",
    "DatasetRef",
    "MetricKind",
    "MetricSpec",
    "ModelRegistry",
    "ModelSpec",
    "RaterSpec",
    "SpecRegistry",
    "TaskRegistry",
    "TaskSpec",
    "TaskType",
    "check_dataset",
    "dump_spec",
    "language_key",
    "load_spec",
    "validate_language",
]
