"""Which measurements: models, tasks, tags, task types, metrics, benchmarks, sample ids.

The layer between the results (store or file) and the aggregators. It reads a selection in one
scan with the filters pushed down and hands on Arrow tables plus each metric's direction and
each task's main metric (`Measurements`); `select_evidence` turns those into the aggregators'
ballots. It ranks nothing.

    from samplebench.selection import Selection, read_store, select_evidence
    m = read_store(ResultStore(), Selection.of(benchmark="MTEB(eng, v2)"))   # Arrow tables by task
    ev = select_evidence(ResultStore(), tags=["mteb-eng-v2"])                 # ballots
"""

from .benchmarks import Benchmark, BenchmarkTask, list_benchmarks, resolve_benchmark
from .directions import resolve_directions
from .evidence import EXECUTORS, evidence, evidence_from_file, select_evidence, task_evidence
from .query import Selection
from .read import Chunk, Measurements, read, read_file, read_store
from .tables import main_score_table

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
