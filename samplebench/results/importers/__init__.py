"""Importers: other harnesses' result files -> the canonical sample-level tables.

Each format is an `Importer` declaration (its name, the file suffixes it reads, its options, the
largest plausible input file, and a reader); `driver.run` does the rest for every format alike:
options, walking, file checks, names, the content hash, the non-finite-value rule, atomic
staging and the summary (see `driver`). `IMPORTERS[name](store, path, **options)` imports. An
import is atomic (all rows of one call become visible together, or none) and idempotent (the
same content twice adds nothing).

| format | reads | one row per |
|---|---|---|
| `canonical` | `.parquet`/`.csv`/`.jsonl` files in the canonical columns (by suffix) | as written |
| `parquet`, `csv`, `jsonl` | one canonical format | (model, task, sample, metric) as written |
| `mteb` | MTEB's `org__model/revision/Task.json` layout | (model, task, split/subset, score key) |
| `mteb-scores` | MTEB's long main-score table (CSV) | (model, task, split/subset) main score |
| `lm-eval` | lm-evaluation-harness `samples_*.jsonl` + `results_*.json` | (doc, metric[,filter]) |
| `inspect` | inspect_ai `.eval` (zip, zstd) and `.json` logs | (sample id, epoch, scorer) |
| `onebench` | ONEBench wide parquet (model x sample) or pairwise parquet | (model, sample) / judgement |
| `colombo` | "What are the best systems?" instance-level CSVs | (system, instance, metric) |
| `samples` | sample cards (JSON Lines: task, sample_id, text, metadata) | (task, sample) card |

`lm-eval` and `inspect` also write sample cards (what each sample is: text and metadata) from
their logs, and `samples` writes only cards (see `driver`, step 7, and each module).

Model names are normalised (`org__name` -> `org/name`) and mapped through an alias table
(`aliases=` a YAML/JSON file or mapping, merged over `$SAMPLEBENCH_HOME/aliases.yaml`).
"""

from __future__ import annotations

from . import canonical, colombo, inspect_logs, lm_eval, mteb, onebench, samples
from .driver import ImportContext, Importer
from .summary import ImportSummary

IMPORTERS: dict[str, Importer] = {
    imp.name: imp
    for imp in (
        canonical.CANONICAL, *canonical.BY_FORMAT.values(), mteb.IMPORTER, mteb.SCORES_IMPORTER,
        lm_eval.IMPORTER, inspect_logs.IMPORTER, onebench.IMPORTER, colombo.IMPORTER, samples.IMPORTER,
    )
}

FORMAT_HELP: dict[str, str] = {name: imp.help for name, imp in IMPORTERS.items()}

__all__ = ["FORMAT_HELP", "IMPORTERS", "ImportContext", "ImportSummary", "Importer"]
