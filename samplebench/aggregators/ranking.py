"""The result of every aggregator: a `Ranking` (one `RankedModel` per model) with typed diagnostics."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class RankedModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str
    score: float
    rank: int = Field(ge=1, description="1 = best; tied scores share the smaller rank")
    ci_low: float | None = None
    ci_high: float | None = None
    rank_ci: tuple[int, int] | None = None
    n_samples: int = 0
    n_comparisons: int = 0
    never_won: bool = Field(False, description="never above another model: the score is an upper bound")
    never_lost: bool = Field(False, description="never below another model: the score is a lower bound")


class FitDiagnostics(BaseModel):
    """What a method reports about its own fit (every field optional: a method fills what it has)."""

    model_config = ConfigDict(extra="forbid")

    converged: bool | None = None
    iterations: int | None = None
    loglik: float | None = None
    grad_norm: float | None = None
    direction: str | None = None
    comparisons: int | None = None
    seed_sd_max: float | None = Field(None, description="Elo: largest spread of a rating over the orders")
    kemeny_exact: bool | None = Field(None, description="Kemeny: the optimum is proven")
    kemeny_agreement: float | None = None
    kemeny_upper_bound: float | None = None
    kemeny_solver: str | None = None
    kemeny_optimal_orders: int | None = Field(None, description="Kemeny: number of optimal orders, when counted")


class Diagnostics(FitDiagnostics):
    """Diagnostics of a whole `fit`: the method's own (for one component; `per_component` when the
    graph was fitted component by component), the comparison graph, intervals and notes."""

    connected: bool = True
    components: list[list[str]] = Field(default_factory=list)
    component_of: dict[str, int] = Field(default_factory=dict)
    per_component: list[FitDiagnostics] = Field(default_factory=list)
    no_wins: list[str] = Field(default_factory=list)
    no_losses: list[str] = Field(default_factory=list)
    tied_groups: list[list[str]] = Field(default_factory=list)
    evidence: dict[str, int] = Field(default_factory=dict)
    lower_is_better: bool = False
    ci_method: str = "none"
    worst_group: dict[str, str] = Field(default_factory=dict, description="maximin: each model's worst group")
    worst_rank: dict[str, int] = Field(default_factory=dict, description="maximin: each model's worst rank")
    notes: list[str] = Field(default_factory=list)


class Ranking(BaseModel):
    """Models best-first. `score` is on the method's own scale (`score_scale` says which)."""

    model_config = ConfigDict(extra="forbid")

    method: str
    params: dict[str, Any] = Field(default_factory=dict)
    score_scale: str = ""
    models: list[RankedModel]
    diagnostics: Diagnostics = Field(default_factory=Diagnostics)

    def order(self) -> list[str]:
        return [m.model for m in sorted(self.models, key=lambda m: (m.rank, m.model))]

    def by_model(self) -> dict[str, RankedModel]:
        return {m.model: m for m in self.models}
