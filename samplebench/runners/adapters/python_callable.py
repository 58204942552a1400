"""Any Python callable as a model: `package.module:function` (name it `callable:package.module:function`).

`mode: encoder` (default): the function maps a list of texts to an (n, d) array and is used as
`encode`. `mode: factory`: the function is called once with `kwargs` and returns the model object
(anything implementing `encode`, `loglikelihood`/`generate`, `predict_proba` or `generate_images`);
its methods are used as they are. Set `revision` in the spec to enable the embedding cache.

The callable runs in a worker process (`samplebench.runners.worker`), so that raising, hanging,
`sys.exit()`, `os._exit()` or a crash cost the batch in flight (its samples become error rows)
and never the run: every call must answer within `timeout` seconds (300; `bench evaluate
--timeout` sets it too), and the import plus the factory's build within `load_timeout` (600).
`isolate: false` calls it in this process instead (no time limit: for debugging).
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from ...errors import SampleBenchError
from ...registry import ModelSpec
from .base import ModelAdapter, register_adapter

DEFAULT_TIMEOUT = 300.0


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
    def __init__(self, spec: ModelSpec, *, target: str, mode: str = "encoder", kwargs: dict | None = None,
                 isolate: bool = True, timeout: float = DEFAULT_TIMEOUT, load_timeout: float = 600.0) -> None:
        super().__init__(spec)
        if mode not in ("encoder", "factory"):
            raise SampleBenchError(f"model '{spec.name}': args.mode must be encoder or factory, got '{mode}'")
        for arg, v in (("timeout", timeout), ("load_timeout", load_timeout)):
            if isinstance(v, bool) or not isinstance(v, int | float) or not v > 0:
                raise SampleBenchError(f"model '{spec.name}': args.{arg} must be a positive number of seconds, got {v!r}")
        self.mode, self.kwargs, self.isolate = mode, dict(kwargs or {}), bool(isolate)
        self._obj: Any = None
        self._worker: Any = None
        self.fn: Any = None
        if self.isolate:
            from ..worker import WorkerModel

            self._worker = WorkerModel(target, mode=mode, kwargs=self.kwargs, timeout=timeout, load_timeout=load_timeout)
            self._worker.start()  # imports the target there: a bad name is reported now
        else:
            self.fn = resolve_target(target)

    @property
    def timeout(self) -> float | None:
        """Seconds a call may take (isolated callables only)."""
        return self._worker.timeout if self._worker is not None else None

    @timeout.setter
    def timeout(self, seconds: float) -> None:
        if self._worker is not None:
            self._worker.timeout = float(seconds)

    @property
    def obj(self) -> Any:
        if self._obj is None:
            self._obj = self.fn(**self.kwargs)
        return self._obj

    @property
    def loaded(self) -> bool:
        return self.mode == "encoder" or self._obj is not None or self._worker is not None

    def encode(self, texts: Sequence[str], *, batch_size: int = 32) -> np.ndarray:
        if self._worker is not None:
            return np.asarray(self._worker.call("encode", list(texts), batch_size=batch_size), dtype=np.float32)
        if self.mode == "encoder":
            return np.asarray(self.fn(list(texts), **self.kwargs), dtype=np.float32)
        return np.asarray(self.obj.encode(list(texts), batch_size=batch_size), dtype=np.float32)

    def close(self) -> None:
        if self._worker is not None:
            self._worker.stop()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name in ("fn", "mode", "kwargs", "spec", "revision", "isolate"):
            raise AttributeError(name)
        if self.mode != "factory":
            raise AttributeError(f"callable model in encoder mode has no '{name}'")
        if self._worker is None:
            return getattr(self.obj, name)
        kind, value = self._worker.attribute(name)
        if kind == "missing":
            raise AttributeError(name)
        if kind == "value":
            return value
        worker = self._worker
        return lambda *args, **kwargs: worker.call(name, *args, **kwargs)
