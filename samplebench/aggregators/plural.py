"""Comparing methods (Kendall tau) and pluralistic aggregation: one ranking per rater group.

`fit_by_group(ev, column, ...)` splits the ballots by the `group` detail column. A group value
belongs to `column` when it reads `column=VALUE` (or `column:VALUE`); `column="group"` takes every
distinct group value as is. Intersections (`a=x&b=y`) are left out unless named exactly. Then:

* one Ranking per group (the chosen method on that group's ballots);
* `across`: a social-choice rule (Copeland or Schulze) over the groups' rankings — each group's
  ranking is one ballot, so every group weighs the same however many raters it has;
* `maximin`: models ordered by their worst-group score (the method's score within each group;
  for PL/BT/Elo the score is a log-strength or rating centred on the group's mean, so groups are
  comparable), ties broken by the worst-group rank. A model best on average but worst for one
  group sinks here.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict

from ..errors import SampleBenchError
from .api import fit
from .evidence import Evidence, EvidenceBuilder
from .evidence_ops import competition_ranks
from .methods import METHODS
from .ranking import Diagnostics, RankedModel, Ranking

GROUP_RULES = ("copeland", "schulze")


class PluralisticResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    column: str
    method: str
    rule: str
    groups: dict[str, Ranking]
    across: Ranking
    maximin: Ranking


def group_values(ev: Evidence, column: str) -> dict[str, int]:
    """Group label -> index in `ev.groups` for the groups of `column`."""
    out: dict[str, int] = {}
    for i, g in enumerate(ev.groups):
        if column == "group":
            out[g] = i
            continue
        for sep in ("=", ":"):
            prefix = column + sep
            if g.startswith(prefix):
                rest = g[len(prefix):]
                if "&" not in rest and "|" not in rest:
                    out[rest] = i
    return out


def fit_by_group(ev: Evidence, column: str, method: str = "plackett-luce", *, rule: str = "copeland",
                 **kwargs: Any) -> PluralisticResult:
    if rule not in GROUP_RULES:
        raise SampleBenchError(f"--group-rule must be one of {', '.join(GROUP_RULES)}, got '{rule}'")
    groups = group_values(ev, column)
    if not groups:
        known = sorted({g.split("=")[0].split(":")[0] for g in ev.groups})
        raise SampleBenchError(
            f"no measurement has a group of column '{column}' in the `group` detail column",
            hint=f"group columns present: {', '.join(known)}" if known else
            "the selected results have no `group` column (write per-group rows, e.g. group='rater_age=18-24')")
    per_group: dict[str, Ranking] = {}
    for label, gi in sorted(groups.items()):
        sub = ev.select_groups([gi])
        if sub.n_measurements == 0:
            continue
        per_group[label] = fit(sub, method, **kwargs)
    if not per_group:
        raise SampleBenchError(f"groups of '{column}' hold no measurements in the selection")
    models = sorted({m.model for r in per_group.values() for m in r.models})
    mi = {m: i for i, m in enumerate(models)}
    b = EvidenceBuilder(models, tasks=["groups"], metrics=["rank"])
    for k, r in enumerate(per_group.values()):
        idx = np.array([mi[m.model] for m in r.models], np.int64)
        ranks = np.array([m.rank for m in r.models], np.float64)
        b.add_ballots(np.full(idx.size, k), idx, -ranks)
    across = fit(b.build(), rule)
    across.method = f"{rule} over {column} groups"
    across.params = {"column": column, "rule": rule, "method": method, "groups": list(per_group)}
    # maximin over per-group scores (centred for gauge-free scales)
    lower = next(iter(per_group.values())).diagnostics.lower_is_better
    shift_free = METHODS[method].capabilities.needs_connected  # scores defined up to a shift: centre them
    worst_score = np.full(len(models), np.nan)
    worst_rank = np.zeros(len(models), np.int64)
    worst_group: dict[str, str] = {}
    for label, r in per_group.items():
        sc = np.array([m.score for m in r.models])
        if shift_free and sc.size:
            sc = sc - sc.mean()
        for m, s in zip(r.models, sc, strict=True):
            i = mi[m.model]
            worse = np.isnan(worst_score[i]) or (s > worst_score[i] if lower else s < worst_score[i])
            if worse:
                worst_score[i] = s
                worst_group[m.model] = label
            worst_rank[i] = max(worst_rank[i], m.rank)
    n_groups_of = {m: sum(1 for r in per_group.values() if m in r.by_model()) for m in models}
    ranks = competition_ranks(worst_score, lower)
    order = sorted(range(len(models)), key=lambda i: (ranks[i], worst_rank[i], models[i]))
    maximin_models = [RankedModel(model=models[i], score=float(worst_score[i]), rank=int(ranks[i]),
                                  n_samples=n_groups_of[models[i]]) for i in order]
    diag = Diagnostics(notes=[f"score = worst score over the {len(per_group)} groups of {column}; "
                              "n_samples = number of groups the model was measured in"],
                       worst_group=worst_group, worst_rank={models[i]: int(worst_rank[i]) for i in order})
    missing = [m for m, c in n_groups_of.items() if c < len(per_group)]
    if missing:
        diag.notes.append(f"not measured in every group (worst over the groups they have): {', '.join(missing)}")
    maximin = Ranking(method=f"maximin over {column} groups", params={"column": column, "method": method},
                      score_scale=f"worst-group {next(iter(per_group.values())).score_scale}",
                      models=maximin_models, diagnostics=diag)
    return PluralisticResult(column=column, method=method, rule=rule, groups=per_group, across=across,
                             maximin=maximin)


def kendall_tau(a: Ranking, b: Ranking) -> float:
    """Kendall tau-b between two rankings' orders on their common models (NaN if < 2 common).

    Over the model pairs, with s_x = sign(x_i - x_j) and s_y likewise:
    tau_b = sum s_x s_y / sqrt(#{s_x != 0} #{s_y != 0}) (ties count in neither); NaN when one
    ranking ties every common model. Computed directly (what scipy.stats.kendalltau gives) so a
    caller does not pay scipy.stats' ~1 s import."""
    ra, rb = a.by_model(), b.by_model()
    common = sorted(set(ra) & set(rb))
    if len(common) < 2:
        return float("nan")
    x = np.array([ra[m].rank for m in common], np.float64)
    y = np.array([rb[m].rank for m in common], np.float64)
    sx = np.sign(x[:, None] - x[None, :])
    sy = np.sign(y[:, None] - y[None, :])
    denom = np.sqrt(float(np.count_nonzero(sx)) * float(np.count_nonzero(sy)))
    return float((sx * sy).sum() / denom) if denom > 0 else float("nan")


def compare(ev: Evidence, methods: list[str], **kwargs: Any) -> tuple[dict[str, Ranking], np.ndarray]:
    """Fit every method (no intervals) and return the rankings and their Kendall tau matrix."""
    rankings = {m: fit(ev, m, ci="none", **kwargs) for m in methods}
    k = len(methods)
    tau = np.eye(k)
    for i in range(k):
        for j in range(i + 1, k):
            tau[i, j] = tau[j, i] = kendall_tau(rankings[methods[i]], rankings[methods[j]])
    return rankings, tau
