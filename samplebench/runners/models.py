"""Naming a model: a registered `ModelSpec`, an alias, a local folder, a Hub id, an endpoint or a callable.

`resolve_spec(name)` turns what the user typed into a `ModelSpec` without loading anything;
`load_model(name_or_spec)` builds the adapter (adapters load weights lazily, on first use).

Accepted names, in order:
* a registered model (built-in `registry/builtin/models/*.yaml` or the user's `$SAMPLEBENCH_HOME/models`);
* an alias: `tfidf`, `bm25`, `random` (the built-in baselines), `all-MiniLM-L6-v2`;
* `openai:<model>` (OpenAI-compatible endpoint at `$OPENAI_BASE_URL`), or `openai:<model>@<base url>`;
* `callable:<package.module>:<function>` or `<package.module>:<function>`;
* `hf-causal:<folder or Hub id>` (transformers causal LM);
* `images:<folder>` (bring your own generations), `diffusers:<folder or Hub id>`,
  `openai-images:<model>[@<base url>]` (image generators for `cultural_t2i` tasks);
* `clip:<folder or Hub id>`, `judge:<model>[@<base url>]` (the scorers and embedders that
  `cultural_t2i` tasks ask for, see `samplebench.runners.task_models`);
* a local folder or a Hub id of a sentence-transformers model (offline: must be in the HF cache).
"""

from __future__ import annotations

import re
from collections.abc import Callable
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


def _model_at_url(rest: str) -> dict[str, str]:
    """`model[@base_url]` -> adapter args."""
    model, _, base = rest.partition("@")
    return {"model": model, **({"base_url": base} if base else {})}


# `scheme:rest` names that stand for a model without a registered spec.
URI_SCHEMES: dict[str, Callable[[str], tuple[str, dict[str, str]]]] = {
    "openai": lambda rest: ("openai", _model_at_url(rest)),                  # openai:MODEL[@URL]
    "openai-images": lambda rest: ("openai-images", _model_at_url(rest)),    # openai-images:MODEL[@URL]
    "hf-causal": lambda rest: ("transformers_causal_lm", {"model": rest}),   # hf-causal:PATH_OR_ID
    "images": lambda rest: ("images", {"path": rest}),                       # images:DIR (bring your own)
    "diffusers": lambda rest: ("diffusers", {"model": rest}),                # diffusers:PATH_OR_ID
    "clip": lambda rest: ("clip", {"model": rest}),                          # clip:PATH_OR_ID
    "judge": lambda rest: ("judge", _model_at_url(rest)),                    # judge:MODEL[@URL]
}


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
    scheme, sep, rest = name.partition(":")
    if sep and rest and scheme in URI_SCHEMES:
        adapter, args = URI_SCHEMES[scheme](rest)
        return ModelSpec(name=name, adapter=adapter, args=args)
    m = _CALLABLE.match(name)
    if m and not Path(name).exists():
        return ModelSpec(name=name, adapter="callable", args={"target": f"{m.group(2)}:{m.group(3)}"})
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
        return cls.from_spec(spec, **spec.args)
    except TypeError as exc:
        where = spec.source or f"model '{spec.name}'"
        raise SampleBenchError(f"{where}: args: {exc}", hint=f"see the `{spec.adapter}` adapter's arguments") from None
