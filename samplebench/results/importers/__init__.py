"""Importers: other harnesses' result files -> the canonical sample-level tables.

Each importer is a function `(store, path, **options) -> ImportSummary` registered in `IMPORTERS`
under the name `bench results import --format NAME` uses. An import is atomic (all rows of one
call become visible together, or none) and idempotent (the same content twice adds nothing).

| format | reads | one row per |
|---|---|---|
| `parquet`, `csv`, `jsonl` | the canonical columns | (model, task, sample, metric) as written |
| `mteb` | MTEB's `org__model/revision/Task.json` layout | (model, task, split/subset, score key) |
| `mteb-scores` | MTEB's long main-score table (CSV) | (model, task, split/subset) main score |
| `lm-eval` | lm-evaluation-harness `samples_*.jsonl` + `results_*.json` | (doc, metric[,filter]) |
| `inspect` | inspect_ai `.eval` (zip) and `.json` logs | (sample id, epoch, scorer) |
| `onebench` | ONEBench wide parquet (model x sample) or pairwise parquet | (model, sample) / judgement |
| `colombo` | "What are the best systems?" instance-level CSVs | (system, instance, metric) |
| `samples` | sample cards (JSON Lines: task, sample_id, text, metadata) | (task, sample) card |

Model names are normalised (`org__name` -> `org/name`) and mapped through an alias table
(`aliases=` a YAML/JSON file or mapping, merged over `$SAMPLEBENCH_HOME/aliases.yaml`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..io import FORMATS, file_hash, read_table
from ..store import ResultStore
from .summary import ImportSummary, summarise

Importer = Callable[..., ImportSummary]


def import_canonical(store: ResultStore, path: Path, *, fmt: str, kind: str = "measurements",
                     aliases=None, **unknown) -> ImportSummary:
    """A table already in the canonical columns (Parquet, CSV or JSON Lines).

    With `aliases`, model names (`model`, or `model_a`/`model_b` for pairwise tables) are
    normalised through the alias table first.
    """
    from ._common import refuse_options

    refuse_options(unknown, fmt)
    path = Path(path)
    table = read_table(path, fmt)
    source_hash = file_hash(path)
    if aliases is not None:
        import json

        from ._common import rename_models
        from .aliases import ModelNames

        names = ModelNames(aliases)
        table = rename_models(table, names, ("model_a", "model_b") if kind == "pairwise" else ("model",))
        source_hash = f"{source_hash}:{json.dumps(sorted(names.table.items()))}"
    record = store.import_tables([(kind, table)], source=str(path), source_hash=source_hash)
    return summarise(record, source=str(path), format=fmt)


def _lazy(module: str, func: str) -> Importer:
    def call(store: ResultStore, path: Path, **kwargs) -> ImportSummary:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{module}"), func)(store, path, **kwargs)

    call.__name__ = func
    return call


IMPORTERS: dict[str, Importer] = {
    fmt: (lambda store, path, _fmt=fmt, **kw: import_canonical(store, path, fmt=_fmt, **kw)) for fmt in FORMATS
}
IMPORTERS.update({
    "mteb": _lazy("mteb", "import_mteb"),
    "mteb-scores": _lazy("mteb", "import_mteb_scores"),
    "lm-eval": _lazy("lm_eval", "import_lm_eval"),
    "inspect": _lazy("inspect_logs", "import_inspect"),
    "onebench": _lazy("onebench", "import_onebench"),
    "colombo": _lazy("colombo", "import_colombo"),
    "samples": _lazy("samples", "import_samples"),
})

FORMAT_HELP: dict[str, str] = {
    "parquet": "canonical measurement (or --pairwise judgement) table, Parquet",
    "csv": "canonical measurement (or --pairwise judgement) table, CSV",
    "jsonl": "canonical measurement (or --pairwise judgement) table, JSON Lines",
    "mteb": "MTEB results folder org__model/revision/Task.json (task-level: sample = split/subset)",
    "mteb-scores": "MTEB leaderboard main-score table (task, model, model_revision, split, subset, main_score)",
    "lm-eval": "lm-evaluation-harness --log_samples output (samples_<task>_<date>.jsonl + results_<date>.json)",
    "inspect": "inspect_ai logs (.eval zip or .json): one row per (sample, epoch, scorer); C/I/P/N = 1/0/0.5/0",
    "onebench": "ONEBench parquet: wide (model x sample) or pairwise (model_a, model_b, data_instance, winner)",
    "colombo": "'What are the best systems?' instance-level CSVs (System = instance, Utterance = system)",
    "samples": "sample cards, JSON Lines: task, sample_id, text; any other field becomes metadata",
}

__all__ = ["FORMAT_HELP", "IMPORTERS", "ImportSummary", "import_canonical"]
