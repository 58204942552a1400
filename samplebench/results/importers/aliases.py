"""Model name normalisation: `org__name` -> `org/name`, then an explicit, user-extendable alias table.

The alias table maps a name as a source writes it (either spelling) to the name samplebench
uses. It is a YAML or JSON mapping, `{source name: canonical name}`, read from the file the
caller passes (`--alias FILE`) merged over `$SAMPLEBENCH_HOME/aliases.yaml` when that exists:

    # aliases.yaml
    BAAI__bge-m3-unsupervised: BAAI/bge-m3
    text-embedding-3-large: openai/text-embedding-3-large
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from ... import config
from ...errors import SampleBenchError

AliasSource = str | Path | Mapping[str, str] | None


def default_alias_file() -> Path:
    return config.home() / "aliases.yaml"


def load_aliases(path: str | Path) -> dict[str, str]:
    """Read one alias file (YAML or JSON mapping of strings to strings)."""
    path = Path(path)
    if not path.is_file():
        raise SampleBenchError(f"{path}: alias file not found", hint="pass a YAML/JSON file mapping source names to model names")
    text = path.read_text(encoding="utf-8")
    import yaml

    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise SampleBenchError(f"{path}: cannot parse alias table: {str(exc).splitlines()[0]}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SampleBenchError(f"{path}: the alias table must be a mapping `source name: model name`")
    out: dict[str, str] = {}
    for key, value in data.items():
        if not isinstance(key, str) or not isinstance(value, str) or not value.strip():
            raise SampleBenchError(f"{path}: alias entry {key!r}: {value!r} must map a name to a non-empty name")
        out[key.strip()] = value.strip()
    return out


class ModelNames:
    """Normalises model names: `org__name` -> `org/name`, then the alias table (either spelling may be a key)."""

    def __init__(self, aliases: AliasSource = None, *, use_default_file: bool = True) -> None:
        table: dict[str, str] = {}
        default = default_alias_file()
        if use_default_file and default.is_file():
            table.update(load_aliases(default))
        if isinstance(aliases, Mapping):
            table.update({str(k): str(v) for k, v in aliases.items()})
        elif aliases is not None:
            table.update(load_aliases(aliases))
        # keys are compared in their normalised spelling, so `org__x` and `org/x` are one key
        # (a later table's entry wins over an earlier one's whichever spelling either used)
        self.table = {}
        for k, v in table.items():
            self.table[normalise_model_name(k)] = v
        self._cache: dict[str, str] = {}

    def __call__(self, name: str) -> str:
        hit = self._cache.get(name)
        if hit is not None:
            return hit
        norm = normalise_model_name(name)
        out = self.table.get(norm, norm)
        self._cache[name] = out
        return out


def normalise_model_name(name: str) -> str:
    """`org__name` -> `org/name` (the first `__` only, and only when the name has no `/` yet)."""
    name = name.strip()
    if "/" not in name and "__" in name:
        org, rest = name.split("__", 1)
        if org and rest:
            return f"{org}/{rest}"
    return name
