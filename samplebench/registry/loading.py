"""Reading spec files: YAML -> mapping -> strict pydantic model, with errors that name file and field."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from ..errors import SampleBenchError

M = TypeVar("M", bound=BaseModel)
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_MERGE = "tag:yaml.org,2002:merge"


class _UniqueKeyLoader(_SafeLoader):  # type: ignore[misc, valid-type]
    """The safe loader (C-accelerated when available) that refuses a key written twice in one
    mapping, instead of YAML's silent last-wins. Keys brought in by a `<<` merge may still be
    overridden, as YAML intends."""

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen: dict = {}
            for key_node, _ in node.value:
                if key_node.tag == _MERGE:
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    first = seen.setdefault(key, key_node.start_mark)
                except TypeError:  # an unhashable key: the constructor below reports it
                    continue
                if first is not key_node.start_mark:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"duplicate key {key!r} (first written at line {first.line + 1}); "
                                    "keep one", key_node.start_mark)
        return super().construct_mapping(node, deep=deep)


def describe_validation_error(err: ValidationError, where: str) -> str:
    """One line per problem: `where: field.path: message` (at most three, then a count)."""
    lines = []
    for e in err.errors()[:3]:
        loc = ".".join(str(p) for p in e["loc"]) or "(top level)"
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            msg = "unknown field (remove it or check its spelling)"
        elif e["type"] == "literal_error":
            msg = f"{msg}"
        lines.append(f"{where}: {loc}: {msg}")
    more = len(err.errors()) - 3
    if more > 0:
        lines.append(f"{where}: ... and {more} more problem(s)")
    return "\n".join(lines)


def read_yaml_mapping(path: Path) -> dict[str, Any]:
    """Parse `path` as YAML and insist on a mapping at the top level."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SampleBenchError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SampleBenchError(f"{path}: cannot read: {exc}") from None
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a safe loader, C-accelerated when available
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SampleBenchError(f"{path}: invalid YAML{at}: {problem}") from None
    if not isinstance(data, dict):
        raise SampleBenchError(
            f"{path}: a spec must be a YAML mapping (key: value lines), got {type(data).__name__}"
        )
    bad_keys = [k for k in data if not isinstance(k, str)]
    if bad_keys:
        raise SampleBenchError(f"{path}: keys must be strings, got {bad_keys[0]!r}")
    return data


def build_spec(cls: type[M], data: dict[str, Any], where: str, source: Path | None = None) -> M:
    try:
        spec = cls.model_validate(data)
    except ValidationError as err:
        raise SampleBenchError(describe_validation_error(err, where)) from None
    except (TypeError, ValueError, RecursionError) as exc:  # pathological inputs pydantic does not wrap
        raise SampleBenchError(f"{where}: invalid spec: {exc}") from None
    if source is not None and hasattr(spec, "_source"):
        spec._source = source.resolve()
    return spec


def load_spec(cls: type[M], path: str | Path) -> M:
    """Load one YAML spec file into `cls`, raising SampleBenchError on any problem."""
    path = Path(path)
    return build_spec(cls, read_yaml_mapping(path), str(path), source=path)


def dump_spec(spec: BaseModel) -> str:
    """The YAML text of a spec, fields in declaration order, defaults omitted."""
    data = spec.model_dump(mode="json", exclude_defaults=True)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
