"""The contract between task types and models.

A task type is an `Evaluator` subclass registered under a `TaskSpec.type`. It loads the task's
data, names its samples, and scores a model on them, yielding one `SampleResult` per
(sample, metric[, group]). Models are seen only through the small protocols below; the adapters
that implement them live in `samplebench.runners` (dependencies point runners -> tasks).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np

from ..errors import SampleBenchError
from ..registry import TaskSpec


@dataclass(frozen=True, slots=True)
class SampleResult:
    """One measurement: `value` is None exactly when `error` says why."""

    sample_id: str
    metric: str
    value: float | None
    error: str | None = None
    group: str | None = None
    prediction: str | None = None


@runtime_checkable
class Encoder(Protocol):
    """Texts -> one embedding row per text (float array of shape (n, d))."""

    def encode(self, texts: Sequence[str], *, batch_size: int = 32) -> np.ndarray: ...


@runtime_checkable
class LanguageModel(Protocol):
    """Log-likelihoods of continuations and free generation."""

    def loglikelihood(self, requests: Sequence[tuple[str, str]]) -> list[float]: ...

    def generate(self, prompts: Sequence[str], *, max_new_tokens: int = 64, n: int = 1) -> list[list[str]]: ...


@runtime_checkable
class Classifier(Protocol):
    """Texts -> a probability per text for the positive label (e.g. P(unsafe))."""

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray: ...


@runtime_checkable
class ImageGenerator(Protocol):
    """Prompts -> k images per prompt (PIL images or arrays)."""

    def generate_images(self, prompts: Sequence[str], *, k: int = 1, prompt_ids: Sequence[str] | None = None) -> list[list[Any]]: ...


class Evaluator(ABC):
    """Scores models on one task of one type. Subclasses set `type` and are listed in EVALUATORS."""

    type: ClassVar[str]

    def __init__(self, spec: TaskSpec) -> None:
        if spec.type != self.type:
            raise ValueError(f"{type(self).__name__} evaluates '{self.type}' tasks, not '{spec.type}'")
        self.spec = spec

    @abstractmethod
    def load(self) -> Any:
        """Load the task's data (with `datasets`); raise SampleBenchError naming a missing column."""

    @abstractmethod
    def sample_ids(self, data: Any) -> list[str]:
        """Stable ids of every sample, in a fixed order."""

    @abstractmethod
    def evaluate(self, model: Any, data: Any, sample_ids: Iterable[str] | None = None) -> Iterator[SampleResult]:
        """Score `model` on the given samples (all when None)."""

    def main_score(self, results: Sequence[SampleResult]) -> float:
        """Task-level main score from per-sample results (default: mean of the main metric)."""
        values = [r.value for r in results if r.metric == self.spec.main_metric and r.value is not None and r.group is None]
        return float(np.mean(values)) if values else float("nan")


EVALUATORS: dict[str, type[Evaluator]] = {}


def register_evaluator(cls: type[Evaluator]) -> type[Evaluator]:
    """Class decorator: make `cls` the evaluator of `cls.type`."""
    EVALUATORS[cls.type] = cls
    return cls


def evaluator_for(spec: TaskSpec) -> Evaluator:
    if spec.type not in EVALUATORS:
        raise SampleBenchError(f"task '{spec.name}': no evaluator for type '{spec.type}' yet")
    return EVALUATORS[spec.type](spec)
