"""Issue 16: every `bench` verb fed hostile input ends with exit 0 or 2 and never a Python traceback.

Each case runs the real CLI in-process against one shared hostile home: a store whose model names
are spreadsheet formulas, HTML, math text, path traversal and unicode, measurements with NaN and
inf, and files that are empty, garbage, devices or in a foreign schema.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

HOSTILE_MODELS = [
    "=cmd|' /C calc'!A0", "<script>alert(1)</script>", "a$b$c \\frac{1}{0}", "../../etc/passwd",
    "日本語-モデル", "<img src=x onerror=alert(1)>", "plain/model",
]
LEADERBOARD = """\
name: hostile
title: "<script>alert('t')</script> $x$"
description: hostile names everywhere
selection: {tasks: all}
aggregator: {method: plackett-luce}
also_show: [mean]
"""


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> Path:
    """A home with a store of hostile names and a folder of hostile files (built once per module)."""
    root = tmp_path_factory.mktemp("hostile")
    from samplebench.results import ResultStore

    rng = np.random.default_rng(0)
    parts = []
    for task in ("t1", "t2"):
        for m in HOSTILE_MODELS:
            v = rng.random(20)
            v[:2] = [np.nan, np.inf] if m.startswith("<") else v[:2]
            parts.append(pa.table({"model": [m] * 20, "task": [task] * 20, "sample_id": [f"s{i}" for i in range(20)],
                                   "metric": ["acc"] * 20, "value": v}))
    ResultStore(root / "home" / "store").append(pa.concat_tables(parts))
    files = root / "files"
    files.mkdir()
    (files / "empty.csv").write_text("")
    (files / "garbage.parquet").write_bytes(os.urandom(3000))
    (files / "garbage.csv").write_bytes(os.urandom(3000))
    (files / "garbage.yaml").write_text("{{{{ ::: [[[")
    (files / "nan.jsonl").write_text('{"model": "m", "task": "t", "sample_id": "1", "metric": "acc", "value": NaN}\n')
    (files / "header.csv").write_text("model,task,sample_id,metric,value\n")
    (files / "foreign.parquet").parent.mkdir(exist_ok=True)
    pq.write_table(pa.table({"user": ["x"], "password": ["y"]}), files / "foreign.parquet")
    (files / "list.yaml").write_text("- a\n- b\n")
    (files / "laughs.yaml").write_text(
        'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
        + "".join(f"{c}: &{c} [*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p}]\n"
                  for p, c in zip("abcdefgh", "bcdefghi", strict=True)))
    (files / "evil.yaml").write_text('name: "evil\\n"\nversion: "1"\ndescription: x\ntype: sts\n'
                                     "dataset: {path: ./x.csv}\ncolumns: {text1: a, text2: b, score: s}\n"
                                     "metrics: [{name: spearman, kind: continuous, higher_is_better: true}]\n"
                                     "main_metric: spearman\n")
    (files / "passwd.yaml").write_text((files / "evil.yaml").read_text().replace('"evil\\n"', "pw")
                                       .replace("./x.csv", "/etc/passwd"))
    (files / "dup.yaml").write_text("name: a\nname: b\n")
    (files / "board.yaml").write_text(LEADERBOARD)
    (files / "python.yaml").write_text("name: !!python/object/apply:os.system ['true']\n")
    (files / "dir.parquet").mkdir()
    mteb = files / "mteb-strings" / "org__m" / "rev1"
    mteb.mkdir(parents=True)
    (mteb / "STS12.json").write_text(
        '{"dataset_revision": "a", "task_name": "STS12", "mteb_version": "1.0", "evaluation_time": 1, "scores": '
        '{"test": [{"main_score": "0.5", "cosine_spearman": "0.5", "hf_subset": "default", "languages": ["eng-Latn"]}]}}')
    return root


def run(hostile: Path, *args: str):
    """Invoke `bench ARGS` in-process with the hostile home; exceptions are caught, not raised."""
    env = {"SAMPLEBENCH_HOME": str(hostile / "home"), "HF_HUB_OFFLINE": "1", "HF_HUB_DISABLE_XET": "1",
           "HF_ENDPOINT": "http://127.0.0.1:9"}
    from samplebench.cli import cli

    f = hostile / "files"
    argv = [a.replace("{files}", str(f)).replace("{tmp}", str(hostile)) for a in args]
    return CliRunner().invoke(cli, argv, env=env, catch_exceptions=True)


CASES = [
    ("results", "list"),
    ("results", "list", "--json"),
    ("results", "check"),
    ("results", "export", "--model", "nosuch", "--out", "{tmp}/x.parquet"),
    ("results", "export", "--format", "csv", "--out", "{tmp}/x.csv"),
    ("results", "export", "--format", "xlsx", "--out", "{tmp}/x.xlsx"),
    ("results", "export", "--out", "{files}"),
    ("results", "export", "--out", "/proc/nope/x.parquet"),
    ("results", "import", "--format", "parquet", "{files}/nosuch.parquet"),
    ("results", "import", "--format", "parquet", "{files}/garbage.parquet"),
    ("results", "import", "--format", "parquet", "{files}/foreign.parquet"),
    ("results", "import", "--format", "parquet", "{files}/dir.parquet"),
    ("results", "import", "--format", "csv", "{files}/garbage.csv"),
    ("results", "import", "--format", "csv", "{files}/empty.csv"),
    ("results", "import", "--format", "csv", "{files}/header.csv"),
    ("results", "import", "--format", "jsonl", "{files}/nan.jsonl", "--store", "{tmp}/other-store"),
    ("results", "import", "--format", "nosuch", "{files}/nan.jsonl"),
    ("results", "import", "--format", "mteb", "{files}/garbage.csv"),
    ("results", "import", "--format", "mteb", "{files}/mteb-strings", "--set", "use_mteb=false", "--store",
     "{tmp}/mteb-store"),
    ("results", "import", "--format", "csv", "{files}/header.csv", "--set", "novalue"),
    ("add-task", "{files}/nosuch.yaml"),
    ("add-task", "{files}"),
    ("add-task", "{files}/garbage.yaml"),
    ("add-task", "{files}/list.yaml"),
    ("add-task", "{files}/laughs.yaml"),
    ("add-task", "{files}/python.yaml"),
    ("add-task", "{files}/evil.yaml"),
    ("add-task", "{files}/dup.yaml"),
    ("add-task", "{files}/passwd.yaml"),
    ("add-task", "{files}/garbage.parquet"),
    ("tasks", "list", "--type", "nosuch"),
    ("tasks", "list", "--language", "xx-Zzzz-99"),
    ("tasks", "show", "nosuch"),
    ("tasks", "show", "../../etc/passwd"),
    ("tasks", "validate", "{files}/garbage.yaml"),
    ("models", "list"),
    ("models", "show", "nosuch"),
    ("models", "show", "package.module:function"),
    ("importers", "list"),
    ("aggregate", "--method", "nosuch"),
    ("aggregate", "--method", "mean"),
    ("aggregate", "--method", "plackett-luce", "--models", "nosuch"),
    ("aggregate", "--method", "borda", "--tasks", "nosuch"),
    ("aggregate", "--input", "{files}/garbage.parquet"),
    ("aggregate", "--input", "{files}/empty.csv"),
    ("aggregate", "--input", "{files}/foreign.parquet"),
    ("aggregate", "--confidence", "7"),
    ("aggregate", "--param", "nonsense"),
    ("aggregate", "--method", "elo", "--param", "k=[[["),
    ("evaluate", "nosuch-model-xyz", "--tasks", "bundled-sts", "--quiet"),
    ("evaluate", "random", "--tasks", "nosuch", "--quiet"),
    ("evaluate", "random", "--quiet"),
    ("evaluate", "nosuch.module:function", "--tasks", "bundled-sts", "--quiet"),
    ("leaderboard", "validate", "{files}/garbage.yaml"),
    ("leaderboard", "validate", "{files}/nosuch.yaml"),
    ("leaderboard", "validate", "{files}/laughs.yaml"),
    ("leaderboard", "build", "{files}/garbage.yaml", "--out", "{tmp}/lb1"),
    ("leaderboard", "build", "{files}/board.yaml", "--out", "{files}/empty.csv"),
    ("leaderboard", "build", "{files}/board.yaml", "--out", "{tmp}/lb2"),
    ("leaderboard", "push", "{files}/board.yaml", "--repo", "not a repo", "--dry-run"),
    ("dices", "diagnostics", "nosuch"),
    ("dices", "generate", "{files}", "--items", "-3"),
]


@pytest.mark.parametrize("args", [pytest.param(c, id=" ".join(c)) if type(c) is tuple else c for c in CASES])
def test_no_verb_prints_a_traceback(hostile, args):
    r = run(hostile, *args)
    crashed = r.exception is not None and not isinstance(r.exception, SystemExit)
    assert not crashed, f"bench {' '.join(args)} raised {type(r.exception).__name__}: {r.exception}"
    assert "Traceback" not in r.output, r.output
    assert r.exit_code in (0, 2), (r.exit_code, r.output)
    if r.exit_code == 2:  # a few lines (click's usage lines, progress lines aside), not a dump
        lines = [ln for ln in r.output.strip().splitlines()
                 if ln.strip() and not ln.startswith(("... ", "Usage: ", "Try '"))]
        assert 0 < len(lines) <= 4, r.output
