"""Operations on Evidence that `fit` and the methods share: who votes, resampling, the graph.

* levels: `task_level_evidence` (one ballot per (task, metric)), `two_level_evidence` (rank
  within each task, then one ballot per task), `with_pair_ballots` (explicit judgements as
  two-member ballots);
* resampling for the bootstrap: `resample_within` (units drawn with replacement inside each
  stratum), `resample_tasks` (whole tasks drawn with replacement);
* the comparison graph: `comparison_components`, `win_loss_presence`;
* `competition_ranks`: scores -> ranks with ties.

Every function here is pure (arrays in, Evidence or arrays out) and costs O(#measurements):
nothing is quadratic in the number of models.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np

from .evidence import Evidence, EvidenceBuilder


def competition_ranks(scores: np.ndarray, lower_is_better: bool) -> np.ndarray:
    """Competition ranks ("min"): tied scores (equal to 12 decimals) share the smaller rank;
    NaN -> 0 (unranked). numpy only: scipy.stats costs ~0.5 s to import."""
    out = np.zeros(scores.size, np.int64)
    ok = np.flatnonzero(~np.isnan(scores))
    if ok.size:
        key = scores[ok] if lower_is_better else -scores[ok]
        small = np.abs(key) < 1e290  # rounding multiplies by 1e12: beyond, it would overflow to inf
        key = np.where(small, np.round(np.where(small, key, 0.0), 12), key)
        order = np.argsort(key, kind="stable")
        k = key[order]
        first = np.r_[True, k[1:] != k[:-1]]
        out[ok[order]] = np.maximum.accumulate(np.where(first, np.arange(1, k.size + 1), 0))
    return out


# -- levels ----------------------------------------------------------------------------------
def task_level_evidence(ev: Evidence) -> Evidence:
    """One ballot per (task, metric): models ordered by their mean value there (direction-aware).

    Explicit judgements of a task become one ballot ordered by each model's win rate in it.
    """
    from .baselines import task_score_table

    labels, table, sign = task_score_table(ev)
    b = EvidenceBuilder(ev.models, tasks=ev.tasks, metrics=ev.metrics, higher_is_better=ev.higher_is_better)
    task_i = {t: i for i, t in enumerate(ev.tasks)}
    metric_i = {m: i for i, m in enumerate(ev.metrics)}
    for c, (t, m) in enumerate(labels):
        row = table[c]
        ok = np.flatnonzero(~np.isnan(row))
        b.add_ballots(np.zeros(ok.size, np.int64), ok, row[ok], oriented=row[ok] * sign[c],
                      sample_task=task_i[t], sample_metric=metric_i[m])
    if ev.n_pairs:
        for t in np.unique(ev.pair_task):
            sel = ev.pair_task == t
            a, bb, o = ev.pair_a[sel], ev.pair_b[sel], ev.pair_outcome[sel]
            n = ev.n_models
            wins = np.bincount(a, weights=o, minlength=n) + np.bincount(bb, weights=1 - o, minlength=n)
            games = np.bincount(a, minlength=n) + np.bincount(bb, minlength=n)
            ok = np.flatnonzero(games > 0)
            rate = wins[ok] / games[ok]
            b.add_ballots(np.zeros(ok.size, np.int64), ok, rate, sample_task=int(t), sample_metric=0)
        if not b.metrics:
            b.metric_index("win_rate")
    out = b.build()
    out.notes = list(ev.notes)
    return out


def two_level_evidence(ev: Evidence, score: Callable[[Evidence], tuple[np.ndarray, bool]]) -> Evidence:
    """Rank within each (task, metric) with `score(sub) -> (scores, lower_is_better)`, then one
    ballot per (task, metric): values = -rank (the task's explicit judgements join its first one)."""
    b = EvidenceBuilder(ev.models, tasks=ev.tasks, metrics=ev.metrics, higher_is_better=ev.higher_is_better)
    n_m = max(len(ev.metrics), 1)
    col = ev.sample_task.astype(np.int64) * n_m + ev.sample_metric
    for t in np.unique(np.r_[ev.sample_task, ev.pair_task]):
        cols = np.unique(col[ev.sample_task == t])
        jobs = [(int(c), np.flatnonzero(col == c)) for c in cols] or [(int(t) * n_m, np.zeros(0, np.int64))]
        for k, (c, sel) in enumerate(jobs):
            psel = np.flatnonzero(ev.pair_task == t) if k == 0 else np.zeros(0, np.int64)
            sub = ev.take_samples(sel, keep_pairs=psel)
            act = sub.samples_per_model() > 0
            if not act.any():
                continue
            scores, lower = score(sub)
            r = competition_ranks(np.where(act, scores, np.nan), lower).astype(np.float64)
            ok = np.flatnonzero(r > 0)
            b.add_ballots(np.zeros(ok.size, np.int64), ok, -r[ok], sample_task=int(t), sample_metric=c % n_m)
    out_ev = b.build()
    out_ev.notes = list(ev.notes)
    return out_ev


def with_pair_ballots(ev: Evidence) -> Evidence:
    """Explicit judgements as two-member ballots (winner above loser; a tie is one level)."""
    if ev.n_pairs == 0:
        return ev
    b = EvidenceBuilder(ev.models, tasks=ev.tasks, metrics=ev.metrics, groups=ev.groups,
                        higher_is_better=ev.higher_is_better)
    b._append(ev.sizes(), ev.member_model, ev.member_level, ev.member_value, ev.sample_task,
              ev.sample_metric, ev.sample_group)
    k = ev.n_pairs
    a_first = ev.pair_outcome >= 0.5
    first = np.where(a_first, ev.pair_a, ev.pair_b)
    second = np.where(a_first, ev.pair_b, ev.pair_a)
    mm = np.stack([first, second], axis=1).ravel().astype(np.int32)
    lv = np.stack([np.zeros(k, np.int32), (ev.pair_outcome != 0.5).astype(np.int32)], axis=1).ravel()
    b._append(np.full(k, 2, np.int64), mm, lv, -lv.astype(np.float64), ev.pair_task.astype(np.int32),
              np.zeros(k, np.int32), np.full(k, -1, np.int32))
    out = b.build()
    out.pair_a = out.pair_a[:0]
    out.pair_b = out.pair_b[:0]
    out.pair_outcome = out.pair_outcome[:0]
    out.pair_task = out.pair_task[:0]
    out.notes = list(ev.notes)
    return out


# -- resampling ------------------------------------------------------------------------------
RESAMPLE_UNITS = ("samples", "tasks")


def resample_within(rng: np.random.Generator, strata: np.ndarray) -> np.ndarray:
    """Indices drawn with replacement inside each stratum, as many per stratum as it has."""
    n = strata.size
    if n == 0:
        return np.zeros(0, np.int64)
    order = np.argsort(strata, kind="stable")
    ordered = strata[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    sizes = np.diff(np.r_[starts, n])
    offset = np.minimum((rng.random(n) * np.repeat(sizes, sizes)).astype(np.int64), np.repeat(sizes, sizes) - 1)
    return order[np.repeat(starts, sizes) + offset]


def resample_tasks(rng: np.random.Generator, ev: Evidence) -> Evidence:
    """Whole tasks drawn with replacement; every drawn copy is a task of its own (so sums keep scale)."""
    present = np.union1d(np.unique(ev.sample_task), np.unique(ev.pair_task))
    draws = rng.choice(present, size=present.size, replace=True)
    idx, pidx, new_task, new_pair_task = [], [], [], []
    for copy, t in enumerate(draws):
        s = np.flatnonzero(ev.sample_task == t)
        p = np.flatnonzero(ev.pair_task == t)
        idx.append(s)
        pidx.append(p)
        new_task.append(np.full(s.size, copy, np.int64))
        new_pair_task.append(np.full(p.size, copy, np.int64))
    names = [f"{ev.tasks[t]}#{copy}" for copy, t in enumerate(draws)] if ev.tasks else []
    hib = {(f"{ev.tasks[t]}#{copy}", m): v for copy, t in enumerate(draws) for (task, m), v in
           ev.higher_is_better.items() if ev.tasks and task == ev.tasks[t]}
    return replace(ev.take_samples(np.concatenate(idx), keep_pairs=np.concatenate(pidx)),
                   sample_task=np.concatenate(new_task), pair_task=np.concatenate(new_pair_task),
                   tasks=names, higher_is_better=hib)


def resample(rng: np.random.Generator, ev: Evidence, unit: str) -> Evidence:
    """One bootstrap replicate: samples within each task (`"samples"`) or whole tasks (`"tasks"`)."""
    if unit == "tasks":
        return resample_tasks(rng, ev)
    return ev.take_samples(resample_within(rng, ev.sample_task), keep_pairs=resample_within(rng, ev.pair_task))


# -- graph -----------------------------------------------------------------------------------
def _component_labels(n: int, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Connected components of the graph on n nodes with edges (u, v): each node's label is the
    smallest node of its component. Hook and compress: every edge between two components hooks
    the larger root under the smaller, then pointer jumping flattens the trees; each round at
    least halves the roots an edge still separates. numpy only (scipy.sparse costs ~0.2 s to
    import in a fresh process)."""
    labels = np.arange(n)
    while True:
        lu, lv = labels[u], labels[v]
        cross = lu != lv
        if not cross.any():
            return labels
        lu, lv = lu[cross], lv[cross]
        np.minimum.at(labels, np.maximum(lu, lv), np.minimum(lu, lv))
        while True:
            nxt = labels[labels]
            if np.array_equal(nxt, labels):
                break
            labels = nxt


def comparison_components(ev: Evidence, active: np.ndarray) -> list[list[int]]:
    """Connected components (model indices) of the co-occurrence graph among `active` models.

    Each ballot links its first member to every other member (a star spans the ballot); explicit
    judgements link their two models. The edges are one per measurement (never an n x n grid),
    and the ballots are read in growing prefixes: adding edges can only merge components, so once
    a prefix (plus the judgements) connects every active model the full graph does too, and the
    rest is not read — large evidence is typically connected after a few percent.
    """
    n = ev.n_models
    sizes = ev.sizes()
    starts = ev.offsets[:-1]
    n_active = int(np.count_nonzero(active))
    n_b = sizes.size
    stop = min(n_b, 4096)
    while True:
        nonempty = sizes[:stop] > 0
        end = int(ev.offsets[stop])
        first = np.repeat(ev.member_model[starts[:stop][nonempty]], sizes[:stop][nonempty])
        rows = np.r_[first, ev.pair_a].astype(np.int64)
        cols = np.r_[ev.member_model[:end], ev.pair_b].astype(np.int64)
        labels = _component_labels(n, rows, cols)
        if stop >= n_b or np.unique(labels[active]).size == 1 and n_active > 0:
            break
        stop = min(n_b, stop * 8)
    comps: dict[int, list[int]] = {}
    for i in np.flatnonzero(active):
        comps.setdefault(int(labels[i]), []).append(int(i))
    return sorted(comps.values(), key=lambda c: (-len(c), c[0]))


def win_loss_presence(ev: Evidence, active: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Whether each model ever beat / ever lost to another model (ballots and judgements).

    With `active` (the models that have data), ballots are read in growing prefixes and reading
    stops once every active model has both won and lost (exact: later ballots cannot undo that).
    """
    n = ev.n_models
    o = ev.pair_outcome
    won = np.bincount(np.r_[ev.pair_a[o == 1], ev.pair_b[o == 0]].astype(np.int64), minlength=n) > 0
    lost = np.bincount(np.r_[ev.pair_b[o == 1], ev.pair_a[o == 0]].astype(np.int64), minlength=n) > 0
    n_levels = ev.n_levels()
    sizes = ev.sizes()
    n_b = sizes.size
    lo_b, hi_b = 0, n_b if active is None else min(n_b, 4096)
    while lo_b < n_b:
        a, b = int(ev.offsets[lo_b]), int(ev.offsets[hi_b])
        last = np.repeat(n_levels[lo_b:hi_b] - 1, sizes[lo_b:hi_b])
        lv, mm = ev.member_level[a:b], ev.member_model[a:b]
        won |= np.bincount(mm[lv < last], minlength=n) > 0
        lost |= np.bincount(mm[lv > 0], minlength=n) > 0
        if active is not None and (won | ~active).all() and (lost | ~active).all():
            break
        lo_b, hi_b = hi_b, min(n_b, hi_b * 8)
    return won, lost
