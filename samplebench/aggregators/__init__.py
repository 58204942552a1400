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

# Names resolve lazily (PEP 562): `from samplebench.aggregators.evidence import Evidence` or
# `from samplebench.aggregators import fit` imports only the modules that name needs, so the
# CLI's `bench aggregate` never pays for the methods it does not run.
from .._lazy import lazy_exports

_LAZY = {
    "LEVELS": "api", "fit": "api",
    "Evidence": "evidence", "EvidenceBuilder": "evidence", "evidence_from_matrix": "evidence",
    "merge_evidence": "evidence",
    "comparison_components": "evidence_ops", "task_level_evidence": "evidence_ops",
    "METHODS": "methods", "Capabilities": "methods", "Method": "methods", "MethodOutput": "methods",
    "Param": "methods",
    "PluralisticResult": "plural", "compare": "plural", "fit_by_group": "plural", "kendall_tau": "plural",
    "Diagnostics": "ranking", "FitDiagnostics": "ranking", "RankedModel": "ranking", "Ranking": "ranking",
}
__getattr__, __dir__ = lazy_exports(__name__, globals(), _LAZY)


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
