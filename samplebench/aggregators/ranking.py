"""The result of every aggregator: a `Ranking` (one `RankedModel` per model) with diagnostics."""

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


class Diagnostics(BaseModel):
    model_config = ConfigDict(extra="allow")

    connected: bool = True
    components: list[list[str]] = Field(default_factory=list)
    converged: bool | None = None
    iterations: int | None = None
    no_wins: list[str] = Field(default_factory=list)
    no_losses: list[str] = Field(default_factory=list)
    tied_groups: list[list[str]] = Field(default_factory=list)
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
