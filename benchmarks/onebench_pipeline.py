"""ONEBench's aggregation pipeline as a command, the peer of `bench aggregate --input FILE`:
read the measurement file with polars, self-join it on (task, sample_id) into every within-sample
pair, count a >= b as a win for a (a tie counted both ways), fill the dense comparison matrix and
fit `choix.ilsr_pairwise_dense`. Prints {"model": strength} as JSON.

    python benchmarks/onebench_pipeline.py FILE.parquet
"""

from __future__ import annotations

import json
import sys


def main(path: str) -> None:
    import choix
    import numpy as np
    import polars as pl

    long = pl.read_parquet(path, columns=["model", "task", "sample_id", "value"]).drop_nulls("value")
    names = long["model"].unique().sort()
    long = long.with_columns(pl.col("model").replace_strict(names, pl.int_range(names.len(), eager=True)).alias("m"))
    pairs = (long.join(long, on=["task", "sample_id"], suffix="_b")
             .filter((pl.col("m") != pl.col("m_b")) & (pl.col("value") >= pl.col("value_b")))
             .group_by(["m", "m_b"]).len())
    n = names.len()
    comp = np.zeros((n, n))
    comp[pairs["m"].to_numpy(), pairs["m_b"].to_numpy()] = pairs["len"].to_numpy()
    strength = choix.ilsr_pairwise_dense(comp, alpha=0.0)
    print(json.dumps(dict(zip(names.to_list(), strength.tolist(), strict=True))))


if __name__ == "__main__":
    main(sys.argv[1])
