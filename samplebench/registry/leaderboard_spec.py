"""LeaderboardSpec: what a leaderboard shows, as a strict pydantic model loaded from YAML.

A spec plus a results store fully determines a leaderboard: the selection picks measurements,
the aggregator (default Plackett-Luce) ranks the models, `also_show` adds other methods' ranks
beside it, and `bootstrap` fixes the size and seed of resampled intervals (0 = the method's
bootstrap-free, information-matrix intervals). Method names are checked against the aggregator
registry when the leaderboard is built (the registry package does not import aggregators).

The minimal spec::

    name: sim-board
    title: Simulated board
    description: Every model and task in the store.
    selection: {tasks: all}
    aggregator: {method: plackett-luce}
    also_show: [mean, borda]

MTEB's own board in two lines: `selection: {benchmark: "MTEB(eng, v2)", require_all_tasks: true}`.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from .loading import build_spec, load_spec
from .schemas import Name


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _all_or_list(v: Any, field: str) -> Any:
    """Accept `all`, a single name, or a list of names (a comma-separated string is split)."""
    if v is None or v == "all":
        return "all"
    if isinstance(v, str):
        return [p.strip() for p in v.split(",") if p.strip()]
    if isinstance(v, list | tuple):
        if not v:
            raise ValueError(f"{field}: an empty list selects nothing; write `all` or name at least one")
        return list(v)
    return v


class CapabilityQuery(_Strict):
    """A capability query over the store's pool index (`bench query TEXT` with these options)."""

    text: str = Field(min_length=1)
    top_k: int = Field(default=50, ge=1)
    min_similarity: float | None = None
    where: dict[str, str] = Field(default_factory=dict)
    retrieval: Literal["dense", "hybrid", "bm25"] = "dense"

    @field_validator("text")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("the query text is empty; write what the samples should test")
        return v


class Selection(_Strict):
    """Which measurements the leaderboard uses.

    `tasks`, `models`: `all` or a list of names. `task_types` and `tags` narrow the tasks through
    the task registry (a task must match every criterion given). `benchmark`: a named benchmark
    (`MTEB(eng, v2)`, one defined in YAML, or a .yaml path): its tasks, and of task-level results
    only its splits and subsets. `metrics`: `main` (each task's main metric, the default), `all`,
    or a list of metric names. `min_coverage`: a model measured on fewer than this fraction of
    the selected samples is left out (and listed in the card). `require_all_tasks`: only models
    with a score on every selected task (every split/subset cell of a benchmark's task-level
    results) are ranked — MTEB's own population. `capability`: only the samples of a capability
    saved with `bench query TEXT --save NAME`; `query`: only the samples a capability query
    selects on the store's pool index now (`{text, top_k, min_similarity, where, retrieval}`).
    Either narrows the other criteria; the build records the query, the index version and the
    sample count.
    """

    tasks: Literal["all"] | list[str] = "all"
    task_types: list[str] | None = None
    tags: list[str] | None = None
    metrics: Literal["main", "all"] | list[str] = "main"
    models: Literal["all"] | list[str] = "all"
    exclude_models: list[str] = Field(default_factory=list)
    min_coverage: float = Field(default=0.0, ge=0.0, le=1.0)
    benchmark: str | None = Field(default=None, min_length=1)
    require_all_tasks: bool = False
    capability: str | None = Field(default=None, min_length=1)
    query: CapabilityQuery | None = None

    @model_validator(mode="after")
    def _one_pool_selection(self) -> Selection:
        if self.capability is not None and self.query is not None:
            raise ValueError("give either capability or query, not both")
        return self

    @field_validator("tasks", "models", mode="before")
    @classmethod
    def _names(cls, v: Any, info) -> Any:
        return _all_or_list(v, info.field_name)

    @field_validator("metrics", mode="before")
    @classmethod
    def _metrics(cls, v: Any) -> Any:
        if v in (None, "main"):
            return "main"
        return _all_or_list(v, "metrics")


_LATER_SELECTION_FIELDS = {"benchmark": None, "require_all_tasks": False, "capability": None, "query": None}


class AggregatorChoice(_Strict):
    """The method that makes the ranking and its parameters (passed to `aggregators.fit`)."""

    method: str = Field(default="plackett-luce", min_length=1)
    params: dict[str, Any] = Field(default_factory=dict)


class Bootstrap(_Strict):
    """`n` resamples with `seed`; `n: 0` uses the method's bootstrap-free intervals."""

    n: int = Field(default=0, ge=0, le=100_000)
    seed: int = 0


class GroupView(_Strict):
    """A per-group view (DICES-style): one ranking per rater group.

    `column`: `group` takes every value of the `group` detail column as a group; a demographic
    name (e.g. `rater_age`) takes the values written `rater_age=VALUE`. `rule` combines the groups'
    rankings into one (`copeland` or `schulze`); a maximin view (worst group first) is added too.
    """

    column: str = Field(default="group", min_length=1)
    rule: Literal["copeland", "schulze"] = "copeland"


class LeaderboardSpec(_Strict):
    """A leaderboard: the selection, the ranking method, and how it is published."""

    name: Name
    title: str = Field(min_length=1, max_length=200)
    description: str = ""
    selection: Selection = Field(default_factory=Selection)
    aggregator: AggregatorChoice = Field(default_factory=AggregatorChoice)
    also_show: list[str] = Field(default_factory=list)
    bootstrap: Bootstrap = Field(default_factory=Bootstrap)
    groups: GroupView | None = None
    license: str = Field(default="cc-by-4.0", min_length=1)
    tags: list[str] = Field(default_factory=list)
    top_n_plot: int = Field(default=40, ge=1, le=10_000, description="models shown in the CI plot")

    _source: Path | None = PrivateAttr(default=None)

    @field_validator("aggregator", mode="before")
    @classmethod
    def _method_shorthand(cls, v: Any) -> Any:
        return {"method": v} if isinstance(v, str) else v

    @field_validator("also_show", mode="before")
    @classmethod
    def _also_show_list(cls, v: Any) -> Any:
        if isinstance(v, str):
            return [p.strip() for p in v.split(",") if p.strip()]
        return v

    @model_validator(mode="after")
    def _distinct_methods(self) -> LeaderboardSpec:
        seen = [self.aggregator.method, *self.also_show]
        dup = sorted({m for m in seen if seen.count(m) > 1})
        if dup:
            raise ValueError(f"also_show: {', '.join(dup)} listed twice (or repeats the aggregator method)")
        return self

    @property
    def source(self) -> Path | None:
        return self._source

    def canonical_json(self) -> str:
        """The spec as canonical JSON (sorted keys, defaults included): what the hash covers.

        Fields added after the first release are left out while at their default, so the hash
        of a spec written before them does not change."""
        data = self.model_dump(mode="json")
        for key, default in _LATER_SELECTION_FIELDS.items():
            if data["selection"].get(key) == default:
                del data["selection"][key]
        return json.dumps(data, sort_keys=True, separators=(",", ":"))

    def spec_hash(self) -> str:
        """sha256 of `canonical_json()`, hex: names this exact spec in commits and cards."""
        return hashlib.sha256(self.canonical_json().encode()).hexdigest()


def load_leaderboard_spec(path: str | Path) -> LeaderboardSpec:
    """Load a YAML leaderboard spec; errors name the file and the field (SampleBenchError)."""
    return load_spec(LeaderboardSpec, path)


def leaderboard_spec_from_dict(data: dict[str, Any], where: str = "leaderboard spec") -> LeaderboardSpec:
    return build_spec(LeaderboardSpec, data, where)
