"""Measurements -> comparisons -> rankings with uncertainty and diagnostics. No I/O beyond reading a store.

    from samplebench.aggregators import select_evidence, fit, METHODS
    ev = select_evidence(ResultStore(), tasks=["STS12"])        # ballots from the store
    ranking = fit(ev, "plackett-luce", bootstrap=200)          # Ranking with CIs and diagnostics

`METHODS` maps each method name to its `Method`: its parameters (`Param`, validated) and
capabilities (`Capabilities`); `fit` adds levels (`level="sample"|"task"|"two"`), intervals
(`ci="fisher"|"fisher-diagonal"|"bootstrap"`; `auto` takes the method's default), connectivity
checks and typed diagnostics, reading only those declarations.
"""

from .api import LEVELS, fit
from .evidence import Evidence, EvidenceBuilder, evidence_from_file, evidence_from_matrix, select_evidence
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
    "evidence_from_file",
    "evidence_from_matrix",
    "fit",
    "fit_by_group",
    "kendall_tau",
    "select_evidence",
    "task_level_evidence",
]
