"""Placing a new model: choose samples in rounds, ask for their values, refit, stop, estimate.

Strategies:

* `adaptive` — strata by difficulty within each task, samples allocated in rounds toward Neyman's
  allocation for the model's current estimate, drawn at random within strata; the estimate is a
  prediction for the samples not evaluated, corrected per stratum by the observed residuals, shrunk
  as much as the strata's residuals show the prediction to be right for this model (Fay-Herriot,
  see `strata`), with an interval that counts the unobserved samples' spread, the residual
  correction's error, the uncertainty of the shrinkage and of the ability. The prediction blends
  two working models (unit scale):

      v_hat_j = (1 - alpha) p_j(theta_hat) + alpha q_j

  the item model's expected value at the model's ability, and `q_j` the non-negative combination of
  the pool models' own values that best fits the values observed so far (`mix`: the new model as a
  mix of the pool's models, which carries what the one-dimensional item model misses, e.g. a model
  close to one family of the pool). `alpha` is calibrated on the pool's own models, hidden in turn
  (`mix.mix_weight`), never on the placed model; without a pool matrix (`pool_values`), p alone.
* `adaptive-irt` — the same design and estimator with the item model's prediction alone (alpha = 0):
  better only where the values follow the item model (a simulation drawn from it), faster.
* `information` — the samples with the largest expected reduction of the variance of each task's
  unobserved sum at the current ability estimate (Fisher information, as in Fluid Benchmarking),

      gain_j = phi_t p_j (1 - p_j)  +  G_t^2 (V_t - 1 / (1 / V_t + I_j)),

  (`V_t` the ability's posterior variance, `I_j = a_j^2 p_j (1 - p_j) / phi_t` the sample's
  information, `G_t = sum_{unobserved} a_j p_j (1 - p_j)`), each task's share of a round
  proportional to the sd of its contribution; the item model's estimate. Purely model-based: its
  interval trusts the item model.
* `random` — uniform random samples within each task (allocation proportional to task size, every
  task at least one), the per-task sample means and their normal interval: the design-based peer.
* `random-irt` — the same random samples, the item model's estimate.

The run stops at the budget or, with `rank_width`, as soon as the rank interval is at most that wide.
Every chosen sample is recorded with its round, task, reason and gain, so the run can be replayed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .estimate import AbilityPosterior, Estimate, ability_posterior, predict, sample_mean_estimate
from .items import ItemModel, _sigmoid
from .mix import mix_prediction, mix_weight, unit_matrix
from .pool import _onehot, rank_of
from .strata import Strata, difficulty_strata, neyman_targets, stratified_total, stratum_spread

STRATEGIES = ("adaptive", "adaptive-irt", "information", "random", "random-irt")
MIN_MIX = 10  # observed values before the pool's mix joins the prediction
VAR_FLOOR = 0.01  # least p (1 - p) of a blended prediction


@dataclass(frozen=True)
class Choice:
    """One chosen sample: index into the pool's samples, the round, why, and the criterion's value."""

    sample: int
    round: int
    reason: str
    gain: float


@dataclass
class Placement:
    """The outcome: chosen samples in order, their values, the estimate after each round, and why it stopped."""

    strategy: str
    choices: list[Choice] = field(default_factory=list)
    values: dict[int, float] = field(default_factory=dict)
    rounds: list[Estimate] = field(default_factory=list)
    stop_reason: str = ""

    @property
    def estimate(self) -> Estimate:
        return self.rounds[-1]

    @property
    def n_evaluated(self) -> int:
        return len(self.values)


def default_round_size(budget: int, n_tasks: int) -> int:
    """About eight rounds, never fewer samples per round than tasks (so the first round is stratified)."""
    return max(n_tasks, int(np.ceil(budget / 8)), 1)


@dataclass
class _Run:
    """What a placement knows between rounds."""

    items: ItemModel
    population: np.ndarray
    n_task: np.ndarray
    pool_rank_scores: np.ndarray
    higher_is_better: np.ndarray
    level: float
    seed: int
    values: dict[int, float]
    strata: Strata | None = None
    post: AbilityPosterior | None = None
    pool_unit: np.ndarray | None = None  # (models, population) the pool's unit-scale values, NaN -> the sample's pool mean
    mix_alpha: float = 0.0

    def observed(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(indices with a value, their raw values, indices that failed)."""
        idx = np.fromiter(self.values.keys(), dtype=np.int64, count=len(self.values))
        raw = np.fromiter(self.values.values(), dtype=np.float64, count=len(self.values))
        ok = ~np.isnan(raw)
        return idx[ok], raw[ok], idx[~ok]


def place(items: ItemModel, answer: Callable[[np.ndarray], np.ndarray], *, budget: int, population: np.ndarray,
          pool_rank_scores: np.ndarray, higher_is_better: np.ndarray, strategy: str = "adaptive",
          rank_width: int | None = None, round_size: int | None = None, known: dict[int, float] | None = None,
          level: float = 0.9, seed: int = 0, on_round: Callable[[Placement], None] | None = None,
          pool_values: np.ndarray | None = None) -> Placement:
    """Place a model by asking `answer(sample indices) -> raw values` (NaN: the sample failed) for at most
    `budget` samples of `population` (indices of the selection's samples it can be scored on).

    `pool_values` (pool models x samples, raw; the models `items` was fitted on, never the placed
    model) lets `adaptive` predict from the pool's mix as well (see the module docstring).

    `known` holds values it already has (index -> raw value); they count as observed, not against
    the budget. `on_round(placement)` is called after each estimate (round 0: before any sample).
    Returns a `Placement` whose `estimate` is the final one."""
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}; one of {', '.join(STRATEGIES)}")
    rng = np.random.default_rng(seed)
    population = np.unique(np.asarray(population, dtype=np.int64))  # sorted: positions are found by bisection
    values = dict(known or {})
    out = Placement(strategy=strategy, values=values)
    n_task = np.bincount(items.sample_task[population], minlength=items.n_tasks)
    in_pop = np.isin(np.fromiter(values.keys(), dtype=np.int64, count=len(values)), population).sum()
    budget = max(0, min(budget, len(population) - int(in_pop)))
    step = round_size or default_round_size(budget, int((n_task > 0).sum()))
    run = _Run(items, population, n_task, pool_rank_scores, higher_is_better, level, seed, values)
    if strategy == "adaptive" and pool_values is not None and len(pool_values):
        run.pool_unit, seen = unit_matrix(items, pool_values, population)
        n_known = int(np.isin(population, np.fromiter(values, dtype=np.int64, count=len(values))).sum())
        run.mix_alpha = mix_weight(items, run.pool_unit, seen, population, n_known + budget, seed)
    if strategy.startswith("adaptive"):
        # per task: the samples it already has plus its share of the budget (by its samples still open)
        seen = np.isin(population, np.fromiter(values.keys(), dtype=np.int64, count=len(values)))
        open_t = np.bincount(items.sample_task[population[~seen]], minlength=items.n_tasks)
        expected = n_task - open_t + budget * open_t / max(int(open_t.sum()), 1)
        run.strata = difficulty_strata(items.difficulty, items.sample_task, population, expected)
        open_strata = int((np.bincount(run.strata.of[~seen], minlength=len(run.strata.size)) > 0).sum())
        step = round_size or max(step, min(open_strata, budget))  # the first round: one per open stratum
    order = _random_order(items, np.setdiff1d(population, list(values)), budget, rng) if "random" in strategy else None
    spent, rnd = 0, 0
    while True:
        est = _estimate(run, strategy)
        out.rounds.append(est)
        if on_round is not None:
            on_round(out)
        if rank_width is not None and est.rank_width <= rank_width and spent > 0:
            out.stop_reason = f"rank interval {est.rank_low}-{est.rank_high} is at most {rank_width} wide"
            break
        if spent >= budget:
            out.stop_reason = "budget spent" if budget > 0 else "nothing left to evaluate"
            break
        rnd += 1
        k = min(step, budget - spent)
        if order is not None:
            picked = [Choice(int(s), rnd, "uniform random within task", 0.0) for s in order[spent:spent + k]]
        elif strategy.startswith("adaptive"):
            picked = _neyman_round(run, k, rnd, rng, first=rnd == 1)
        else:
            picked = _information_round(run, k, rnd)
        if not picked:
            out.stop_reason = "every sample evaluated"
            break
        idx = np.array([c.sample for c in picked], dtype=np.int64)
        got = np.asarray(answer(idx), dtype=np.float64)
        for c, v in zip(picked, got, strict=True):
            out.choices.append(c)
            values[c.sample] = float(v)
        spent += len(picked)
    return out


def _estimate(run: _Run, strategy: str) -> Estimate:
    items = run.items
    idx, raw, failed = run.observed()
    pop = np.setdiff1d(run.population, failed) if len(failed) else run.population
    if strategy == "random":
        return sample_mean_estimate(tasks=items.sample_task[idx], raw_observed=raw, n_task=run.n_task,
                                    pool_rank_scores=run.pool_rank_scores, higher_is_better=run.higher_is_better,
                                    level=run.level)
    run.post = ability_posterior(items, idx, items.to_unit(raw, idx), start=None if run.post is None else run.post.mode)
    if strategy.startswith("adaptive"):
        return _stratified_estimate(run, idx, raw)
    return predict(items, run.post, observed=idx, raw_observed=raw, population=pop,
                   pool_rank_scores=run.pool_rank_scores, higher_is_better=run.higher_is_better, level=run.level,
                   seed=run.seed)


def _fitted(run: _Run) -> tuple[np.ndarray, np.ndarray]:
    """(v_hat, its variance) over the population at the current estimate: the item model's expected
    value, for `adaptive` blended with the pool's mix (see the module docstring)."""
    items, pop = run.items, run.population
    st = items.sample_task[pop]
    p = items.expected(run.post.mode, pop)
    var = p * (1 - p)
    if run.pool_unit is not None and run.mix_alpha > 0:
        idx, raw, _ = run.observed()
        pos, inside = _positions(run, idx)
        if len(pos) >= MIN_MIX:
            q = mix_prediction(run.pool_unit, pos, items.to_unit(raw[inside], idx[inside]))
            p = (1 - run.mix_alpha) * p + run.mix_alpha * q
            var = np.maximum(p * (1 - p), VAR_FLOOR)  # the mix may predict 0 or 1 exactly: never certain
    return items.to_raw(p, st), items.phi[st] * items.span[st] ** 2 * var


def _positions(run: _Run, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions of `idx` in the population (and which of `idx` are in it)."""
    pos = np.searchsorted(run.population, idx)
    pos = np.clip(pos, 0, max(len(run.population) - 1, 0))
    inside = run.population[pos] == idx if len(run.population) else np.zeros(len(idx), bool)
    return pos[inside], inside


def _stratified_estimate(run: _Run, idx: np.ndarray, raw: np.ndarray) -> Estimate:
    from scipy.stats import t as t_dist

    strata = run.strata
    fitted, model_var = _fitted(run)
    pos, inside = _positions(run, idx)
    raw = raw[inside]
    spread = stratum_spread(strata, model_var, pos, raw - fitted[pos])
    total, var, lam = stratified_total(strata, fitted, pos, raw, spread)
    t_count = run.items.n_tasks
    has = run.n_task > 0
    n_t = np.maximum(run.n_task, 1).astype(np.float64)
    task_mean = np.bincount(strata.task, weights=total, minlength=t_count) / n_t
    task_var = np.bincount(strata.task, weights=var, minlength=t_count) / n_t ** 2
    k = max(int(has.sum()), 1)
    score = float(task_mean[has].mean())
    # the item model's part of the estimate (1 - lambda of each unobserved sample's prediction) moves with
    # the ability estimate: delta method, d score / d theta_t = sum (1 - lambda_h) span_t a_j p_j (1 - p_j) / (k N_t)
    items = run.items
    unobs = np.ones(len(run.population), bool)
    unobs[pos] = False
    pop = run.population[unobs]
    st = items.sample_task[pop]
    p = items.expected(run.post.mode, pop)
    d = (1 - lam[strata.of[unobs]]) * items.span[st] * items.a[pop] * p * (1 - p)
    grad = np.bincount(st, weights=d, minlength=t_count) / n_t / k
    var_theta = float(grad @ run.post.cov @ grad)
    sd = float(np.sqrt(task_var[has].sum() / k ** 2 + var_theta))
    # Student's t with the residual degrees of freedom (samples less strata), as small strata call for
    dof = max(len(pos) - len(strata.size), 1)
    z = float(t_dist.ppf(0.5 + run.level / 2, dof))
    sign = np.where(run.higher_is_better, 1.0, -1.0)
    oriented = float((task_mean * sign)[has].mean())
    draws = oriented + sd * np.random.default_rng(run.seed).standard_normal(4000)
    ranks = rank_of(draws, run.pool_rank_scores)
    alpha = (1 - run.level) / 2
    return Estimate(score=score, score_low=score - z * sd, score_high=score + z * sd,
                    rank=int(rank_of(oriented, run.pool_rank_scores)),
                    rank_low=int(np.floor(np.quantile(ranks, alpha))), rank_high=int(np.ceil(np.quantile(ranks, 1 - alpha))),
                    task_scores=np.where(has, task_mean, np.nan), level=run.level)


def _neyman_round(run: _Run, k: int, rnd: int, rng, *, first: bool) -> list[Choice]:
    """k samples: toward Neyman's allocation over the strata, uniformly at random within each."""
    strata = run.strata
    idx, raw, failed = run.observed()
    pos, inside = _positions(run, np.concatenate([idx, failed]))
    taken = np.zeros(len(run.population), bool)
    taken[pos] = True
    n_h = np.bincount(strata.of[taken], minlength=len(strata.size))
    room = np.bincount(strata.of[~taken], minlength=len(strata.size))
    if first:
        spread = np.ones(len(strata.size))
        why = "proportional allocation"
    else:
        fitted, model_var = _fitted(run)
        opos, oin = _positions(run, idx)
        spread = stratum_spread(strata, model_var, opos, raw[oin] - fitted[opos])
        why = "Neyman allocation"
    target = neyman_targets(strata, spread, run.n_task, int(n_h.sum()) + k)
    deficit = np.maximum(target - n_h, 0.0)
    if first and k < int((room > 0).sum()):
        # fewer samples than strata: one each from the middle strata of every task in turn
        middle = np.zeros(len(strata.size))
        for t in np.unique(strata.task):
            hs = np.flatnonzero(strata.task == t)
            middle[hs] = np.abs(np.arange(len(hs)) - (len(hs) - 1) / 2)
        order = np.lexsort((strata.task, middle))
        alloc = np.zeros(len(room), np.int64)
        alloc[[h for h in order if room[h] > 0][:k]] = 1
    elif first:
        alloc = _allocate(deficit + 1e-9, min(k, int(room.sum())), room)
    else:
        # every stratum two samples first (a variance needs two), then toward the target
        need = np.minimum(np.maximum(2 - n_h, 0), room)
        alloc = np.zeros(len(room), np.int64)
        if need.sum() >= k:
            alloc = _allocate(need.astype(float), k, need, at_least_one=False)
        else:
            alloc = need + _allocate(deficit + 1e-9, k - int(need.sum()), room - need, at_least_one=False)
    out: list[Choice] = []
    for h in np.flatnonzero(alloc):
        free = np.flatnonzero((strata.of == h) & ~taken)
        for j in rng.choice(free, size=int(alloc[h]), replace=False):
            out.append(Choice(int(run.population[j]), rnd, f"{why}: stratum {h} (task {strata.task[h]}), "
                              f"target {target[h]:.1f}, random within stratum", float(spread[h])))
    return out


def _information_round(run: _Run, k: int, rnd: int) -> list[Choice]:
    return _adaptive_round(run.items, run.post, run.population, run.values, k, rnd, run.n_task)


def _random_order(items: ItemModel, population: np.ndarray, budget: int, rng) -> np.ndarray:
    """Stratified uniform random order: per task proportional allocation (largest remainder, >= 1 each)."""
    st = items.sample_task[population]
    tasks = np.unique(st)
    sizes = np.array([(st == t).sum() for t in tasks], dtype=np.float64)
    alloc = _allocate(sizes, budget, sizes)
    chosen = []
    for t, k in zip(tasks, alloc, strict=True):
        members = population[st == t]
        chosen.append(rng.choice(members, size=int(k), replace=False))
    order = np.concatenate(chosen) if chosen else np.zeros(0, np.int64)
    return rng.permutation(order)


def _allocate(weights: np.ndarray, k: int, caps: np.ndarray, *, at_least_one: bool = True) -> np.ndarray:
    """Split `k` picks over strata proportionally to `weights` (largest remainder), never more than
    `caps`; with `at_least_one`, every open stratum one pick first while `k` allows."""
    n = len(weights)
    alloc = np.zeros(n, dtype=np.int64)
    caps = caps.astype(np.int64)
    open_ = caps > 0
    if not at_least_one:
        pass
    elif k >= open_.sum():
        alloc[open_] = 1
    else:  # fewer picks than strata: the heaviest strata get one each
        top = np.argsort(-np.where(open_, weights, -np.inf))[:k]
        alloc[top] = 1
        return alloc
    left = k - alloc.sum()
    while left > 0:
        room = caps - alloc
        w = np.where(room > 0, np.maximum(weights, 1e-12), 0.0)
        if w.sum() == 0:
            break
        share = w / w.sum() * left
        add = np.minimum(np.floor(share).astype(np.int64), room)
        if add.sum() == 0:
            add[np.argmax(np.where(room > 0, share, -np.inf))] = 1
        alloc += add
        left = k - alloc.sum()
    return alloc


def _adaptive_round(items: ItemModel, post: AbilityPosterior, population: np.ndarray, values: dict[int, float],
                    k: int, rnd: int, n_task: np.ndarray) -> list[Choice]:
    seen = np.fromiter(values.keys(), dtype=np.int64, count=len(values))
    cand = np.setdiff1d(population, seen)
    if len(cand) == 0:
        return []
    t_count = items.n_tasks
    st = items.sample_task[cand]
    a = items.a[cand]
    p = _sigmoid(a * post.mode[st] + items.c[cand])
    w = p * (1 - p)
    phi = items.phi[st]
    onehot = _onehot(st, t_count)
    big_g = (a * w) @ onehot  # (T,)
    v = np.diag(post.cov)
    info = a * a * w / phi
    own = phi * w
    learn = big_g[st] ** 2 * (v[st] - 1.0 / (1.0 / v[st] + info))
    gain = own + learn
    # each task's share: the sd of its contribution to the score (span / N_t scales its unit-sum variance)
    scale = np.abs(items.span) / np.maximum(n_task, 1)
    task_var = own @ onehot + big_g ** 2 * v
    weights = np.sqrt(np.maximum(task_var, 0)) * scale
    remaining = np.bincount(st, minlength=t_count)
    alloc = _allocate(weights, min(k, len(cand)), remaining)
    out: list[Choice] = []
    for t in np.flatnonzero(alloc):
        members = np.flatnonzero(st == t)
        best = members[np.argsort(-gain[members], kind="stable")[: alloc[t]]]
        for j in best:
            out.append(Choice(int(cand[j]), rnd, f"expected variance reduction (p={p[j]:.2f}, a={a[j]:.2f})",
                              float(gain[j])))
    return out
