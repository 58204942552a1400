"""Model adapters: a `ModelSpec` -> an object implementing the protocols of `samplebench.tasks.base`.

Each adapter is a small class registered by name with `@register_adapter("name")`. Modules in
this package are imported automatically (see `__init__`), so a new adapter is a new file.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ...errors import SampleBenchError, closest_names
from ...registry import ModelSpec

ADAPTERS: dict[str, type[ModelAdapter]] = {}


class ModelAdapter:
    """Base class. `revision` is the real weights/endpoint revision when known (recorded in results)."""

    name: str = ""

    def __init__(self, spec: ModelSpec, **kwargs: Any) -> None:
        self.spec = spec
        self.revision: str | None = spec.revision

    @classmethod
    def from_spec(cls, spec: ModelSpec, **args: Any) -> ModelAdapter:
        """The adapter for `spec`, with `spec.args` as keyword arguments (what `load_model` calls)."""
        return cls(spec, **args)

    def close(self) -> None:
        """Release resources (sessions, GPU memory)."""


def register_adapter(name: str) -> Callable[[type[ModelAdapter]], type[ModelAdapter]]:
    def deco(cls: type[ModelAdapter]) -> type[ModelAdapter]:
        cls.name = name
        ADAPTERS[name] = cls
        return cls

    return deco


def adapter_class(name: str) -> type[ModelAdapter]:
    if name not in ADAPTERS:
        close = closest_names(name, set(ADAPTERS))
        raise SampleBenchError(
            f"unknown adapter '{name}'", hint=f"closest: {close}" if close else f"known: {', '.join(sorted(ADAPTERS))}"
        )
    return ADAPTERS[name]
