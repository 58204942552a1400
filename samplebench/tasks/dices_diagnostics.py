"""Dataset diagnostics for multi-rater (DICES-style) tasks, shown beside any DICES leaderboard.

* reliability per group: nominal Krippendorff's alpha over Yes/No/Unsure among the raters of each
  group (`column=value`), and over all raters;
* cross-group agreement, per rater column: for every pair of its groups, the share of items on
  which their majorities (Unsure ignored) agree and the mean |q_a - q_b| of their P(unsafe); and
  `alpha_between_groups`, Krippendorff's alpha with each group's majority as one coder;
* contested items: items on which the majorities of two groups of one column differ, with every
  group's majority and P(unsafe), most divided first (largest spread of P(unsafe)).

Only groups that reach `min_group_size` votes on an item take part for that item.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from ..registry import TaskSpec
from .dices_data import VOTES, DicesData, MalformedReport, load_dices
from .dices_metrics import krippendorff_alpha_nominal

if TYPE_CHECKING:
    import pandas as pd


class _M(BaseModel):
    model_config = ConfigDict(extra="forbid")


class GroupReliability(_M):
    attribute: str | None
    group: str | None
    n_raters: int
    n_items: int
    n_votes: int
    alpha: float | None = Field(description="nominal Krippendorff's alpha over Yes/No/Unsure; None if undefined")


class PairAgreement(_M):
    attribute: str
    group_a: str
    group_b: str
    n_items: int
    majority_agreement: float | None
    mean_abs_diff: float | None


class AttributeAgreement(_M):
    attribute: str
    groups: list[str]
    alpha_between_groups: float | None
    pairs: list[PairAgreement]


class ContestedItem(_M):
    item_id: str
    attribute: str
    majorities: dict[str, str]
    p_unsafe: dict[str, float]
    spread: float


class DicesDiagnostics(_M):
    task: str
    n_items: int
    n_raters: int
    n_votes: int
    n_repeated_ratings: int = Field(0, description="ratings of an item by a rater who had already rated it (all are counted)")
    vote_shares: dict[str, float]
    malformed: MalformedReport
    reliability: list[GroupReliability]
    cross_group: list[AttributeAgreement]
    contested: list[ContestedItem]

    def contested_ids(self) -> list[str]:
        return sorted({c.item_id for c in self.contested})

    def to_markdown(self, top: int = 10) -> str:
        """A dataset-card section: reliability per group, cross-group agreement, contested items."""

        def num(x: float | None) -> str:
            return "–" if x is None else f"{x:.3f}"

        out = [f"### Rater diagnostics: {self.task}\n",
               f"{self.n_items:,} items, {self.n_raters:,} raters, {self.n_votes:,} votes "
               f"(unsafe {self.vote_shares['unsafe']:.1%}, safe {self.vote_shares['safe']:.1%}, "
               f"unsure {self.vote_shares['unsure']:.1%}).\n"]
        if self.malformed.n_malformed:
            out.append(f"**Warning:** {self.malformed.summary()}\n")
        if self.n_repeated_ratings:
            out.append(f"**Note:** {self.n_repeated_ratings} repeated (item, rater) rating(s); every one is counted.\n")
        out += ["Inter-rater reliability (nominal Krippendorff's alpha over Yes/No/Unsure):\n",
                "| group | raters | items | alpha |", "|---|---:|---:|---:|"]
        out += [f"| {r.group or 'all raters'} | {r.n_raters} | {r.n_items} | {num(r.alpha)} |" for r in self.reliability]
        out += ["", "Cross-group agreement of majorities (Unsure ignored):\n",
                "| column | group a | group b | items | agreement | mean abs. diff. P(unsafe) |",
                "|---|---|---|---:|---:|---:|"]
        for att in self.cross_group:
            out += [f"| {att.attribute} | {p.group_a} | {p.group_b} | {p.n_items} | {num(p.majority_agreement)} | "
                    f"{num(p.mean_abs_diff)} |" for p in att.pairs]
        out += ["", f"Items where group majorities disagree: {len(self.contested_ids())} "
                    f"(most divided {min(top, len(self.contested))} shown).\n",
                "| item | column | spread | majorities (P(unsafe)) |", "|---|---|---:|---|"]
        for c in self.contested[:top]:
            parts = "; ".join(f"{g}: {m} ({c.p_unsafe.get(g, float('nan')):.2f})" for g, m in c.majorities.items())
            out.append(f"| {c.item_id} | {c.attribute} | {c.spread:.2f} | {parts} |")
        return "\n".join(out) + "\n"


def _alpha(votes: pd.DataFrame) -> float | None:
    if votes.empty:
        return None
    units = votes["item_id"].astype("category").cat.codes.to_numpy()
    values = votes["vote"].map({v: i for i, v in enumerate(VOTES)}).to_numpy()
    a = krippendorff_alpha_nominal(units, values)
    return None if np.isnan(a) else a


def _none_if_nan(x: float) -> float | None:
    return None if x is None or np.isnan(x) else float(x)


def diagnose(data: DicesData, task: str = "") -> DicesDiagnostics:
    """Diagnostics of loaded data (see the module docstring)."""
    votes, truth = data.votes, data.truth
    shares = votes["vote"].value_counts(normalize=True)
    reliability = [
        GroupReliability(attribute=None, group=None, n_raters=int(votes["rater_id"].nunique()),
                         n_items=int(votes["item_id"].nunique()), n_votes=len(votes), alpha=_alpha(votes))
    ]
    cross: list[AttributeAgreement] = []
    contested: list[ContestedItem] = []
    for col in data.demographics:
        present = votes.dropna(subset=[col])
        for val, sub in present.groupby(col, sort=True):
            reliability.append(GroupReliability(
                attribute=col, group=f"{col}={val}", n_raters=int(sub["rater_id"].nunique()),
                n_items=int(sub["item_id"].nunique()), n_votes=len(sub), alpha=_alpha(sub),
            ))
        rows = truth[truth["attribute"] == col]
        if rows.empty:
            continue
        maj = rows.pivot(index="item_id", columns="group", values="majority_ignore_unsure")
        q = rows.pivot(index="item_id", columns="group", values="p_unsafe").astype(float)
        groups = sorted(maj.columns)
        pairs = []
        for a, b in itertools.combinations(groups, 2):
            both = maj[a].notna() & maj[b].notna()
            n = int(both.sum())
            agree = float((maj.loc[both, a] == maj.loc[both, b]).mean()) if n else None
            qd = (q[a] - q[b]).abs()
            pairs.append(PairAgreement(attribute=col, group_a=a, group_b=b, n_items=n, majority_agreement=agree,
                                       mean_abs_diff=_none_if_nan(float(qd.mean())) if qd.notna().any() else None))
        stacked = maj.stack().rename("vote").reset_index()
        stacked = stacked[stacked["vote"].isin(["unsafe", "safe"])]
        between = None
        if not stacked.empty:
            between = _none_if_nan(krippendorff_alpha_nominal(
                stacked["item_id"].astype("category").cat.codes.to_numpy(),
                (stacked["vote"] == "unsafe").astype(int).to_numpy(),
            ))
        cross.append(AttributeAgreement(attribute=col, groups=groups, alpha_between_groups=between, pairs=pairs))
        for item, row in maj.iterrows():
            labels = {g: v for g, v in row.items() if isinstance(v, str)}
            if len(set(labels.values())) > 1:
                qs = {g: float(q.at[item, g]) for g in labels if not np.isnan(q.at[item, g])}
                contested.append(ContestedItem(
                    item_id=str(item), attribute=col, majorities=labels, p_unsafe=qs,
                    spread=(max(qs.values()) - min(qs.values())) if qs else 0.0,
                ))
    contested.sort(key=lambda c: (-c.spread, c.attribute, c.item_id))
    return DicesDiagnostics(
        task=task, n_items=int(votes["item_id"].nunique()), n_raters=int(votes["rater_id"].nunique()),
        n_votes=len(votes), n_repeated_ratings=int(votes.duplicated(["item_id", "rater_id"]).sum()),
        vote_shares={v: float(shares.get(v, 0.0)) for v in VOTES},
        malformed=data.malformed, reliability=reliability, cross_group=cross, contested=contested,
    )


def dataset_diagnostics(task: str | TaskSpec, *, registry_dir=None) -> DicesDiagnostics:
    """Load a `safety_rating` task (a name in the registry, or a spec) and diagnose its data.

    Malformed rows are reported in `malformed` instead of failing, so diagnostics always show them.
    """
    from ..errors import SampleBenchError
    from ..registry import TaskRegistry
    from .dices_data import options_for

    spec = TaskRegistry(registry_dir).get(task) if isinstance(task, str) else task
    if spec.type != "safety_rating":
        raise SampleBenchError(f"task '{spec.name}' is a {spec.type} task; diagnostics need a safety_rating task")
    opts = options_for(spec).model_copy(update={"on_malformed": "skip"})
    return diagnose(load_dices(spec, options=opts), task=spec.name)
