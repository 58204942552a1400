"""Naming a model: a registered `ModelSpec`, an alias, a local folder, a Hub id, an endpoint or a callable.

`resolve_spec(name)` turns what the user typed into a `ModelSpec` without loading anything;
`load_model(name_or_spec)` builds the adapter (adapters load weights lazily, on first use).

Accepted names, in order:
* a registered model (built-in `registry/builtin/models/*.yaml` or the user's `$SAMPLEBENCH_HOME/models`);
* an alias: `tfidf`, `bm25`, `random` (the built-in baselines), `all-MiniLM-L6-v2`;
* `openai:<model>` (OpenAI-compatible endpoint at `$OPENAI_BASE_URL`), or `openai:<model>@<base url>`;
* `callable:<package.module>:<function>` or `<package.module>:<function>`;
* `hf-causal:<folder or Hub id>` (transformers causal LM);
* a local folder or a Hub id of a sentence-transformers model (offline: must be in the HF cache).
"""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import SampleBenchError, closest_names
from ..registry import ModelRegistry, ModelSpec

ALIASES = {
    "tfidf": "baseline/tfidf",
    "bm25": "baseline/bm25",
    "random": "baseline/random",
    "all-MiniLM-L6-v2": "sentence-transformers/all-MiniLM-L6-v2",
    "minilm": "sentence-transformers/all-MiniLM-L6-v2",
}
_CALLABLE = re.compile(r"^(callable:)?([A-Za-z_][\w.]*):([A-Za-z_]\w*)$")


def resolve_spec(name: str | ModelSpec, registry: ModelRegistry | None = None) -> ModelSpec:
    """The `ModelSpec` a name stands for; SampleBenchError with the closest names when none."""
    if isinstance(name, ModelSpec):
        return name
    reg = registry or ModelRegistry()
    name = name.strip()
    if name in reg:
        return reg.get(name)
    if name in ALIASES and ALIASES[name] in reg:
        return reg.get(ALIASES[name])
    if name.startswith("openai:"):
        rest = name.removeprefix("openai:")
        model, _, base = rest.partition("@")
        args = {"model": model}
        if base:
            args["base_url"] = base
        return ModelSpec(name=name, adapter="openai", args=args)
    m = _CALLABLE.match(name)
    if m and not Path(name).exists():
        return ModelSpec(name=name, adapter="callable", args={"target": f"{m.group(2)}:{m.group(3)}"})
    if name.startswith("hf-causal:"):
        return ModelSpec(name=name, adapter="transformers_causal_lm", args={"model": name.removeprefix("hf-causal:")})
    from .adapters.sentence_transformer import resolve_local

    if resolve_local(name) is not None:
        return ModelSpec(name=name, adapter="sentence_transformers", args={"model": name})
    candidates = set(reg.names()) | set(ALIASES)
    close = closest_names(name, candidates)
    raise SampleBenchError(
        f"unknown model '{name}': not a registered model, alias, local folder or cached Hub model",
        hint=f"closest: {close}" if close else "see `bench models list`",
    )


def load_model(name_or_spec: str | ModelSpec, registry: ModelRegistry | None = None):
    """An adapter instance for the model (weights are loaded lazily by the adapter)."""
    from .adapters import adapter_class

    spec = resolve_spec(name_or_spec, registry)
    cls = adapter_class(spec.adapter)
    try:
        return cls(spec, **spec.args)
    except TypeError as exc:
        where = spec.source or f"model '{spec.name}'"
        raise SampleBenchError(f"{where}: args: {exc}", hint=f"see the `{spec.adapter}` adapter's arguments") from None
