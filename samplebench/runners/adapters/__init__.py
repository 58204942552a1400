"""Model adapters. Every module in this package is imported here so its `@register_adapter`s run."""

from __future__ import annotations

import importlib
import pkgutil

from .base import ADAPTERS, ModelAdapter, adapter_class, register_adapter

for _info in pkgutil.iter_modules(__path__):
    if _info.name != "base" and not _info.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_info.name}")

__all__ = ["ADAPTERS", "ModelAdapter", "adapter_class", "register_adapter"]
