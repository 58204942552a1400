"""Writes the shipped snapshot of MTEB's benchmark definitions (run when mteb is upgraded).

    python -m samplebench.selection.snapshot

Every `mteb.get_benchmarks()` entry becomes a `Benchmark` (tasks with their eval splits and the
subsets mteb keeps); the file records mteb's version, so `benchmarks.mteb_benchmark` knows when
the installed mteb is a different one and asks it instead. Requires `mteb` (a dev dependency).
"""

from __future__ import annotations

import gzip
import json
import warnings
from pathlib import Path

from .benchmarks import SNAPSHOT, from_mteb


def write_snapshot(path: Path | None = None) -> Path:
    import mteb

    path = path or Path(__file__).with_name(SNAPSHOT)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        benches = [from_mteb(b).model_dump(mode="json", exclude_none=True) for b in mteb.get_benchmarks()]
    data = {"mteb_version": mteb.__version__, "benchmarks": benches}
    text = json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
    path.write_bytes(gzip.compress(text, mtime=0))
    return path


if __name__ == "__main__":
    print(write_snapshot())
