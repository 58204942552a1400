"""Measurements -> comparisons -> rankings with uncertainty and diagnostics. Pure: arrays and Arrow
tables in, rankings out; reading a store or a file is `samplebench.selection`'s job.

    from samplebench.aggregators import fit, METHODS
    from samplebench.selection import select_evidence
    ev = select_evidence(ResultStore(), tasks=["STS12"])        # ballots from the store (selection)
    ranking = fit(ev, "plackett-luce", bootstrap=200)          # Ranking with CIs and diagnostics

`METHODS` maps each method name to its `Method` (callable on Evidence, with defaults and a
description); `fit` adds levels (`level="sample"|"task"|"two"`), intervals (`ci="fisher"|
"fisher-diagonal"|"bootstrap"`; `auto` picks the diagonal information for large PL evidence),
connectivity checks and diagnostics.
"""

from .api import LEVELS, comparison_components, fit, task_level_evidence
from .evidence import Evidence, EvidenceBuilder, evidence_from_matrix, merge_evidence
from .methods import METHODS, Method, MethodOutput
from .plural import PluralisticResult, compare, fit_by_group, kendall_tau
from .ranking import Diagnostics, RankedModel, Ranking

__all__ = [
    "LEVELS",
    "METHODS",
    "Diagnostics",
    "Evidence",
    "EvidenceBuilder",
    "Method",
    "MethodOutput",
    "PluralisticResult",
    "RankedModel",
    "Ranking",
    "compare",
    "comparison_components",
    "evidence_from_matrix",
    "fit",
    "fit_by_group",
    "kendall_tau",
    "merge_evidence",
    "task_level_evidence",
]
