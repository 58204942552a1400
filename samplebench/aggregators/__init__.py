"""Measurements -> comparisons -> rankings with uncertainty and diagnostics. Pure: arrays and Arrow
tables in, rankings out; reading a store or a file is `samplebench.selection`'s job.

    from samplebench.aggregators import fit, METHODS
    from samplebench.selection import select_evidence
    ev = select_evidence(ResultStore(), tasks=["STS12"])        # ballots from the store (selection)
    ranking = fit(ev, "plackett-luce", bootstrap=200)          # Ranking with CIs and diagnostics

`METHODS` maps each method name to its `Method`: its parameters (`Param`, validated) and
capabilities (`Capabilities`); `fit` adds levels (`level="sample"|"task"|"two"`), intervals
(`ci="fisher"|"fisher-diagonal"|"bootstrap"`; `auto` takes the method's default), connectivity
checks and typed diagnostics, reading only those declarations.
"""

from .api import LEVELS, fit
from .evidence import Evidence, EvidenceBuilder, evidence_from_matrix, merge_evidence
from .evidence_ops import comparison_components, task_level_evidence
from .methods import METHODS, Capabilities, Method, MethodOutput, Param
from .plural import PluralisticResult, compare, fit_by_group, kendall_tau
from .ranking import Diagnostics, FitDiagnostics, RankedModel, Ranking

__all__ = [
    "LEVELS",
    "METHODS",
    "Capabilities",
    "Diagnostics",
    "Evidence",
    "EvidenceBuilder",
    "FitDiagnostics",
    "Method",
    "MethodOutput",
    "Param",
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
