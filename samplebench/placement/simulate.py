"""Leave-one-model-out replay: hide each model in turn, place it from the others, compare with its full score.

For model i: the item model is refitted on the pool without i (warm-started from the fit on the
whole pool, so it costs a few passes; for pools over `EXACT_REFIT_CELLS` values, one Newton step
from the full fit, `items.leave_one_out`), the pool's mix is taken from the other models only, the
placement asks i's stored values, and the estimate is
compared with i's full-evaluation score (the mean of task means over all the samples it has) and its
full rank among all the pool's models. Reported per strategy: `mae` (mean absolute error of the
score, on the metric's own scale), `within_1`/`within_2` (share of models whose estimated rank is
within 1 or 2 of the full rank) and `coverage` (share of intervals containing the full score).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from .items import drop_model, fit_items, leave_one_out
from .place import STRATEGIES, place
from .pool import Pool, check_pool, rank_of

# up to this many pool cells each held-out model gets a warm-started refit; above, the one-step
# (infinitesimal-jackknife) update of `items.leave_one_out`, O(samples) per model
EXACT_REFIT_CELLS = 5_000_000


@dataclass(frozen=True)
class ModelOutcome:
    model: str
    strategy: str
    true_score: float
    score: float
    score_low: float
    score_high: float
    true_rank: int
    rank: int
    n_evaluated: int


@dataclass
class SimulationReport:
    budget: int
    outcomes: list[ModelOutcome] = field(default_factory=list)

    def summary(self) -> dict[str, dict[str, float]]:
        out: dict[str, dict[str, float]] = {}
        for s in dict.fromkeys(o.strategy for o in self.outcomes):
            rows = [o for o in self.outcomes if o.strategy == s]
            err = np.array([abs(o.score - o.true_score) for o in rows])
            drank = np.array([abs(o.rank - o.true_rank) for o in rows])
            cover = np.array([o.score_low <= o.true_score <= o.score_high for o in rows])
            out[s] = {"mae": float(err.mean()), "within_1": float((drank <= 1).mean()),
                      "within_2": float((drank <= 2).mean()), "coverage": float(cover.mean())}
        return out

    def to_json(self) -> dict:
        return {"budget": self.budget, "strategies": self.summary()}


def simulate(pool: Pool, *, budget: int, strategies: Sequence[str] = ("adaptive", "random"), level: float = 0.9,
             seed: int = 0, models: Sequence[str] | None = None,
             progress: Callable[[int, int], None] | None = None) -> SimulationReport:
    """Leave-one-model-out over `pool` (or only `models`) at `budget` samples per placed model."""
    for s in strategies:
        if s not in STRATEGIES:
            from ..errors import SampleBenchError

            raise SampleBenchError(f"unknown strategy '{s}'", hint=f"one of {', '.join(STRATEGIES)}")
    if pool.n_models < 6:
        from ..errors import SampleBenchError

        raise SampleBenchError(f"leave-one-model-out needs at least 6 models on the selection (each placed from "
                               f"at least 5 others); the pool has {pool.n_models}",
                               hint="evaluate or import more models on these tasks")
    check_pool(pool, minimum=6)
    full = fit_items(pool)
    rank_scores = pool.rank_scores()
    scores = pool.scores()
    report = SimulationReport(budget=budget)
    targets = range(pool.n_models) if models is None else [pool.index(m) for m in models]
    targets = list(targets)
    for n_done, i in enumerate(targets):
        row = pool.values[i]
        population = np.flatnonzero(~np.isnan(row))
        if len(population) == 0:
            continue
        rest = pool.without(i)  # every fit, prediction and calibration below sees the pool without model i
        if pool.values.size <= EXACT_REFIT_CELLS:
            items = fit_items(rest, start=drop_model(full, i), iterations=4)
        else:
            items = leave_one_out(full, row, i)
        others = np.delete(rank_scores, i)
        true_rank = int(rank_of(rank_scores[i], others))
        for s in strategies:  # each strategy's seed depends on its name, not on the list's order
            placed = place(items, lambda idx, row=row: row[idx], budget=budget, population=population,
                           pool_rank_scores=others, higher_is_better=pool.higher_is_better, strategy=s,
                           level=level, seed=seed * 1_000_003 + i * 7919 + zlib.crc32(s.encode()),
                           pool_values=rest.values)
            e = placed.estimate
            report.outcomes.append(ModelOutcome(model=pool.models[i], strategy=s, true_score=float(scores[i]),
                                                score=e.score, score_low=e.score_low, score_high=e.score_high,
                                                true_rank=true_rank, rank=e.rank, n_evaluated=placed.n_evaluated))
        if progress is not None:
            progress(n_done + 1, len(targets))
    return report
