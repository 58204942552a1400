"""`bench` stays light: the CLI imports no heavy library up front, and a complete rerun through it
(a fresh process, as a user runs it) imports neither pandas nor any model library."""

from __future__ import annotations

import json
import os
import subprocess
import sys

HEAVY = ("pandas", "pyarrow.dataset", "torch", "sentence_transformers", "transformers", "datasets", "sklearn",
         "mteb", "matplotlib", "polars", "ray")

_PROBE = """
import json, sys
{body}
print("MODULES=" + json.dumps(sorted(m for m in {names!r} if m in sys.modules)))
"""


def _probe(body: str, names: tuple[str, ...], env: dict | None = None) -> tuple[list[str], str]:
    code = _PROBE.format(body=body, names=names)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env or os.environ.copy(),
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    line = next(ln for ln in out.stdout.splitlines() if ln.startswith("MODULES="))
    return json.loads(line.removeprefix("MODULES=")), out.stdout


def test_cli_import_loads_no_library():
    loaded, _ = _probe("import samplebench, samplebench.cli", ("pyarrow", "numpy", "pydantic", "yaml", *HEAVY))
    assert loaded == []


def test_help_of_every_verb_loads_no_heavy_library():
    body = """
from samplebench.cli import cli
from click.testing import CliRunner
r = CliRunner()
for args in (["--help"], ["results", "export", "--help"], ["results", "import", "--help"], ["tasks", "--help"]):
    res = r.invoke(cli, args)
    assert res.exit_code == 0, res.output
assert "onebench" in r.invoke(cli, ["results", "import", "--help"]).output  # the formats, loaded on demand
"""
    loaded, _ = _probe(body, HEAVY)
    assert loaded == []


def test_complete_rerun_through_the_cli_imports_no_pandas_or_model_library(bench, home):
    args = ["evaluate", "random", "--tasks", "bundled-sts,bundled-paraphrase", "--limit", "6", "--quiet"]
    first = bench(*args)
    assert first.exit_code == 0 and "model built" in first.output, first.output
    body = f"""
from samplebench.cli import cli
cli.main({args!r}, prog_name="bench", standalone_mode=False)
"""
    loaded, stdout = _probe(body, HEAVY, env={**os.environ, "SAMPLEBENCH_HOME": str(home)})
    assert "nothing to compute: model not loaded" in stdout
    assert loaded == []
    # the rerun reports what the first run measured: task, samples, main metric, mean, task score
    def measured(text: str) -> list[list[str]]:
        return [[c[i] for i in (0, 1, 5, 6, 7)] for c in (ln.split() for ln in text.splitlines()[2:4])]

    assert measured(stdout) == measured(first.output)
