"""The pool: what the models already in the store scored on each sample of a selection.

A `Pool` is a dense models x samples matrix of raw values (NaN where a model was not measured),
the task of each sample and each task's metric direction. Everything in `samplebench.placement`
is computed from it; building it from a store is the caller's job (the CLI), so this package does
no I/O.

Scores follow the issue's contract, on the metric's own scale: a model's score on a selection is
the mean over tasks of its mean value over the task's samples it has (for one task: its mean value;
for AlpacaEval: its win rate). Ranks compare *oriented* scores (task means of lower-is-better
metrics negated), rank 1 is best.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import SampleBenchError

MIN_POOL_MODELS = 5


@dataclass(frozen=True)
class Pool:
    """Raw values of `models` (rows) on samples (columns) grouped in `tasks`.

    `values[i, j]` is model i's value on sample j (NaN: not measured), `sample_task[j]` the index
    of sample j's task in `tasks`, `higher_is_better[t]` the direction of task t's metric.
    """

    values: np.ndarray
    models: list[str]
    sample_task: np.ndarray
    tasks: list[str]
    sample_ids: list[str]
    higher_is_better: np.ndarray = field(default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        v = np.asarray(self.values, dtype=np.float64)
        object.__setattr__(self, "values", v)
        object.__setattr__(self, "sample_task", np.asarray(self.sample_task, dtype=np.int64))
        hib = np.ones(len(self.tasks), bool) if self.higher_is_better is None else np.asarray(self.higher_is_better, bool)
        object.__setattr__(self, "higher_is_better", hib)
        if v.ndim != 2 or v.shape != (len(self.models), len(self.sample_ids)):
            raise ValueError(f"values must be models x samples = {len(self.models)} x {len(self.sample_ids)}, got {v.shape}")
        if self.sample_task.shape != (v.shape[1],) or (v.shape[1] and self.sample_task.max() >= len(self.tasks)):
            raise ValueError("sample_task must give a task index for every sample")
        if hib.shape != (len(self.tasks),):
            raise ValueError("higher_is_better must have one entry per task")

    @property
    def n_models(self) -> int:
        return self.values.shape[0]

    @property
    def n_samples(self) -> int:
        return self.values.shape[1]

    @property
    def task_sizes(self) -> np.ndarray:
        return np.bincount(self.sample_task, minlength=len(self.tasks))

    def index(self, model: str) -> int:
        try:
            return self.models.index(model)
        except ValueError:
            raise SampleBenchError(f"model '{model}' is not in the pool") from None

    def without(self, i: int) -> Pool:
        """The pool less model row `i` (leave-one-model-out)."""
        keep = np.arange(self.n_models) != i
        return Pool(self.values[keep], [m for k, m in enumerate(self.models) if k != i], self.sample_task,
                    self.tasks, self.sample_ids, self.higher_is_better)

    def task_means(self, values: np.ndarray) -> np.ndarray:
        """Per-task mean of each row of `values` (rows x samples, NaN skipped) -> rows x tasks (NaN: no value)."""
        values = np.atleast_2d(values)
        seen = ~np.isnan(values)
        onehot = _onehot(self.sample_task, len(self.tasks))
        sums = np.where(seen, values, 0.0) @ onehot
        counts = seen.astype(np.float64) @ onehot
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)

    def scores(self, values: np.ndarray | None = None) -> np.ndarray:
        """Score of each row (default: the pool's models): the mean of its task means (own scale)."""
        tm = self.task_means(self.values if values is None else values)
        with np.errstate(invalid="ignore"):
            return np.nanmean(np.where(np.isnan(tm), np.nan, tm), axis=1) if tm.size else np.full(tm.shape[0], np.nan)

    def oriented(self, task_means: np.ndarray) -> np.ndarray:
        """Mean of task means with lower-is-better tasks negated: the quantity ranks compare."""
        sign = np.where(self.higher_is_better, 1.0, -1.0)
        with np.errstate(invalid="ignore"):
            return np.nanmean(task_means * sign, axis=-1)

    def rank_scores(self, values: np.ndarray | None = None) -> np.ndarray:
        return self.oriented(self.task_means(self.values if values is None else values))


def check_pool(pool: Pool, *, minimum: int = MIN_POOL_MODELS) -> None:
    """Refuse pools too small to learn anything about samples from."""
    if pool.n_models < minimum:
        raise SampleBenchError(
            f"the pool has {pool.n_models} other model(s) on this selection; placement needs at least {minimum}",
            hint="evaluate more models on these tasks first, or evaluate this model fully (without --budget)")
    if pool.n_samples == 0:
        raise SampleBenchError("the selection has no samples with pool results")


def rank_of(score: float | np.ndarray, others: np.ndarray) -> np.ndarray:
    """1 + the number of `others` strictly better than `score` (oriented: higher is better)."""
    s = np.asarray(score, dtype=np.float64)
    o = np.sort(others[~np.isnan(others)])
    return 1 + (len(o) - np.searchsorted(o, s, side="right"))


def _onehot(index: np.ndarray, n: int):
    from scipy import sparse

    return sparse.csr_matrix((np.ones(len(index)), (np.arange(len(index)), index)), shape=(len(index), n))
