"""A child process for the crash and concurrency tests: appends batches to a store forever or N times.

usage: python store_writer.py STORE WRITER_ID N_BATCHES ROWS_PER_BATCH
Each row's sample_id is `<writer>-<batch>-<row>` and its value is the batch number, so a reader
can tell exactly which batches are visible and whether any is partial.
"""

from __future__ import annotations

import sys

import numpy as np
import pyarrow as pa

from samplebench.results import ResultStore


def batch(writer: str, b: int, rows: int) -> pa.Table:
    ids = np.char.add(f"{writer}-{b}-", np.arange(rows).astype(str))
    return pa.table({
        "model": pa.array([f"model-{writer}"] * rows),
        "task": pa.array(["crash-task"] * rows),
        "sample_id": pa.array(ids),
        "metric": pa.array(["score"] * rows),
        "value": pa.array(np.full(rows, float(b))),
    })


def main() -> None:
    store, writer, n, rows = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    s = ResultStore(store)
    with s.run(kind="write", command=f"writer {writer}") as w:
        for b in range(n):
            w.write(batch(writer, b, rows))
            print(b, flush=True)


if __name__ == "__main__":
    main()
