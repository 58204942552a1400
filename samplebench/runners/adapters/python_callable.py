"""Any Python callable as a model: `package.module:function` (name it `callable:package.module:function`).

`mode: encoder` (default): the function maps a list of texts to an (n, d) array and is used as
`encode`. `mode: factory`: the function is called once with `kwargs` and returns the model object
(anything implementing `encode`, `loglikelihood`/`generate`, `predict_proba` or `generate_images`);
its methods are used as they are. Set `revision` in the spec to enable the embedding cache.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from ...errors import SampleBenchError
from ...registry import ModelSpec
from .base import ModelAdapter, register_adapter


def resolve_target(target: str) -> Any:
    """`package.module:attr.sub` -> the object, or SampleBenchError naming what is missing."""
    module_name, _, attr = target.partition(":")
    if not module_name or not attr:
        raise SampleBenchError(f"callable '{target}' must look like package.module:function")
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise SampleBenchError(f"callable '{target}': cannot import module '{module_name}': {exc}") from None
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise SampleBenchError(f"callable '{target}': module '{module_name}' has no attribute '{attr}'")
        obj = getattr(obj, part)
    if not callable(obj):
        raise SampleBenchError(f"callable '{target}' is not callable")
    return obj


@register_adapter("callable")
class CallableModel(ModelAdapter):
    def __init__(self, spec: ModelSpec, *, target: str, mode: str = "encoder", kwargs: dict | None = None) -> None:
        super().__init__(spec)
        if mode not in ("encoder", "factory"):
            raise SampleBenchError(f"model '{spec.name}': args.mode must be encoder or factory, got '{mode}'")
        self.fn = resolve_target(target)
        self.mode, self.kwargs = mode, dict(kwargs or {})
        self._obj: Any = None

    @property
    def obj(self) -> Any:
        if self._obj is None:
            self._obj = self.fn(**self.kwargs)
        return self._obj

    @property
    def loaded(self) -> bool:
        return self.mode == "encoder" or self._obj is not None

    def encode(self, texts: Sequence[str], *, batch_size: int = 32) -> np.ndarray:
        if self.mode == "encoder":
            return np.asarray(self.fn(list(texts), **self.kwargs), dtype=np.float32)
        return np.asarray(self.obj.encode(list(texts), batch_size=batch_size), dtype=np.float32)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name in ("fn", "mode", "kwargs", "spec", "revision"):
            raise AttributeError(name)
        if self.mode != "factory":
            raise AttributeError(f"callable model in encoder mode has no '{name}'")
        return getattr(self.obj, name)
