"""The contract between task types and models.

A task type is an `Evaluator` subclass registered under a `TaskSpec.type`. It loads the task's
data, names its samples, and scores a model on them, yielding one `SampleResult` per
(sample, metric[, group]). Models are seen only through the small protocols below; the adapters
that implement them live in `samplebench.runners` (dependencies point runners -> tasks).

Helper models a task needs besides the one evaluated (a CLIP scorer, a VLM judge, the text
encoder of text diversity) are never built by the task: it asks a *model provider* for them by
name (`Evaluator.model(name)`, `provided_model(name)`). The runner hands its provider to every
evaluator it builds; `samplebench.runners` also registers it as the process default on import
(`set_model_provider`), so an evaluator used directly finds it too.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
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


ModelProvider = Callable[[str], Any]
"""A model name (e.g. `clip:<folder>`, `judge:<model>@<url>`) -> the built model object."""

_DEFAULT_PROVIDER: list[ModelProvider] = []


def set_model_provider(provider: ModelProvider | None) -> None:
    """Make `provider` the process default for evaluators that were not handed one (None: none)."""
    _DEFAULT_PROVIDER[:] = [] if provider is None else [provider]


def provided_model(name: str, provider: ModelProvider | None = None) -> Any:
    """The helper model `name` from `provider`, else from the process default provider."""
    fn = provider or (_DEFAULT_PROVIDER[0] if _DEFAULT_PROVIDER else None)
    if fn is None:
        raise SampleBenchError(
            f"this task needs the model '{name}', and no model provider is set",
            hint="evaluate through samplebench.runners (or `import samplebench.runners`, which registers one)",
        )
    return fn(name)


class Evaluator(ABC):
    """Scores models on one task of one type. Subclasses set `type` and are listed in EVALUATORS.

    Optional extensions a subclass may provide (the runner uses them when present):

    * `known_metrics`: the per-sample metric names it can record; a spec declaring another
      metric is refused when the evaluator is built (empty: no check).
    * `options_defaults`: type-specific `spec.options` and their defaults (unknown options refused).
    * `restrict(data, sample_ids)`: the data cut down to those samples (`--limit`), so corpus-level
      quantities are computed on what is evaluated.
    * `task_scores`: task-level scores (e.g. MTEB's main score) of the last `evaluate` call.
    * `batch_size`: encoder batch size set by the runner.
    * `models`: the model provider set by the runner (see `model`).

    `input_errors` (set by `evaluate`): inputs that are not samples but failed all the same, e.g.
    training texts the model could not embed, as {what: (count, first error)}; the samples' values
    were computed without them, and the runner reports them (they make the exit status 1).
    """

    type: ClassVar[str]
    known_metrics: ClassVar[tuple[str, ...]] = ()
    options_defaults: ClassVar[dict[str, Any]] = {}
    models: ModelProvider | None = None

    def __init__(self, spec: TaskSpec) -> None:
        if spec.type != self.type:
            raise ValueError(f"{type(self).__name__} evaluates '{self.type}' tasks, not '{spec.type}'")
        self.spec = spec
        self.batch_size: int = 32
        self.task_scores: dict[str, float] = {}
        self.input_errors: dict[str, tuple[int, str]] = {}
        if self.known_metrics:
            unknown = [m.name for m in spec.metrics if m.name not in self.known_metrics]
            if unknown:
                raise SampleBenchError(
                    f"task '{spec.name}': type '{spec.type}' cannot record metric(s) {', '.join(unknown)}; "
                    f"it records: {', '.join(self.known_metrics)}"
                )
        if self.options_defaults:
            bad = sorted(set(spec.options) - set(self.options_defaults))
            if bad:
                raise SampleBenchError(
                    f"task '{spec.name}': options: unknown option(s) {', '.join(bad)} for type '{spec.type}'; "
                    f"allowed: {', '.join(sorted(self.options_defaults))}"
                )

    def option(self, name: str) -> Any:
        """`spec.options[name]`, else the type's default."""
        return self.spec.options.get(name, self.options_defaults.get(name))

    def model(self, name: str) -> Any:
        """The helper model `name` (a scorer, an embedder) from this evaluator's provider, else the default."""
        return provided_model(name, self.models)

    @property
    def metric_names(self) -> list[str]:
        return [m.name for m in self.spec.metrics]

    def restrict(self, data: Any, sample_ids: Sequence[str]) -> Any:
        """The data limited to `sample_ids` (default: unchanged)."""
        return data

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


def evaluator_for(spec: TaskSpec, *, models: ModelProvider | None = None) -> Evaluator:
    """The evaluator of `spec`'s type, with `models` as its model provider (None: the default)."""
    if spec.type not in EVALUATORS:
        raise SampleBenchError(f"task '{spec.name}': no evaluator for type '{spec.type}' yet")
    ev = EVALUATORS[spec.type](spec)
    ev.models = models
    return ev
