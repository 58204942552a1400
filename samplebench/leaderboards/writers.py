"""Deterministic writers: tables as Parquet/CSV/JSON, samples, plot, page and card.

Byte-identical rebuilds: Parquet files carry only the Arrow schema (no pandas metadata, no
timestamps; `created_by` names the pyarrow version), CSV and JSON are written from the same
table with fixed column order and `repr`-exact floats, and the PNG has no Software/date chunks.
Each file is published by an atomic rename; stale `samples/` files from an earlier build of a
wider selection are removed.
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
    """Write every artifact of `build` into `out`; return the files written (sorted)."""
    from .card import dataset_card
    from .page import html_page
    from .plots import ranking_png

    out.mkdir(parents=True, exist_ok=True)
    files = [
        write_parquet(build.table, out / "leaderboard.parquet"),
        write_csv(build.table, out / "leaderboard.csv"),
        write_text(out / "leaderboard.json", leaderboard_json(build)),
    ]
    groups = out / "groups.parquet"
    if build.group_table is not None:
        files.append(write_parquet(build.group_table, groups))
    else:
        groups.unlink(missing_ok=True)
    sample_dir = out / "samples"
    wanted = {sample_file_name(t): t for t in build.samples}
    for name, task in sorted(wanted.items()):
        files.append(write_parquet(plain_table(build.samples[task]), sample_dir / name))
    if sample_dir.is_dir():
        for p in sample_dir.glob("*.parquet"):
            if p.name not in wanted:
                p.unlink()
    png = ranking_png(build)
    files.append(publish(out / "ranking.png", lambda tmp: tmp.write_bytes(png)))
    files.append(write_text(out / "index.html", html_page(build, png)))
    files.append(write_text(out / "README.md", dataset_card(build, sample_files=sorted(wanted))))
    return sorted(files)
