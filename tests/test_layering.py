"""The layers keep their contracts (ARCHITECTURE.md): checked on every import statement of every
module, including imports inside functions (those run too). That tasks hold no model library or
HTTP client is `tests/test_runner_layering.py`."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "samplebench"

# aggregators are pure: arrays and Arrow tables in, rankings out
AGGREGATOR_FORBIDDEN = (
    "pyarrow.parquet", "pyarrow.csv", "pyarrow.dataset", "pyarrow.feather", "pyarrow.fs", "pyarrow.json",
    "samplebench.results", "samplebench.registry", "samplebench.selection", "samplebench.runners",
    "samplebench.leaderboards", "samplebench.cli", "samplebench._ray", "ray",
)
def imports(path: Path, package: str | None = None) -> set[str]:
    """Every module `path` imports, relative imports resolved to absolute names (from `package`,
    default: the package the file sits in)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = package or ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1])
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                mod = ".".join([*base, *([node.module] if node.module else [])])
            else:
                mod = node.module or ""
            out.add(mod)
            out.update(f"{mod}.{a.name}" for a in node.names)
    return out


def violations(path: Path, forbidden: tuple[str, ...], package: str | None = None) -> list[str]:
    return sorted(m for m in imports(path, package) if any(m == f or m.startswith(f + ".") for f in forbidden))


@pytest.mark.parametrize("path", sorted((PACKAGE / "aggregators").glob("*.py")), ids=lambda p: p.name)
def test_aggregators_do_no_io(path):
    assert violations(path, AGGREGATOR_FORBIDDEN) == []


def test_the_checker_sees_relative_and_function_level_imports(tmp_path):
    mod = tmp_path / "probe.py"
    mod.write_text("def f():\n    from ..results import ResultStore\n    import pyarrow.parquet as pq\n")
    assert violations(mod, AGGREGATOR_FORBIDDEN, "samplebench.aggregators") == [
        "pyarrow.parquet", "samplebench.results", "samplebench.results.ResultStore"]


def test_selection_ranks_nothing():
    for path in sorted((PACKAGE / "selection").glob("*.py")):
        bad = [m for m in imports(path) if m.startswith("samplebench.aggregators") and
               m not in ("samplebench.aggregators.evidence", "samplebench.aggregators.evidence.Evidence",
                         "samplebench.aggregators.evidence.EvidenceBuilder",
                         "samplebench.aggregators.evidence.merge_evidence")]
        assert bad == [], path.name
