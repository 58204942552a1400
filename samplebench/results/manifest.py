"""The manifest: one small JSON file per run under `runs/`, replaced atomically as the run goes on.

A run records the process that writes it (`writer`: host, pid and the process's start time), so
a reader can tell a run that is still being written from one whose writer was killed: `state()`
says `interrupted` for a `running` run whose process is gone (the pid is free, or now belongs to
a process that started at another time). Runs written on another host stay `running` (unknown).
"""

from __future__ import annotations

import datetime as dt
import os
import socket
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
    # `publishing`: an import whose shards are being renamed into place (see ResultStore.import_tables)
    status: Literal["running", "publishing", "finished", "failed"] = "running"
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
    writer: dict[str, Any] | None = Field(
        default=None, description="the writing process: host, pid, start (clock ticks after boot, Linux)"
    )

    def save(self, runs_dir: Path) -> None:
        write_text_atomic(runs_dir / f"{self.run_id}.json", self.model_dump_json(indent=2))

    @classmethod
    def load(cls, path: Path) -> RunRecord:
        return cls.model_validate_json(path.read_text(encoding="utf-8"))

    def state(self) -> str:
        """`status`, except `interrupted` for an unfinished run whose writing process is gone."""
        if self.status in ("running", "publishing") and writer_alive(self.writer) is False:
            return "interrupted"
        return self.status


def process_identity() -> dict[str, Any]:
    """Who is writing: enough to tell later whether this very process is still alive."""
    pid = os.getpid()
    return {"host": socket.gethostname(), "pid": pid, "start": _start_ticks(pid)}


def _proc_stat(pid: int) -> list[str] | None:
    """Fields 3.. of /proc/PID/stat (after the parenthesised command name), or None."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (OSError, ValueError):
        return None
    return text.rsplit(")", 1)[-1].split()


def _start_ticks(pid: int) -> int | None:
    fields = _proc_stat(pid)
    return int(fields[19]) if fields and len(fields) > 19 else None  # field 22: starttime


def writer_alive(writer: dict[str, Any] | None) -> bool | None:
    """True/False when this host can tell whether `writer` still runs; None when it cannot."""
    if not writer or writer.get("host") != socket.gethostname() or not isinstance(writer.get("pid"), int):
        return None
    pid = writer["pid"]
    if Path("/proc/self/stat").exists():  # Linux: the pid plus its start time name one process
        fields = _proc_stat(pid)
        if fields is None or fields[0] in ("Z", "X"):  # gone, or a zombie nobody reaped yet
            return False
        return writer.get("start") is None or int(fields[19]) == writer["start"]
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
