"""Registries of specs: built-in YAML files shipped in the package, plus a user folder.

User specs win over built-in ones of the same name only with `--replace`; names are unique
across both. Registering writes one YAML file with an atomic rename, after every check passed,
so a refused spec leaves the registry byte-for-byte unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Generic, TypeVar

from pydantic import BaseModel

from .. import config
from .._atomic import write_text_atomic
from ..errors import SampleBenchError, closest_names
from .languages import language_key
from .loading import dump_spec, load_spec
from .schemas import ModelSpec, TaskSpec

S = TypeVar("S", bound=BaseModel)

BUILTIN_DIR = Path(__file__).parent / "builtin"


class SpecRegistry(Generic[S]):
    """Specs of one kind (`cls`) found in `builtin_dir` and `user_dir`, keyed by `name`."""

    kind = "spec"

    def __init__(self, cls: type[S], builtin_dir: Path | None, user_dir: Path) -> None:
        self.cls = cls
        self.builtin_dir = builtin_dir
        self.user_dir = Path(user_dir)
        self._cache: dict[str, S] | None = None

    def _files(self) -> Iterator[Path]:
        for d in (self.builtin_dir, self.user_dir):
            if d is not None and d.is_dir():
                yield from sorted(p for p in d.rglob("*.y*ml") if not p.name.startswith("."))

    def _load_all(self) -> dict[str, S]:
        if self._cache is None:
            specs: dict[str, S] = {}
            for path in self._files():
                spec = load_spec(self.cls, path)
                specs[spec.name] = spec  # user folder comes last and overrides a replaced built-in
            self._cache = specs
        return self._cache

    def names(self) -> list[str]:
        return sorted(self._load_all())

    def all(self) -> list[S]:
        specs = self._load_all()
        return [specs[n] for n in sorted(specs)]

    def __contains__(self, name: str) -> bool:
        return name in self._load_all()

    def get(self, name: str) -> S:
        specs = self._load_all()
        if name not in specs:
            close = closest_names(name, set(specs))
            hint = f"closest: {close}" if close else f"see `bench {self.kind}s list`"
            raise SampleBenchError(f"unknown {self.kind} '{name}'", hint=hint)
        return specs[name]

    def user_file(self, name: str) -> Path:
        return self.user_dir / f"{name}.yaml"

    def add(self, spec: S, *, replace: bool = False) -> Path:
        """Store `spec` in the user folder; refuse an existing name unless `replace`."""
        name = spec.name  # type: ignore[attr-defined]
        if name in self and not replace:
            raise SampleBenchError(
                f"{self.kind} '{name}' is already registered", hint="pass --replace to overwrite it"
            )
        target = self.user_file(name)
        write_text_atomic(target, dump_spec(spec))
        self._cache = None
        return target


class TaskRegistry(SpecRegistry[TaskSpec]):
    kind = "task"

    def __init__(self, user_dir: Path | None = None, *, builtin: bool = True) -> None:
        super().__init__(
            TaskSpec, BUILTIN_DIR / "tasks" if builtin else None, user_dir or config.user_tasks_dir()
        )

    def filter(
        self,
        *,
        type: str | None = None,
        language: str | None = None,
        tag: str | None = None,
        names: list[str] | None = None,
    ) -> list[TaskSpec]:
        """Tasks matching every given criterion; `language` matches any tag of the same language."""
        conds: list[Callable[[TaskSpec], bool]] = []
        if type:
            conds.append(lambda s: s.type == type)
        if language:
            key = language_key(language)
            conds.append(lambda s: any(language_key(lang) == key for lang in s.languages))
        if tag:
            conds.append(lambda s: tag in s.tags)
        if names is not None:
            for n in names:
                self.get(n)
            conds.append(lambda s: s.name in names)
        return [s for s in self.all() if all(c(s) for c in conds)]

    def add(self, spec: TaskSpec, *, replace: bool = False) -> Path:
        """Register a task. A relative local dataset path is stored resolved, so it keeps working."""
        if spec.dataset.is_local:
            data = spec.model_dump(mode="json", exclude_defaults=True)
            data["dataset"]["path"] = spec.resolved_dataset_path()
            spec = TaskSpec.model_validate(data)
        return super().add(spec, replace=replace)


class ModelRegistry(SpecRegistry[ModelSpec]):
    kind = "model"

    def __init__(self, user_dir: Path | None = None, *, builtin: bool = True) -> None:
        super().__init__(
            ModelSpec, BUILTIN_DIR / "models" if builtin else None, user_dir or config.user_models_dir()
        )
