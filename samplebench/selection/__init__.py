"""Which measurements: models, tasks, tags, task types, metrics, benchmarks, sample ids.

The layer between the results (store or file) and the aggregators. It reads a selection in one
scan with the filters pushed down and hands on Arrow tables plus each metric's direction and
each task's main metric (`Measurements`); `select_evidence` turns those into the aggregators'
ballots. It ranks nothing.

    from samplebench.selection import Selection, read_store, select_evidence
    m = read_store(ResultStore(), Selection.of(benchmark="MTEB(eng, v2)"))   # Arrow tables by task
    ev = select_evidence(ResultStore(), tags=["mteb-eng-v2"])                 # ballots
"""

from .._lazy import lazy_exports
from .directions import resolve_directions
from .evidence import EXECUTORS, evidence, evidence_from_file, select_evidence, task_evidence
from .query import Selection
from .read import Chunk, Measurements, read, read_file, read_store

# The benchmark definitions (pydantic models) and the table helpers load on first use (PEP 562):
# reading a file for `bench aggregate --input` needs neither.
_LAZY = {"Benchmark": "benchmarks", "BenchmarkTask": "benchmarks", "list_benchmarks": "benchmarks",
         "resolve_benchmark": "benchmarks", "main_score_table": "tables"}
__getattr__, __dir__ = lazy_exports(__name__, globals(), _LAZY)


__all__ = [
    "EXECUTORS",
    "Benchmark",
    "BenchmarkTask",
    "Chunk",
    "Measurements",
    "Selection",
    "evidence",
    "evidence_from_file",
    "list_benchmarks",
    "main_score_table",
    "read",
    "read_file",
    "read_store",
    "resolve_benchmark",
    "resolve_directions",
    "select_evidence",
    "task_evidence",
]
