"""`bench aggregate` as users run it: a newcomer measured once, hostile options, a long bootstrap
stopped with Ctrl-C, 10,000 models with two samples each, and interval coverage with very sparse
models on seeded ONEBench-protocol data (issues 16 and 17)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from aggregators_sim import onebench_sim

from samplebench.aggregators import evidence_from_matrix, fit


def _write(path: Path, rows: list[tuple[str, str, str, str, float]]) -> Path:
    m, t, s, me, v = zip(*rows, strict=True)
    pq.write_table(pa.table({"model": list(m), "task": list(t), "sample_id": list(s), "metric": list(me),
                             "value": list(v)}), path)
    return path


def _newcomer_file(tmp_path: Path) -> Path:
    """Five models on 120 samples each, plus `newcomer` on one sample where it beats all five."""
    rng = np.random.default_rng(0)
    rows = [(f"m{i}", "t", f"s{s}", "acc", float(0.3 * i + rng.normal())) for s in range(120) for i in range(5)]
    rows += [(f"m{i}", "t", "new", "acc", 0.0) for i in range(5)] + [("newcomer", "t", "new", "acc", 1.0)]
    return _write(tmp_path / "newcomer.parquet", rows)


def test_a_model_measured_once_gets_a_wide_rank_interval_and_a_flag(bench, tmp_path):
    f = _newcomer_file(tmp_path)
    r = json.loads(bench("aggregate", "--input", f, "--json").output)
    by = {m["model"]: m for m in r["models"]}
    new = by["newcomer"]
    assert new["never_lost"] and not new["never_won"]
    assert new["rank_ci"][1] - new["rank_ci"][0] >= 3  # was 1-1, narrower than the 120-sample models
    assert new["ci_high"] - new["ci_low"] > 3 * max(m["ci_high"] - m["ci_low"] for m in r["models"]
                                                     if m["model"] != "newcomer")
    assert r["diagnostics"]["no_losses"] == ["newcomer"]
    table = bench("aggregate", "--input", f).output
    line = next(x for x in table.splitlines() if "newcomer" in x)
    assert "never lost" in line
    diag = bench("aggregate", "--input", f, "--ci", "fisher-diagonal", "--json").output
    assert json.loads(diag)["models"][0]["rank_ci"][1] >= 4


@pytest.mark.parametrize(("args", "message"), [
    (["--bootstrap", "-5"], "--bootstrap must be >= 0, got -5"),
    (["--jobs", "0"], "--jobs must be >= 1, got 0"),
    (["--jobs", "-1"], "--jobs must be >= 1, got -1"),
    (["--param", "alpha=-1"], "parameter alpha must be >= 0"),
    (["--param", "seed=3"], "'seed' is an option of bench aggregate"),
    (["--param", "direction=sideways"], "parameter direction must be one of both, forward"),
    (["--confidence", "1.5"], "--confidence must be between 0 and 1"),
    (["--seed", "-1"], "--seed must be >= 0"),
])
def test_hostile_options_are_refused_in_one_line(bench, tmp_path, args, message):
    from click.testing import CliRunner

    from samplebench.cli import cli

    res = CliRunner().invoke(cli, ["aggregate", "--input", str(_newcomer_file(tmp_path)), *args])
    assert res.exit_code == 2
    assert message in res.output
    assert "Traceback" not in res.output and len(res.output.strip().splitlines()) <= 2


def test_a_million_bootstrap_replicates_show_progress_and_stop_on_ctrl_c(tmp_path):
    f = _newcomer_file(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    log = tmp_path / "stderr.txt"
    with log.open("w") as err_file:
        proc = subprocess.Popen([sys.executable, "-c", "from samplebench.cli import main; main()", "aggregate",
                                 "--input", str(f), "--bootstrap", "1000000", "--jobs", "2"],
                                stdout=subprocess.DEVNULL, stderr=err_file, env=env)
        try:
            deadline = time.time() + 60
            while time.time() < deadline and proc.poll() is None and not re_eta(log.read_text()):
                time.sleep(0.5)
            err = log.read_text()
            assert "/1000000" in err and re_eta(err), err[-500:]
            t0 = time.time()
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=20)
            assert time.time() - t0 < 10
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode != 0


def re_eta(err: str) -> bool:
    """tqdm's estimate: [elapsed<remaining, rate]."""
    import re

    return re.search(r"\[\d+:\d\d<[\d:]+, ", err) is not None


def test_ten_thousand_models_with_two_samples_each(bench, tmp_path):
    """20k rows: the old path built n x n matrices (605 s, 6.6 GB); now O(#measurements)."""
    rng = np.random.default_rng(0)
    n = 10_000
    slots = np.r_[rng.permutation(n), rng.permutation(n)]
    mu = rng.normal(size=n)
    v = mu[slots] + rng.normal(size=2 * n)
    f = tmp_path / "wide.parquet"
    pq.write_table(pa.table({"model": [f"m{i:05d}" for i in slots], "task": ["t"] * (2 * n),
                             "sample_id": [f"s{s}" for s in np.arange(2 * n) // 10], "metric": ["acc"] * (2 * n),
                             "value": v}), f)
    t0 = time.perf_counter()
    res = bench("aggregate", "--input", f, "--json")
    assert time.perf_counter() - t0 < 60
    r = json.loads(res.stdout)
    assert "plackett-luce: fitting 10,000 models" in res.stderr  # progress for a large, sparse problem
    assert len(r["models"]) == n and r["diagnostics"]["ci_method"] == "fisher-diagonal"
    assert r["diagnostics"]["converged"]
    widths = [m["rank_ci"][1] - m["rank_ci"][0] for m in r["models"]]
    assert np.median(widths) > 1000  # two samples each: very uncertain ranks


def _coverage(ci: str, seeds: range) -> tuple[float, float]:
    """ONEBench protocol (100 models x 5,000 samples, 95% missing) with five very sparse models
    (1, 2, 3, 5 and 10 samples): coverage of the true rank by the rank intervals."""
    from scipy.stats import rankdata

    hits, sparse_hits = [], []
    for seed in seeds:
        values, mu = onebench_sim(100, 5000, 0.95, seed=seed)
        rng = np.random.default_rng(1000 + seed)
        sparse = rng.choice(100, 5, replace=False)
        for k, i in zip((1, 2, 3, 5, 10), sparse, strict=True):
            values[np.flatnonzero(~np.isnan(values[:, i]))[k:], i] = np.nan
        bm = fit(evidence_from_matrix(values), "plackett-luce", ci=ci).by_model()
        true_rank = rankdata(-mu, method="min")
        for i in range(100):
            lo, hi = bm[f"m{i:03d}"].rank_ci
            (sparse_hits if i in sparse else hits).append(lo <= true_rank[i] <= hi)
    return float(np.mean(hits)), float(np.mean(sparse_hits))


@pytest.mark.parametrize("ci", ["fisher-diagonal", "auto"])
def test_rank_intervals_cover_the_true_rank_with_very_sparse_models(ci):
    overall, sparse = _coverage(ci, range(6))
    assert overall >= 0.93
    assert sparse >= 0.93


def test_the_leaderboard_table_flags_the_newcomer(tmp_path):
    from samplebench.leaderboards import build_leaderboard
    from samplebench.registry.leaderboard_spec import leaderboard_spec_from_dict
    from samplebench.results import ResultStore

    rows = pq.read_table(_newcomer_file(tmp_path)).to_pylist()
    store = ResultStore(tmp_path / "store")
    store.append([{**r, "error": None} for r in rows])
    spec = leaderboard_spec_from_dict({"name": "new", "title": "Newcomer"})
    b = build_leaderboard(spec, store, tmp_path / "out")
    table = {r["model"]: r for r in b.table.to_pylist()}
    assert table["newcomer"]["never_lost"] and not table["newcomer"]["never_won"]
    assert not any(r["never_lost"] or r["never_won"] for m, r in table.items() if m != "newcomer")
    assert table["newcomer"]["rank_ci_high"] - table["newcomer"]["rank_ci_low"] >= 3


def test_large_fits_report_their_stages_on_stderr(monkeypatch, capsys):
    import samplebench.aggregators.api as api

    monkeypatch.setattr(api, "PROGRESS_MODELS", 5)
    values, _ = onebench_sim(8, 200, 0.2, seed=0)
    fit(evidence_from_matrix(values), "plackett-luce", progress=True)
    err = capsys.readouterr().err
    assert "plackett-luce: fitting 8 models on" in err and "intervals" in err
    fit(evidence_from_matrix(values), "plackett-luce")
    assert capsys.readouterr().err == ""


def test_means_of_values_near_the_float_limit_stay_finite():
    values = np.array([[1e308, 0.0, 5e307, -1e308], [1e308, 1.0, 5e307, -1e308]])
    for method in ("mean", "normalized-mean"):
        r = fit(evidence_from_matrix(values), method)
        assert all(np.isfinite(m.score) for m in r.models), method
        assert r.order() == ["m000", "m002", "m001", "m003"]


def test_a_model_whose_every_value_is_an_error_is_named(bench, tmp_path):
    f = tmp_path / "errors.parquet"
    pq.write_table(pa.table({"model": ["a", "b", "c", "a", "b", "c"], "task": ["t"] * 6,
                             "sample_id": ["s0", "s0", "s0", "s1", "s1", "s1"], "metric": ["acc"] * 6,
                             "value": [1.0, 0.0, None, 0.0, 1.0, None]}), f)
    r = json.loads(bench("aggregate", "--input", f, "--json").stdout)
    assert {m["model"] for m in r["models"]} == {"a", "b"}
    assert any("c" in n and "left out" in n for n in r["diagnostics"]["notes"])


def test_every_verb_in_the_lazy_table_lives_in_its_module():
    """`bench` imports a verb's module only when it runs (COMMAND_MODULES); each entry must name
    the module that defines the verb, and every verb any module defines is reachable."""
    import importlib
    import pkgutil

    import samplebench.cli as cli_pkg

    defined = {}
    for info in pkgutil.iter_modules(cli_pkg.__path__):
        if not info.name.startswith("_"):
            for c in getattr(importlib.import_module(f"samplebench.cli.{info.name}"), "COMMANDS", []):
                defined[c.name] = info.name
    for verb, module in cli_pkg.COMMAND_MODULES.items():
        assert defined.get(verb) == module, verb
    assert set(cli_pkg.cli.list_commands(None)) == set(defined)


def test_aggregate_from_a_file_imports_only_what_it_needs(tmp_path):
    """A fresh `bench aggregate --input FILE` loads no other verb, and neither pandas, scipy nor
    numba (their imports alone would cost more than reading and ranking 2M measurements), on
    ballots of ~15 models (diagonal default intervals, as on ONEBench-size files)."""
    values, _ = onebench_sim(30, 400, 0.5, seed=1)
    s, m = np.nonzero(~np.isnan(values))
    f = tmp_path / "sim.parquet"
    pq.write_table(pa.table({"model": [f"m{i}" for i in m], "task": ["t"] * s.size, "sample_id": [f"s{i}" for i in s],
                             "metric": ["acc"] * s.size, "value": values[s, m]}), f)
    code = ("import sys\nfrom samplebench.cli import main\n"
            f"sys.argv = ['bench', 'aggregate', '--input', {str(f)!r}, '--json']\n"
            "try:\n    main()\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
            "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('pandas', 'scipy', 'numba') or "
            "(m.startswith('samplebench.cli.') and m not in ('samplebench.cli._common', 'samplebench.cli.aggregate')))\n"
            "print(heavy, file=sys.stderr)\n")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert p.returncode == 0, p.stderr[-2000:]
    assert json.loads(p.stdout)["diagnostics"]["ci_method"] == "fisher-diagonal"
    assert p.stderr.strip().splitlines()[-1] == "[]"
