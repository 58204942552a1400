"""Registries of specs: built-in YAML files shipped in the package, plus a user folder.

User specs win over built-in ones of the same name only with `--replace`; names are unique
across both. Registering writes one YAML file with an atomic rename, after every check passed,
so a refused spec leaves the registry byte-for-byte unchanged.

The validated built-in specs are cached (`$SAMPLEBENCH_HOME/cache/registry/`), keyed by the
path, size, mtime and inode of every built-in spec file and of the modules that define and
validate specs, so a process that finds nothing changed skips parsing and validating them
(language codes alone cost ~0.1 s: pycountry's tables). Any change, added or removed file
rebuilds the cache from the YAML files, with the same errors as without it. User specs are read
from their YAML files every time (registering one never touches the cache).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

from pydantic import BaseModel

from .. import config
from .._atomic import publish, write_text_atomic
from ..errors import SampleBenchError, closest_names, require_writable
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

    def _files(self, folder: Path | None) -> list[Path]:
        if folder is None or not folder.is_dir():
            return []
        return sorted(p for p in folder.rglob("*.y*ml") if not p.name.startswith("."))

    def _load_all(self) -> dict[str, S]:
        if self._cache is None:
            builtin = self._files(self.builtin_dir)
            cache_file = _cache_file(self.kind, self.cls, builtin)
            specs = _read_cache(cache_file)
            if specs is None:
                specs = self._load_files(builtin)
                _write_cache(cache_file, specs)
            else:
                specs = dict(specs)
            # the user folder comes last and overrides a replaced built-in
            specs.update(self._load_files(self._files(self.user_dir)))
            self._cache = specs
        return self._cache

    def _load_files(self, files: list[Path]) -> dict[str, S]:
        specs: dict[str, S] = {}
        for path in files:
            spec = load_spec(self.cls, path)
            specs[spec.name] = spec
        return specs

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

    def ensure_writable(self) -> None:
        """Raise SampleBenchError when the user folder cannot be written (checked before any work)."""
        require_writable(self.user_dir, f"{self.kind} registry",
                         hint="pass --registry (or set SAMPLEBENCH_HOME) to a folder you can write")

    def add(self, spec: S, *, replace: bool = False) -> Path:
        """Store `spec` in the user folder; refuse an existing name unless `replace`."""
        self.ensure_writable()
        name = spec.name  # type: ignore[attr-defined]
        if name in self and not replace:
            raise SampleBenchError(
                f"{self.kind} '{name}' is already registered", hint="pass --replace to overwrite it"
            )
        target = self.user_file(name)
        write_text_atomic(target, dump_spec(spec))
        self._cache = None
        return target


# The modules whose code decides what a spec file validates to: a change to any of them invalidates the cache.
_CODE = [Path(__file__).parent / n for n in ("schemas.py", "languages.py", "task_types.py", "loading.py", "registry.py")]


def _stat_line(path: Path) -> str:
    st = os.stat(path)
    return f"{path}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ino}"


def _cache_file(kind: str, cls: type, files: list[Path]) -> Path | None:
    """Where the validated specs of exactly these files (as they are now) are cached; None if unstatable."""
    from pydantic.version import VERSION

    from .. import __version__

    h = hashlib.sha256(f"{kind}\0{cls.__module__}.{cls.__qualname__}\0{__version__}\0{VERSION}".encode())
    try:
        for p in [*_CODE, *files]:
            h.update(b"\n" + _stat_line(Path(os.path.abspath(p))).encode())
    except OSError:
        return None
    return config.home() / "cache" / "registry" / f"{kind}-{h.hexdigest()[:32]}.pickle"


def _read_cache(path: Path | None) -> dict | None:
    """The cached specs, or None when absent, unreadable, or not a private file of this user."""
    if path is None:
        return None
    try:
        with open(path, "rb") as fh:
            st = os.fstat(fh.fileno())
            if st.st_uid != os.getuid() or st.st_mode & 0o022:  # unpickle only what this user alone wrote
                return None
            specs = pickle.load(fh)  # noqa: S301 - our own cache file, checked above
    except Exception:  # noqa: BLE001 - a bad cache only costs a rebuild from the YAML files
        return None
    return specs if isinstance(specs, dict) else None


def _write_cache(path: Path | None, specs: dict) -> None:
    if path is None:
        return
    with contextlib.suppress(Exception):  # a read-only home only costs parsing next time
        data = pickle.dumps(specs, protocol=pickle.HIGHEST_PROTOCOL)

        def write(tmp: Path) -> None:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)

        publish(path, write)
        for old in path.parent.glob(path.name.split("-", 1)[0] + "-*.pickle"):
            if old != path:  # stale versions of this registry's cache
                old.unlink(missing_ok=True)


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
