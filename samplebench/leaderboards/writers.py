"""Deterministic writers: tables as Parquet/CSV/JSON, samples, plot, page and card.

Byte-identical rebuilds: Parquet files carry only the Arrow schema (no pandas metadata, no
timestamps; `created_by` names the pyarrow version), CSV and JSON are written from the same
table with fixed column order and `repr`-exact floats, and the PNG has no Software/date chunks.
A build is published all or nothing: rendered into a staging folder, then moved into the output
folder by renames; stale `samples/` files from an earlier build of a wider selection are removed.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from .._atomic import publish

if TYPE_CHECKING:
    from .build import LeaderboardBuild

ARTIFACTS = ("leaderboard.parquet", "leaderboard.csv", "leaderboard.json", "samples/", "ranking.png", "index.html",
             "README.md")
_SAFE = re.compile(r"[^A-Za-z0-9._-]")


def sample_file_name(task: str) -> str:
    """`samples/<task>.parquet` with unsafe characters replaced (plus a short hash when changed)."""
    safe = _SAFE.sub("_", task).lstrip(".") or "task"
    if safe != task:
        safe = f"{safe}-{hashlib.sha1(task.encode()).hexdigest()[:6]}"
    return f"{safe}.parquet"


def write_parquet(table: pa.Table, path: Path) -> Path:
    table = table.replace_schema_metadata(None)
    return publish(path, lambda tmp: pq.write_table(table, tmp, compression="zstd", row_group_size=1 << 20))


def plain_table(table: pa.Table) -> pa.Table:
    """Dictionary-encoded columns cast to their value type, one chunk per column (Parquet readers such
    as `datasets` then see plain strings; Parquet dictionary-encodes them on disk anyway)."""
    cols = {}
    for name in table.column_names:
        col = table[name]
        if pa.types.is_dictionary(col.type):
            col = col.cast(col.type.value_type)
        cols[name] = col.combine_chunks()
    return pa.table(cols)


def write_csv(table: pa.Table, path: Path) -> Path:
    return publish(path, lambda tmp: pacsv.write_csv(table, tmp))


def _clean(v: Any) -> Any:
    if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
        return None
    return v


def table_records(table: pa.Table) -> list[dict[str, Any]]:
    return [{k: _clean(v) for k, v in row.items()} for row in table.to_pylist()]


def leaderboard_json(build: LeaderboardBuild) -> str:
    from .. import __version__

    spec = build.spec
    doc = {
        "name": spec.name,
        "title": spec.title,
        "spec_hash": build.spec_hash,
        "method": build.ranking.method,
        "score_scale": build.ranking.score_scale,
        "also_show": list(spec.also_show),
        "samplebench_version": __version__,
        "run_ids": build.run_ids,
        "n_measurements": build.n_measurements,
        "n_samples_selected": build.n_ballots,
        "columns": build.table.column_names,
        "rows": table_records(build.table),
        "warnings": build.warnings,
        "excluded": dict(sorted(build.excluded.items())),
    }
    return json.dumps(doc, indent=1, ensure_ascii=False, allow_nan=False) + "\n"


def write_text(path: Path, text: str) -> Path:
    return publish(path, lambda tmp: tmp.write_bytes(text.encode("utf-8")))


def write_outputs(build: LeaderboardBuild, out: Path) -> list[Path]:
    """Write every artifact of `build` into `out`, all or nothing; return the files written (sorted).

    Every artifact is rendered into a staging folder beside `out` first; only when all of them
    exist are they moved in (a new `out` by one rename of the folder, an existing one file by
    file, each an atomic `os.replace`, then stale `samples/` files are removed). A failure while
    rendering (a plot, the page, the card) leaves `out` as it was.
    """
    import os
    import shutil
    import uuid

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = out.parent / f".{out.name}.staging-{uuid.uuid4().hex[:8]}"
    try:
        staged = _render(build, staging)
        if not out.exists():
            os.rename(staging, out)
            return sorted(out / p.relative_to(staging) for p in staged)
        if not out.is_dir():
            from ..errors import SampleBenchError

            raise SampleBenchError(f"--out {out} is a file, not a folder")
        files = []
        for p in sorted(staged):
            target = out / p.relative_to(staging)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(p, target)
            files.append(target)
        if build.group_table is None:
            (out / "groups.parquet").unlink(missing_ok=True)
        wanted = {p.name for p in files if p.parent.name == "samples"}
        if (out / "samples").is_dir():
            for p in (out / "samples").glob("*.parquet"):
                if p.name not in wanted:
                    p.unlink()
        return sorted(files)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _render(build: LeaderboardBuild, folder: Path) -> list[Path]:
    """Every artifact of `build`, written into the (new) `folder`."""
    from .card import dataset_card
    from .page import html_page
    from .plots import ranking_png

    folder.mkdir(parents=True)
    files = [
        write_parquet(build.table, folder / "leaderboard.parquet"),
        write_csv(build.table, folder / "leaderboard.csv"),
        write_text(folder / "leaderboard.json", leaderboard_json(build)),
    ]
    if build.group_table is not None:
        files.append(write_parquet(build.group_table, folder / "groups.parquet"))
    wanted = {sample_file_name(t): t for t in build.samples}
    for name, task in sorted(wanted.items()):
        files.append(write_parquet(plain_table(build.samples[task]), folder / "samples" / name))
    png = ranking_png(build)
    files.append(publish(folder / "ranking.png", lambda tmp: tmp.write_bytes(png)))
    files.append(write_text(folder / "index.html", html_page(build, png)))
    files.append(write_text(folder / "README.md", dataset_card(build, sample_files=sorted(wanted))))
    return files
