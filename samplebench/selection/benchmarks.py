"""Benchmarks: named sets of (task, splits, subsets), a first-class selection.

Where a benchmark name is looked up, in order:

1. a YAML file: the name itself when it is a path ending in `.yaml`/`.yml`, else
   `$SAMPLEBENCH_HOME/benchmarks/*.yaml` (the `name:` field);
2. MTEB's own definitions (`mteb.get_benchmark`, by name or alias) when `mteb` is installed and
   its version differs from the snapshot's;
3. the snapshot shipped in the package (`mteb_benchmarks.json.gz`, written from mteb by
   `python -m samplebench.selection.snapshot`, which records mteb's version).

A YAML benchmark::

    name: my-retrieval
    description: Two retrieval tasks, test split.
    tasks:
      - SciFact                                  # every split/subset of task-level results
      - {task: STS17, splits: [test], subsets: [en-en]}

How a benchmark selects rows. MTEB results are task-level: each (split, subset) is one sample,
`sample_id = "<split>/<subset>"` (the MTEB importers write them so). Of those, a benchmark keeps
exactly its cells. Per-sample results of a registered task (`bench evaluate`: the task spec pins
its split and subset) carry no split in their sample ids (no "/") and are kept whole.
"""

from __future__ import annotations

import gzip
import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .. import config
from ..errors import SampleBenchError, closest_names

SNAPSHOT = "mteb_benchmarks.json.gz"


class BenchmarkTask(BaseModel):
    """One task of a benchmark: the splits and subsets (languages) whose scores count.

    `splits`/`subsets` None: every split/subset the results hold."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    task: str = Field(min_length=1)
    splits: tuple[str, ...] | None = None
    subsets: tuple[str, ...] | None = None
    type: str | None = None
    main_score: str | None = None

    def cells(self) -> list[str] | None:
        """The `split/subset` sample ids of task-level results, or None (no restriction)."""
        if self.splits is None:
            return None
        return [f"{sp}/{sub}" for sp in self.splits for sub in (self.subsets or ("default",))]

    def matches(self, sample_id: str) -> bool:
        split, _, subset = sample_id.partition("/")
        if not _:
            return True  # per-sample results of the registered task
        return (self.splits is None or split in self.splits) and (self.subsets is None or subset in self.subsets)


class Benchmark(BaseModel):
    """A named benchmark: its tasks with their splits and subsets, and where it came from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    aliases: tuple[str, ...] = ()
    description: str = ""
    source: str = "yaml"
    tasks: tuple[BenchmarkTask, ...] = Field(min_length=1)

    @field_validator("tasks", mode="before")
    @classmethod
    def _task_shorthand(cls, v: Any) -> Any:
        if isinstance(v, list | tuple):
            return [{"task": t} if isinstance(t, str) else t for t in v]
        return v

    def task_names(self) -> list[str]:
        return [t.task for t in self.tasks]

    def task(self, name: str) -> BenchmarkTask:
        return next(t for t in self.tasks if t.task == name)


# -- MTEB --------------------------------------------------------------------------------------
def from_mteb(bench) -> Benchmark:
    """A Benchmark from an `mteb.Benchmark`: each task's eval splits and the subsets mteb keeps
    (an aggregate task: `default` only, as `TaskResult.validate_and_filter_scores` does)."""
    tasks = []
    for t in bench.tasks:
        md = t.metadata
        subsets = ("default",) if getattr(t, "is_aggregate", False) else tuple(t.hf_subsets or ("default",))
        tasks.append(BenchmarkTask(task=md.name, splits=tuple(t.eval_splits), subsets=subsets, type=md.type,
                                   main_score=md.main_score))
    import mteb

    return Benchmark(name=bench.name, aliases=tuple(getattr(bench, "aliases", ()) or ()),
                     description=" ".join(str(bench.description or "").split())[:500],
                     source=f"mteb {mteb.__version__}", tasks=tuple(tasks))


@cache
def snapshot() -> dict[str, Any]:
    """The shipped snapshot: `{"mteb_version": ..., "benchmarks": [Benchmark dicts]}`."""
    raw = resources.files(__package__).joinpath(SNAPSHOT).read_bytes()
    return json.loads(gzip.decompress(raw))


def _installed_mteb() -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("mteb")
    except PackageNotFoundError:
        return None


def _mteb_names(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for b in data["benchmarks"]:
        for n in (b["name"], *b.get("aliases", ())):
            out.setdefault(n, b)
    return out


def mteb_benchmark(name: str) -> Benchmark | None:
    """MTEB's benchmark `name` (or alias): live from mteb when its installed version differs from
    the snapshot's, else from the snapshot; None when neither knows it."""
    snap = snapshot()
    installed = _installed_mteb()
    if installed and installed != snap["mteb_version"]:
        try:
            import mteb

            return from_mteb(mteb.get_benchmark(name))
        except Exception:  # unknown to this mteb (or mteb broken): fall back to the snapshot
            pass
    data = _mteb_names(snap).get(name)
    return Benchmark.model_validate(data) if data is not None else None


# -- YAML --------------------------------------------------------------------------------------
def user_benchmarks_dir() -> Path:
    return config.home() / "benchmarks"


def load_benchmark_file(path: str | Path) -> Benchmark:
    from ..registry.loading import build_spec, read_yaml_mapping

    path = Path(path)
    return build_spec(Benchmark, read_yaml_mapping(path), str(path))


def _user_benchmarks(folder: Path | None) -> dict[str, Path]:
    folder = folder or user_benchmarks_dir()
    out: dict[str, Path] = {}
    if folder.is_dir():
        from ..registry.loading import read_yaml_mapping

        for p in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
            name = read_yaml_mapping(p).get("name")
            if isinstance(name, str):
                out.setdefault(name, p)
    return out


def resolve_benchmark(benchmark, *, registry=None, folder: Path | None = None) -> Benchmark:
    """A Benchmark from itself, a YAML path, a user benchmark's name, or an MTEB benchmark name."""
    if isinstance(benchmark, Benchmark):
        return benchmark
    name = str(benchmark)
    if name.endswith((".yaml", ".yml")):
        return load_benchmark_file(name)
    users = _user_benchmarks(folder)
    if name in users:
        return load_benchmark_file(users[name])
    found = mteb_benchmark(name)
    if found is not None:
        return found
    known = set(users) | set(_mteb_names(snapshot()))
    close = closest_names(name, known)
    raise SampleBenchError(f"unknown benchmark '{name}'",
                           hint=f"closest: {close}" if close else "see `bench benchmarks list`")


def list_benchmarks(folder: Path | None = None) -> list[tuple[str, str, int]]:
    """(name, source, number of tasks) of every benchmark known: user YAML first, then MTEB's."""
    out = []
    for name, path in _user_benchmarks(folder).items():
        out.append((name, str(path), len(load_benchmark_file(path).tasks)))
    snap = snapshot()
    for b in snap["benchmarks"]:
        out.append((b["name"], f"mteb {snap['mteb_version']} (snapshot)", len(b["tasks"])))
    return out
