"""The manifest: one small JSON file per run under `runs/`, replaced atomically as the run goes on."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .._atomic import write_text_atomic


class MetricInfo(BaseModel):
    """What a run knows about one (task, metric): direction, kind, and whether it is the main score."""

    model_config = ConfigDict(extra="forbid")

    higher_is_better: bool = True
    kind: str | None = None
    main: bool = False


class RunRecord(BaseModel):
    model_config = ConfigDict(extra="allow")

    run_id: str
    kind: Literal["evaluate", "import", "write"] = "write"
    status: Literal["running", "finished", "failed"] = "running"
    started_at: dt.datetime = Field(default_factory=lambda: dt.datetime.now(dt.UTC))
    finished_at: dt.datetime | None = None
    samplebench_version: str = ""
    command: str | None = None
    source: str | None = None
    source_hash: str | None = None
    models: list[str] = Field(default_factory=list)
    tasks: list[str] = Field(default_factory=list)
    metrics: list[str] = Field(default_factory=list)
    n_rows: int = 0
    n_pairwise: int = 0
    n_errors: int = 0
    shards: list[str] = Field(default_factory=list)
    metric_info: dict[str, dict[str, MetricInfo]] = Field(
        default_factory=dict, description="task -> metric -> MetricInfo, as declared by the writer"
    )
    meta: dict[str, Any] = Field(default_factory=dict)

    def save(self, runs_dir: Path) -> None:
        write_text_atomic(runs_dir / f"{self.run_id}.json", self.model_dump_json(indent=2))

    @classmethod
    def load(cls, path: Path) -> RunRecord:
        return cls.model_validate_json(path.read_text(encoding="utf-8"))
