"""Strict pydantic schemas for what users write: task specs and model specs.

Every model forbids unknown fields (`extra="forbid"`), so a typo is an error that names the field,
not a silently ignored key. Languages are validated when a spec is built.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    PrivateAttr,
    StringConstraints,
    field_validator,
    model_validator,
)

from .languages import validate_language
from .task_types import TASK_TYPES, MetricKind, TaskType

NAME_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,99}$"
Name = Annotated[str, AfterValidator(lambda v: _check_name(v))]
Slug = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9 ._:/+-]{0,99}$")]
Language = Annotated[str, AfterValidator(validate_language)]

# `org/name` or a bare canonical name on the Hub; anything with a scheme is a URL.
_HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*(/[A-Za-z0-9][A-Za-z0-9_.-]*)?$")
_FILE_SUFFIXES = (".csv", ".tsv", ".json", ".jsonl", ".parquet", ".txt", ".arrow")
# `hf://datasets/org/name@revision/...`: a Hub file pinned inside its path.
_HF_PINNED = re.compile(r"hf://datasets/[^/@]+(/[^/@]+)?@[^/]+(/.*)?")


def _check_name(v: str) -> str:
    if not re.fullmatch(NAME_PATTERN, v):  # not re.match: its `$` matches before a trailing newline
        raise ValueError(
            f"'{v}' is not allowed: use 1-100 letters, digits, '.', '_' or '-', starting with a letter or "
            "digit (no path separators)"
        )
    return v


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DatasetRef(StrictModel):
    """Where a task's data lives and which version of it.

    `path` is one of: a Hub dataset id (`mteb/sts12-sts`, then `revision` is required), a URL, or a
    local file or directory (relative paths resolve against the spec file's folder).
    `data_files` is passed to `datasets.load_dataset` as is (a path, list, or `{split: path}`).
    """

    path: str = Field(min_length=1)
    revision: str | None = None
    name: str | None = None
    splits: list[str] | None = None
    data_files: str | list[str] | dict[str, str | list[str]] | None = None

    @property
    def is_url(self) -> bool:
        return "://" in self.path

    @property
    def is_local(self) -> bool:
        p = self.path
        return (
            not self.is_url
            and (
                p.startswith((".", "/", "~"))
                or p.lower().endswith(_FILE_SUFFIXES)
                or not _HUB_ID.fullmatch(p)
                or Path(p).exists()
            )
        )

    @property
    def is_hub(self) -> bool:
        return not self.is_url and not self.is_local

    @model_validator(mode="after")
    def _hub_needs_revision(self) -> DatasetRef:
        if self.path.lower().startswith("hf://") and not self.revision and not _HF_PINNED.fullmatch(self.path):
            raise ValueError(
                f"dataset '{self.path}' is on the Hub, so it must be pinned: set 'revision' (a commit hash or "
                "tag) or write hf://datasets/ORG/NAME@REVISION/..."
            )
        if self.is_hub and not self.revision:
            raise ValueError(
                f"dataset '{self.path}' looks like a Hub dataset id, so 'revision' is required "
                "(a commit hash or tag); for a local file start the path with './'"
            )
        return self


class MetricSpec(StrictModel):
    name: Name
    kind: MetricKind
    higher_is_better: bool
    range: tuple[float, float] | None = None
    description: str | None = None

    @model_validator(mode="after")
    def _range_ordered(self) -> MetricSpec:
        if self.range is not None and not self.range[0] < self.range[1]:
            raise ValueError(f"range of metric '{self.name}' must be [low, high] with low < high")
        return self


class RaterSpec(StrictModel):
    """Multi-rater (DICES-style) tasks: which columns describe the raters."""

    demographics: list[str] = Field(default_factory=list)
    min_group_size: int = Field(default=5, ge=1)
    aggregation: Literal["majority", "majority_ignore_unsure", "soft", "group_majority", "gold"] = "majority"


class TaskSpec(StrictModel):
    """A registered task: a dataset, how its columns map to roles, and the metrics it records."""

    name: Name
    version: str = Field(min_length=1)
    description: str
    type: TaskType
    dataset: DatasetRef
    columns: dict[str, str] = Field(default_factory=dict)
    metrics: list[MetricSpec] = Field(min_length=1)
    main_metric: str
    languages: list[Language] = Field(default_factory=list)
    domains: list[Slug] = Field(default_factory=list)
    tags: list[Slug] = Field(default_factory=list)
    license: str | None = None
    reference: HttpUrl | None = None
    citation: str | None = None
    raters: RaterSpec | None = None
    options: dict[str, Any] = Field(
        default_factory=dict,
        description="type-specific evaluator options, validated by the task type's evaluator",
    )

    _source: Path | None = PrivateAttr(default=None)

    @field_validator("version", mode="before")
    @classmethod
    def _version_is_text(cls, v: Any) -> Any:
        if isinstance(v, int | float) and not isinstance(v, bool):
            raise ValueError(f"version must be a quoted string, e.g. version: \"{v}\"")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> TaskSpec:
        names = [m.name for m in self.metrics]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ValueError(f"metric names must be unique; repeated: {', '.join(sorted(dup))}")
        if self.main_metric not in names:
            raise ValueError(f"main_metric '{self.main_metric}' is not one of the metrics: {', '.join(names)}")
        roles = TASK_TYPES[self.type]
        unknown = sorted(set(self.columns) - roles.allowed)
        if unknown:
            raise ValueError(
                f"columns: unknown role(s) {', '.join(unknown)} for type '{self.type}'; "
                f"allowed: {', '.join(sorted(roles.allowed))}"
            )
        missing = sorted(roles.required - set(self.columns))
        if missing:
            raise ValueError(f"columns: type '{self.type}' needs role(s) {', '.join(missing)}")
        if self.type == "safety_rating" and self.raters is None:
            raise ValueError("type 'safety_rating' needs a 'raters' section (demographic columns)")
        return self

    @property
    def source(self) -> Path | None:
        """The YAML file this spec was loaded from, if any."""
        return self._source

    def metric(self, name: str) -> MetricSpec:
        for m in self.metrics:
            if m.name == name:
                return m
        raise KeyError(name)

    def resolved_dataset_path(self) -> str:
        """The dataset path with a relative local path resolved against the spec's folder."""
        ds = self.dataset
        if not ds.is_local:
            return ds.path
        p = Path(ds.path).expanduser()
        if not p.is_absolute() and self._source is not None:
            p = self._source.parent / p
        return str(p.resolve())

    def revision_hash(self, dataset_revision: str | None = None) -> str:
        """`task_revision`: a short hash of the spec's content plus the dataset revision it runs on.

        For Hub datasets the pinned `dataset.revision` is part of the spec; for local files the
        runner passes a content hash of the files as `dataset_revision`.
        """
        payload = self.model_dump(mode="json", exclude={"description", "citation", "reference"})
        payload["dataset_revision"] = dataset_revision
        text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:16]




class ModelSpec(StrictModel):
    """A registered model: which adapter loads it and with what arguments."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    adapter: Name = Field(description="adapter name, validated by samplebench.runners when the model loads")
    revision: str | None = None
    args: dict[str, Any] = Field(default_factory=dict)
    description: str | None = None

    _source: Path | None = PrivateAttr(default=None)

    @property
    def source(self) -> Path | None:
        return self._source
