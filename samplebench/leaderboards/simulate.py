"""Seeded simulated measurements: a sparse, heterogeneous store with a known true order.

Model `m` has latent strength `theta_m` (sorted, so `model-000` is the strongest). Task `t` has
samples with difficulty `d_s`; a binary task records `correct ~ Bernoulli(sigmoid(theta_m - d_s))`,
a continuous one records `sigmoid(theta_m - d_s) + noise` on its own scale. Each model is measured
on a random subset of tasks (coverage), and a small fraction of samples carry an `error` instead
of a value. The same arguments always write the same values.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from ..results import MetricInfo, ResultStore
from ..results.schema import MEASUREMENT_SCHEMA, TIMESTAMP


def _strings(indices: np.ndarray, names: pa.Array) -> pa.Array:
    """Plain strings from dictionary indices, built in Arrow (no Python object per row)."""
    return pa.DictionaryArray.from_arrays(pa.array(indices, pa.int32()), names).cast(pa.string())


def _repeat(value: str, n: int) -> pa.Array:
    return _strings(np.zeros(n, np.int32), pa.array([value], pa.string()))


@dataclass
class Simulation:
    """What was written: the true strengths (best first) and which tasks each model ran."""

    models: list[str]
    strengths: dict[str, float]
    tasks: list[str]
    measured: dict[str, list[str]] = field(default_factory=dict)
    n_rows: int = 0
    run_ids: list[str] = field(default_factory=list)


def simulate_store(
    store: ResultStore,
    *,
    n_models: int = 8,
    n_tasks: int = 4,
    n_samples: int = 50,
    task_coverage: float = 0.8,
    sample_density: float = 1.0,
    error_rate: float = 0.01,
    seed: int = 0,
    spread: float = 2.0,
    groups: list[str] | None = None,
    model_prefix: str = "model",
    task_prefix: str = "task",
) -> Simulation:
    """Write one run of simulated measurements into `store`; return the ground truth.

    Every task is measured by at least two models and every model runs at least one task, so the
    comparison graph is connected. `sample_density` < 1 leaves each (model, sample) of a task the
    model ran unmeasured with probability 1 - density (ONEBench-style sample-level sparsity). With `groups`, each sample is recorded once per group
    (a `group` detail column, as in multi-rater safety data) with a group-specific shift.
    """
    rng = np.random.default_rng(seed)
    theta = np.sort(rng.normal(0.0, spread / 2, n_models))[::-1]
    models = [f"{model_prefix}-{i:0{max(3, len(str(n_models - 1)))}d}" for i in range(n_models)]
    tasks = [f"{task_prefix}-{j:03d}" for j in range(n_tasks)]
    ran = rng.random((n_models, n_tasks)) < task_coverage
    for j in range(n_tasks):  # every task has at least two models
        if ran[:, j].sum() < 2:
            ran[rng.choice(n_models, 2, replace=False), j] = True
    for i in range(n_models):  # every model runs at least one task
        if not ran[i].any():
            ran[i, rng.integers(n_tasks)] = True
    binary = [j % 2 == 0 for j in range(n_tasks)]
    metric_info = {
        t: {("accuracy" if binary[j] else "score"): MetricInfo(higher_is_better=True, kind="binary" if binary[j] else "continuous", main=True)}
        for j, t in enumerate(tasks)
    }
    sim = Simulation(models=models, strengths=dict(zip(models, theta.tolist(), strict=True)), tasks=tasks)
    for i, m in enumerate(models):
        sim.measured[m] = [t for j, t in enumerate(tasks) if ran[i, j]]
    stamp = np.datetime64("2026-01-01T00:00:00", "us")
    group_names = groups or [None]
    parts: list[pa.Table] = []
    model_names = pa.array(models, pa.string())
    sample_names = pa.array([f"s{k}" for k in range(n_samples)], pa.string())
    error_names = pa.array(["simulated failure"], pa.string())
    with store.run(kind="write", command=f"simulate seed={seed}", metric_info=metric_info) as w:
        for j, task in enumerate(tasks):
            difficulty = rng.normal(0.0, 1.0, n_samples)
            who = np.flatnonzero(ran[:, j])
            for g in group_names:
                shift = 0.0 if g is None else rng.normal(0.0, 0.5)
                logits = theta[who, None] - difficulty[None, :] + shift
                p = 1.0 / (1.0 + np.exp(-logits))
                if binary[j]:
                    values = (rng.random(p.shape) < p).astype(np.float64)
                else:
                    values = np.clip(p + rng.normal(0.0, 0.1, p.shape), 0.0, 1.0)
                errored = rng.random(p.shape) < error_rate
                if sample_density < 1.0:
                    keep = rng.random(p.shape) < sample_density
                    keep[:, keep.sum(axis=0) == 1] = False  # no sample measured by a single model
                    model_idx = np.broadcast_to(who.astype(np.int32)[:, None], p.shape)[keep]
                    sample_idx = np.broadcast_to(np.arange(n_samples, dtype=np.int32)[None, :], p.shape)[keep]
                    values, errored = values[keep], errored[keep]
                else:
                    model_idx = np.repeat(who.astype(np.int32), n_samples)
                    sample_idx = np.tile(np.arange(n_samples, dtype=np.int32), len(who))
                n = values.size
                cols = {
                    "model": _strings(model_idx, model_names),
                    "model_revision": pa.nulls(n, pa.string()),
                    "task": _repeat(task, n),
                    "task_revision": _repeat(f"sim{seed}", n),
                    "sample_id": _strings(sample_idx, sample_names),
                    "metric": _repeat("accuracy" if binary[j] else "score", n),
                    "value": pa.array(values.ravel(), pa.float64(), mask=errored.ravel()),
                    "error": pa.DictionaryArray.from_arrays(
                        pa.array(np.zeros(n, np.int32), mask=~errored.ravel()), error_names).cast(pa.string()),
                    "run_id": _repeat(w.run_id, n),
                    "created_at": pa.array(np.full(n, stamp), TIMESTAMP),
                }
                table = pa.table(cols, schema=MEASUREMENT_SCHEMA)
                if g is not None:
                    table = table.append_column("group", _repeat(g, n))
                parts.append(table)
            # One shard per task: bounded memory however big the simulation.
            sim.n_rows += w.write(pa.concat_tables(parts), validated=True)
            parts = []
        sim.run_ids.append(w.run_id)
    return sim
