"""Executors: run the runner's work in this process (default) or spread it over a Ray cluster.

`--executor ray` connects with `ray.init()` (address from `$RAY_ADDRESS`, else a local cluster;
an already initialised Ray is used as is). The driver plans the work — which (task, sample)
cells are missing from the store — and submits one Ray task per unit:

* tasks whose samples are scored independently (`retrieval`, `reranking`, `multiple_choice`,
  `generation`, `pairwise_preference`, `cultural_t2i`) are cut into shards of at most `shard_size`
  samples, each evaluated on its own;
* tasks whose per-sample values depend on the whole set (`classification`, `sts`,
  `pair_classification`, `clustering`, `safety_rating`) are one unit each.

Every unit builds the model in its worker and writes its rows through the same `ResultStore`
(each as a run of its own: shards are published atomically, so concurrent writers are safe), and
shares the embedding cache directory. The driver then reads the store back for the summary.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ..registry import ModelRegistry, TaskSpec
from ..results import ResultStore
from .runner import (
    EvaluationReport,
    TaskReport,
    completed_samples,
    known_sample_ids,
    remember_sample_ids,
    stored_mean,
)

SHARDABLE = {"retrieval", "reranking", "multiple_choice", "generation", "pairwise_preference", "cultural_t2i"}
_ENV = ("SAMPLEBENCH_HOME", "HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "HF_HOME", "HF_HUB_DISABLE_XET",
        "OPENAI_BASE_URL")


def _unit(model: Any, spec_json: dict, ids: list[str] | None, store_root: str, limit: int | None, batch_size: int,
          cache: bool, cache_dir: str | None, command: str | None, retry_errors: bool = False,
          timeout: float | None = None) -> dict:
    """One unit of work, run inside a Ray worker: evaluate `ids` of one task and write them to the store."""
    from ..registry import TaskSpec
    from .runner import evaluate_local

    spec = TaskSpec.model_validate(spec_json["spec"])
    if spec_json.get("source"):
        spec._source = Path(spec_json["source"])
    rep = evaluate_local(model, [spec], store=ResultStore(store_root), limit=limit, batch_size=batch_size,
                          cache=cache, cache_dir=Path(cache_dir) if cache_dir else None, progress=False,
                          command=command, model_registry=None, shard_rows=50_000, log=lambda _m: None,
                          sample_filter=None if ids is None else {spec.name: set(ids)}, retry_errors=retry_errors,
                          timeout=timeout)
    out = asdict(rep.tasks[0])
    out["run_id"], out["model_revision"], out["model_loaded"] = rep.run_id, rep.model_revision, rep.model_loaded
    out["model"] = rep.model
    return out


def evaluate_ray(model: Any, specs: list[TaskSpec], *, store: ResultStore, limit: int | None, batch_size: int,
                 cache: bool, cache_dir: Path | None, command: str | None, model_registry: ModelRegistry | None,
                 shard_size: int = 256, retry_errors: bool = False, timeout: float | None = None,
                 sample_filter: dict[str, set[str]] | None = None) -> EvaluationReport:
    from .._ray import ray_session
    from ..tasks import evaluator_for
    from ..tasks._data import task_revision
    from .runner import model_identity

    t0 = time.perf_counter()
    ray = ray_session()
    name, spec_m, _ = model_identity(model)
    model_arg = spec_m if spec_m is not None else model
    env = {k: os.environ[k] for k in _ENV if k in os.environ}
    remote = ray.remote(num_cpus=1)(_unit).options(runtime_env={"env_vars": env} if env else None)

    futures: list[tuple[str, Any]] = []
    plans: dict[str, tuple[TaskSpec, list[str]]] = {}
    for spec in specs:
        trev = task_revision(spec)
        ids = known_sample_ids(spec.name, trev)
        if ids is None:
            ev = evaluator_for(spec)
            ids = ev.sample_ids(ev.load())
            remember_sample_ids(spec.name, trev, ids)
        if sample_filter is not None and spec.name in sample_filter:
            ids = [i for i in ids if i in sample_filter[spec.name]]
        elif limit is not None:
            ids = ids[:limit]
        plans[spec.name] = (spec, ids)
        done = completed_samples(store, name, spec, trev, retry_errors=retry_errors)
        missing = [i for i in ids if i not in done]
        if not missing:
            continue
        payload = {"spec": spec.model_dump(mode="json"), "source": str(spec.source) if spec.source else None}
        if spec.type in SHARDABLE and len(missing) > shard_size:
            n = math.ceil(len(missing) / shard_size)
            for k in range(n):
                shard = missing[k * shard_size:(k + 1) * shard_size]
                futures.append((spec.name, remote.remote(model_arg, payload, shard, str(store.root), None, batch_size,
                                                         cache, str(cache_dir) if cache_dir else None, command,
                                                         retry_errors, timeout)))
        else:
            chosen = spec.type in SHARDABLE or (sample_filter is not None and spec.name in sample_filter)
            futures.append((spec.name, remote.remote(model_arg, payload, missing if chosen else None,
                                                     str(store.root), limit, batch_size, cache,
                                                     str(cache_dir) if cache_dir else None, command, retry_errors,
                                                     timeout)))
    results = ray.get([f for _, f in futures])
    by_task: dict[str, list[dict]] = {}
    for (task, _), res in zip(futures, results, strict=True):
        by_task.setdefault(task, []).append(res)
    reports: list[TaskReport] = []
    revision = next((r["model_revision"] for rs in by_task.values() for r in rs if r["model_revision"]), None)
    for task_name, (spec, ids) in plans.items():
        parts = by_task.get(task_name, [])
        computed = sum(p["n_computed"] for p in parts)
        rep = TaskReport(task=task_name, n_samples=len(ids), n_computed=computed, n_reused=len(ids) - computed,
                         n_errors=sum(p["n_errors"] for p in parts), main_metric=spec.main_metric,
                         seconds=max((p["seconds"] for p in parts), default=0.0))
        if len(parts) == 1:
            rep.task_scores = parts[0]["task_scores"]
            rep.input_errors = parts[0]["input_errors"]
        errors = [p["error"] for p in parts if p.get("error")]
        rep.error = errors[0] if errors else None
        rep.main_value = stored_mean(store, name, spec, ids)
        reports.append(rep)
    run_ids = [r["run_id"] for rs in by_task.values() for r in rs if r["run_id"]]
    return EvaluationReport(model=name, model_revision=revision, store=store.root, tasks=reports,
                            run_id=run_ids[-1] if run_ids else None,
                            model_loaded=any(r["model_loaded"] for rs in by_task.values() for r in rs),
                            seconds=time.perf_counter() - t0)
