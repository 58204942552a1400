"""The model provider: helper models that tasks ask for by name, built through the registry and adapters.

A task never loads weights or opens connections itself (see `samplebench.tasks.base`). When it
needs a CLIP scorer or embedder (`clip:<folder or Hub id>`), a vision-language judge
(`judge:<model>[@<base url>]`) or the text encoder of text diversity
(`sentence-transformers/all-MiniLM-L6-v2`), it calls its provider with that name. This is the
provider: the name goes through `resolve_spec` (registered models, aliases, URI schemes) and
`load_model` (the adapters), and each model is built once per process and shared by every task
that names it. The runner hands it to the evaluators it builds; importing `samplebench.runners`
also makes it the process default.
"""

from __future__ import annotations

import threading
from typing import Any

_BUILT: dict[str, Any] = {}
_LOCK = threading.Lock()


def task_model(name: str) -> Any:
    """The model `name` stands for, built on first use (SampleBenchError for an unknown name)."""
    with _LOCK:
        if name not in _BUILT:
            from .models import load_model

            _BUILT[name] = load_model(name)
        return _BUILT[name]


def forget_task_models() -> None:
    """Drop the built helper models (their memory is freed once nothing else holds them)."""
    with _LOCK:
        for model in _BUILT.values():
            close = getattr(model, "close", None)
            if callable(close):
                close()
        _BUILT.clear()
