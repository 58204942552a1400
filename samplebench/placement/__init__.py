"""Placing a new model with a fraction of the samples (pure computation over arrays, no I/O).

* `pool.Pool` — the pool's values (models x samples), tasks and directions; scores and ranks.
* `items.fit_items` — a two-parameter logistic item model for graded values, fitted on the pool.
* `mix` — the placed model's values as a non-negative mix of the pool models' values, and the
  blending weight calibrated on the pool's own models.
* `place.place` — choose samples in rounds (adaptive, adaptive-irt, information, random, random-irt), refit, stop at the
  budget or when the rank interval is narrow enough; every choice recorded.
* `estimate` — the ability posterior and the full-evaluation score and rank with intervals.
* `simulate.simulate` — leave-one-model-out replay of a pool.

Two modules sit at the edge: `source.read_pool` reads a pool from a results store (the package's
only reading), and `budgeted.evaluate_with_budget` / `budgeted.replay` drive the runner round by
round for `bench evaluate --budget` and `bench placement replay` (as `samplebench.demo` sits above
runners and aggregators).
"""

from .budgeted import evaluate_with_budget, replay
from .estimate import Estimate
from .items import ItemModel, fit_items
from .place import STRATEGIES, Choice, Placement, place
from .pool import MIN_POOL_MODELS, Pool, check_pool, rank_of
from .simulate import SimulationReport, simulate

__all__ = ["MIN_POOL_MODELS", "STRATEGIES", "Choice", "Estimate", "ItemModel", "Placement", "Pool",
           "SimulationReport", "check_pool", "evaluate_with_budget", "fit_items", "place", "rank_of", "replay",
           "simulate"]
