"""Selections as Evidence: the read (this package) handed to the aggregators' pure builder.

`select_evidence(store, ...)` = `read_store` (one scan) + one `EvidenceBuilder` part per task,
merged in task order (`merge_evidence`): the same Evidence one builder fed each task's rows in
order builds. `executor="ray"` builds the parts in Ray workers from the tables the one scan read.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..aggregators.evidence import Evidence, EvidenceBuilder, merge_evidence
from ..errors import SampleBenchError
from .query import Selection
from .read import Chunk, Measurements, read_file, read_store

EXECUTORS = ("local", "ray")


def chunk_evidence(chunk: Chunk, models: Sequence[str] | None, directions: dict[tuple[str, str], bool],
                   notes: Sequence[str] = (), where: str | None = None) -> Evidence:
    """One chunk's ballots and pairwise judgements, with vocabularies of its own."""
    builder = EvidenceBuilder(models or [], higher_is_better=directions)
    builder.notes.extend(notes)
    if chunk.table.num_rows:
        builder.add_table(chunk.table, where=where or (f"store task {chunk.task}" if chunk.task else "input"))
    if chunk.pairwise is not None and chunk.pairwise.num_rows:
        builder.add_pairwise_table(chunk.pairwise)
    return builder.build()


def evidence(m: Measurements, *, executor: str = "local") -> Evidence:
    """Ballots of every chunk of `m`, merged in order; the chunks are released as they are used."""
    if executor not in EXECUTORS:
        raise SampleBenchError(f"executor must be one of {', '.join(EXECUTORS)}, got {executor!r}")
    models = m.models or []
    task_notes = {}
    for n in m.notes:  # notes about one task travel with its part, the rest go first
        task_notes.setdefault(next((t for t in m.metrics if n.startswith(f"task {t}:")), None), []).append(n)
    lead = task_notes.pop(None, [])

    def dirs(c: Chunk) -> dict:
        return m.directions if c.task is None else {k: v for k, v in m.directions.items() if k[0] == c.task}

    if executor == "ray":
        from .._ray import ray_session

        ray = ray_session()
        remote = ray.remote(num_cpus=1)(chunk_evidence)
        parts = ray.get([remote.remote(c, models, dirs(c), task_notes.get(c.task, ()),
                                       None if c.task else m.source) for c in m.release()])
    else:
        parts = [chunk_evidence(c, models, dirs(c), task_notes.get(c.task, ()), None if c.task else m.source)
                 for c in m.release()]
    ev = parts[0] if len(parts) == 1 else merge_evidence(parts, models)
    ev.notes = list(dict.fromkeys([*lead, *ev.notes]))
    if models:
        counts = ev.samples_per_model()
        absent = [x for x in models if x not in ev.models or counts[ev.models.index(x)] == 0]
        if absent:
            ev.notes.append(f"model(s) with no measurement in the selection: {', '.join(absent)}")
    return ev


def select_evidence(
    store,
    models: Sequence[str] | None = None,
    tasks: Sequence[str] | None = None,
    metrics: Sequence[str] | None = None,
    tags: Sequence[str] | None = None,
    registry=None,
    *,
    pairwise: bool = True,
    all_metrics: bool = False,
    executor: str = "local",
    benchmark=None,
    task_types: Sequence[str] | None = None,
    sample_ids=None,
) -> Evidence:
    """Ballots of the selected measurements of `store` (a ResultStore), read in one scan.

    * `tasks` / `tags` / `task_types` (from the registry) / `benchmark` select tasks; `models`,
      `metrics` filter; `sample_ids` (task -> ids) keeps only those samples of a task.
    * Metric: the given `metrics`, else each task's main metric (registry `main_metric` when the
      data hold it, else the metric a run marked `main`), else a task's only metric; a task with
      several metrics and no main one uses all of them, with a note. `all_metrics=True` uses all.
    * Direction: registry TaskSpec, else what the runs recorded; a metric whose direction neither
      declares does not vote (one note lists them).
    * Pairwise judgements of the selected tasks and models are added unless `pairwise=False`.

    `executor="ray"` builds each task's ballots in a Ray worker (`ray.init()`: `$RAY_ADDRESS`,
    else a local cluster) from the rows the one scan read, and gives the same Evidence.
    """
    if executor not in EXECUTORS:
        raise SampleBenchError(f"executor must be one of {', '.join(EXECUTORS)}, got {executor!r}")
    sel = Selection.of(models=models, tasks=tasks, metrics=metrics, tags=tags, task_types=task_types,
                       benchmark=benchmark, sample_ids=sample_ids, all_metrics=all_metrics, pairwise=pairwise)
    return evidence(read_store(store, sel, registry, columns=[]), executor=executor)


def task_evidence(store, task: str, specs: dict, store_info: dict, *, models: list[str] | None,
                  metrics: list[str] | None, pairwise: bool, all_metrics: bool) -> Evidence:
    """One task's Evidence, read on its own (`specs`: task -> its TaskSpec when registered,
    `store_info`: task -> its MetricInfos) — what `select_evidence` builds for that task."""
    sel = Selection.of(models=models, tasks=[task], metrics=metrics, all_metrics=all_metrics, pairwise=pairwise)
    return evidence(read_store(store, sel, specs, columns=[], metric_info=store_info))


def evidence_from_file(path: str | Path, *, models=None, tasks=None, metrics=None, registry=None,
                       directions: dict[tuple[str, str], bool] | None = None) -> Evidence:
    """Ballots from a Parquet/CSV file in the canonical columns (`--input`); `directions`
    overrides the (task, metric) directions (they are then not noted as unknown)."""
    m = read_file(path, Selection.of(models=models, tasks=tasks, metrics=metrics), registry)
    if directions:
        m.directions.update(directions)
        unknown = [(t, k) for t, ks in m.metrics.items() for k in ks
                   if (t, k) not in directions and not _declared(registry, t, k)]
        m.notes = [n for n in m.notes if not n.startswith("direction of ")]
        if unknown:
            from .directions import unknown_note

            m.notes.append(unknown_note(unknown, "treated as higher is better"))
    return evidence(m)


def _declared(registry, task: str, metric: str) -> bool:
    if registry is None:
        return False
    from .directions import open_registry

    reg = open_registry(registry)
    return task in reg and metric in {x.name for x in reg.get(task).metrics}


__all__ = ["EXECUTORS", "chunk_evidence", "evidence", "evidence_from_file", "select_evidence", "task_evidence"]
