"""Importer speed: MTEB result trees generated in MTEB's own layout from real result files.

    pytest benchmarks/bench_importers.py                       # 2,000 files, side by side with peers
    pytest benchmarks/bench_importers.py -m slow -s            # 100,000 files: must import in <= 120 s

The files are copies of the real MTEB result JSON files in ../shared/data/mteb/results-sample
(or of the hand-made fixtures when that folder is absent), cycled over generated model folders
`genorg__model-<i>/<revision>/<Task>.json` with a `model_meta.json` each, so sizes, versions and
shapes follow the real distribution. Peers on the same files in the same run: mteb's own reader
(`TaskResult.from_disk`, parse + validate only, nothing stored) and bare `json.loads` (a floor).
"""

from __future__ import annotations

import json
import os
import textwrap
import time
from pathlib import Path

import pytest

from samplebench.results import ResultStore
from samplebench.results.importers import IMPORTERS

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SAMPLEBENCH_SHARED_DATA", REPO.parent / "shared" / "data"))


def _templates() -> list[list[tuple[str, bytes]]]:
    """Per real model revision: [(file name, bytes)] of its task files."""
    root = SHARED / "mteb" / "results-sample"
    if not root.is_dir():
        root = REPO / "tests" / "importers_fixtures" / "mteb"
    out = []
    for rev in sorted(p for p in root.glob("*/*") if p.is_dir()):
        files = [(f.name, f.read_bytes()) for f in sorted(rev.glob("*.json")) if f.name != "model_meta.json"]
        if files:
            out.append(files)
    return out


def generate_mteb_tree(out: Path, n_files: int) -> Path:
    """Write `n_files` task result files in MTEB's layout under `out`; return `out`."""
    templates = _templates()
    written, i = 0, 0
    while written < n_files:
        files = templates[i % len(templates)][: n_files - written]
        name, rev = f"genorg__model-{i:06d}", f"{i:040x}"
        d = out / name / rev
        d.mkdir(parents=True)
        (d / "model_meta.json").write_text(json.dumps({"name": f"genorg/model-{i:06d}", "revision": rev}))
        for fname, data in files:
            (d / fname).write_bytes(data)
        written += len(files)
        i += 1
    return out


def _import(tree: Path, store_dir: Path) -> int:
    summary = IMPORTERS["mteb"](ResultStore(store_dir), tree, use_mteb=False)
    return summary.rows


def _mteb_reader(tree: Path) -> int:
    from mteb.results import TaskResult

    n = 0
    for f in tree.glob("*/*/*.json"):
        if f.name != "model_meta.json":
            TaskResult.from_disk(f)
            n += 1
    return n


def _json_floor(tree: Path) -> int:
    n = 0
    for f in tree.glob("*/*/*.json"):
        json.loads(f.read_bytes())
        n += 1
    return n


@pytest.fixture(scope="module")
def tree_2k(tmp_path_factory) -> Path:
    return generate_mteb_tree(tmp_path_factory.mktemp("mteb2k"), 2_000)


def test_bench_mteb_import_2k(benchmark, tree_2k, tmp_path):
    counter = iter(range(1_000_000))
    rows = benchmark.pedantic(lambda: _import(tree_2k, tmp_path / f"s{next(counter)}"), rounds=3, iterations=1)
    assert rows > 0


def test_bench_mteb_reader_peer_2k(benchmark, tree_2k):
    pytest.importorskip("mteb")
    n = benchmark.pedantic(lambda: _mteb_reader(tree_2k), rounds=3, iterations=1)
    assert n == 2_000


def test_bench_json_floor_2k(benchmark, tree_2k):
    assert benchmark.pedantic(lambda: _json_floor(tree_2k), rounds=3, iterations=1) > 2_000  # + model_meta.json


@pytest.mark.slow
def test_mteb_import_100k_files_under_two_minutes(tmp_path):
    tree = generate_mteb_tree(tmp_path / "tree", 100_000)
    t0 = time.perf_counter()
    summary = IMPORTERS["mteb"](ResultStore(tmp_path / "store"), tree, use_mteb=False)
    seconds = time.perf_counter() - t0
    print(f"\nimported 100,000 MTEB files: {summary.rows:,} rows, {len(summary.models):,} models in {seconds:.1f} s")
    assert summary.rows > 1_000_000
    assert seconds <= 120, f"{seconds:.1f} s > 120 s"
    t0 = time.perf_counter()
    again = IMPORTERS["mteb"](ResultStore(tmp_path / "store"), tree, use_mteb=False)
    print(f"re-import (idempotence check, nothing added): {time.perf_counter() - t0:.1f} s")
    assert again.already_imported


# -- the whole public MTEB results repository: the CLI in a fresh process beside mteb's own load ----

MTEB_RESULTS = Path(os.environ.get("SAMPLEBENCH_MTEB_RESULTS", "/work/cache/mteb-results"))


def _timed(cmd: list[str], cwd: Path | None = None) -> tuple[float, float, str]:
    """(wall seconds, peak RSS in GB, stdout) of `cmd` in a fresh process, from GNU time."""
    import re
    import subprocess

    proc = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True, text=True, cwd=cwd)
    assert proc.returncode == 0, proc.stderr[-2000:]
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", proc.stderr)
    h, m, sec = (float(x) if x else 0.0 for x in wall.groups())
    rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr).group(1))
    return h * 3600 + m * 60 + sec, rss_kb / 1e6, proc.stdout


@pytest.mark.slow
def test_full_mteb_repository_import_beside_mteb_load(tmp_path):
    """`bench results import --format mteb REPO` on the whole repository (104,642 files), then again
    (adds nothing), beside mteb's `ResultCache(REPO).load_results()` (its defaults: the same files;
    parse + validate, nothing stored)."""
    import sys

    if not (MTEB_RESULTS / "results").is_dir():
        pytest.skip(f"{MTEB_RESULTS}/results is absent (set SAMPLEBENCH_MTEB_RESULTS)")
    store = tmp_path / "store"
    bench = [str(Path(sys.executable).parent / "bench"), "results", "import", "--format", "mteb", str(MTEB_RESULTS),
             "--store", str(store), "--json", "--details", str(tmp_path / "details.json")]
    t_import, rss_import, out = _timed(bench)
    summary = json.loads(out)
    t_again, _, again = _timed(bench)
    peer = [sys.executable, "-c", "import sys, mteb; r = mteb.ResultCache(sys.argv[1]).load_results("
            "include_remote=False); print(len(r.model_results))", str(MTEB_RESULTS)]
    t_mteb, rss_mteb, n_models = _timed(peer)
    print(f"\nbench results import --format mteb (whole repository): {t_import:.1f} s, peak RSS {rss_import:.2f} GB, "
          f"{summary['rows']:,} rows, {len(summary['models'])} models, {len(summary['tasks'])} tasks, "
          f"{summary.get('cards', 0):,} sample cards")
    print("  skipped by reason: " + json.dumps(summary["skipped"]))
    print(f"  again: {t_again:.1f} s, {json.loads(again)['already_imported']=}")
    print(f"mteb ResultCache.load_results (same folder, {n_models.strip()} model results): {t_mteb:.1f} s, "
          f"peak RSS {rss_mteb:.2f} GB; ratio time {t_mteb / t_import:.2f}x, memory {rss_mteb / rss_import:.2f}x")
    assert summary["rows"] > 30_000_000 and json.loads(again)["already_imported"]


# -- the benchmark tables and Borda ranks from the store equal mteb's own, cell for cell ------------

MTEB_TABLE = textwrap.dedent("""
    import json, resource, sys, time, warnings, logging, tempfile, os
    warnings.filterwarnings("ignore"); logging.disable(logging.WARNING)
    start = time.perf_counter()
    import mteb
    from mteb.cache import ResultCache
    repo, name, out = sys.argv[1:4]
    cache = tempfile.mkdtemp()
    os.symlink(repo, os.path.join(cache, "remote"))
    bench = mteb.get_benchmark(name)
    long_df = ResultCache(cache).load_results(tasks=bench)._to_results_df(bench.tasks)  # the leaderboard's frame
    per_task, cols = bench._build_per_task_pivot(long_df)
    summary = bench._create_summary_table(long_df).df
    cells = {f"{m}\t{t}": v for row in per_task.iter_rows(named=True) for m in [row["model_name"]]
             for t in cols for v in [row[t]] if v is not None}
    json.dump({"cells": cells, "borda": dict(zip(summary["Model"], summary["Rank (Borda)"]))}, open(out, "w"))
    print(json.dumps({"seconds": time.perf_counter() - start,
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
""")


@pytest.fixture(scope="module")
def full_store(tmp_path_factory) -> Path:
    """The whole repository imported with the defaults (`SAMPLEBENCH_MTEB_STORE` reuses one)."""
    given = os.environ.get("SAMPLEBENCH_MTEB_STORE")
    if given and Path(given).is_dir():
        return Path(given)
    if not (MTEB_RESULTS / "results").is_dir():
        pytest.skip(f"{MTEB_RESULTS}/results is absent (set SAMPLEBENCH_MTEB_RESULTS)")
    store = tmp_path_factory.mktemp("full") / "store"
    IMPORTERS["mteb"](ResultStore(store), MTEB_RESULTS)
    return store


def _cli(*args: str) -> str:
    import subprocess
    import sys

    proc = subprocess.run([str(Path(sys.executable).parent / "bench"), *args], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


@pytest.mark.slow
@pytest.mark.parametrize("name", ["MTEB(eng, v2)", "MTEB(Multilingual, v2)"])
def test_benchmark_table_and_borda_equal_mteb_on_the_whole_repository(full_store, tmp_path, name):
    """`bench results table --benchmark NAME` equals the MTEB leaderboard's per-task table (mteb's
    `load_results(tasks=bench)` -> `_to_results_df` -> `_build_per_task_pivot`: join_revisions,
    the benchmark's splits and subsets, a task left empty unless every (split, subset) is there)
    cell for cell within 1e-6, with no cell only on one side; `bench aggregate --benchmark NAME
    --method borda-mteb` gives every model of mteb's summary table its `Rank (Borda)`."""
    import sys

    pytest.importorskip("mteb")
    ref = tmp_path / "mteb.json"
    t_mteb, rss_mteb, _ = _timed([sys.executable, "-c", MTEB_TABLE, str(MTEB_RESULTS), name, str(ref)])
    theirs = json.loads(ref.read_text())
    csv_path = tmp_path / "ours.csv"
    t_ours, rss_ours, _ = _timed([str(Path(sys.executable).parent / "bench"), "results", "table", "--benchmark", name,
                                  "--store", str(full_store), "--format", "csv", "--out", str(csv_path)])
    import csv

    ours = {}
    with open(csv_path, newline="") as fh:
        for row in csv.DictReader(fh):
            ours.update({f"{row['model']}\t{t}": float(v) for t, v in row.items() if t != "model" and v != ""})
    cells = theirs["cells"]
    differ = [k for k in set(ours) & set(cells) if abs(ours[k] - cells[k]) > 1e-6]
    only_ours, only_mteb = set(ours) - set(cells), set(cells) - set(ours)
    agg = json.loads(_cli("aggregate", "--benchmark", name, "--method", "borda-mteb", "--store", str(full_store),
                          "--json"))
    ranks = {m["model"]: m["rank"] for m in agg["models"]}
    borda_differ = {m: (ranks.get(m), r) for m, r in theirs["borda"].items() if ranks.get(m) != r}
    print(f"\n{name}: {len(ours):,} cells ours, {len(cells):,} mteb's; equal {len(ours) - len(only_ours) - len(differ):,}, "
          f"differ {len(differ)}, only ours {len(only_ours)}, only mteb {len(only_mteb)}; bench results table "
          f"{t_ours:.1f} s / {rss_ours:.2f} GB, mteb's load + table {t_mteb:.1f} s / {rss_mteb:.2f} GB; "
          f"Rank (Borda): {len(theirs['borda']) - len(borda_differ)} of {len(theirs['borda'])} models equal "
          f"({len(ranks)} ranked by borda-mteb)")
    assert not differ and not only_ours and not only_mteb, (sorted(differ)[:5], sorted(only_ours)[:5],
                                                            sorted(only_mteb)[:5])
    assert not borda_differ, list(borda_differ.items())[:5]


# -- the numbers quoted in the importers' closing note: `python benchmarks/bench_importers.py` ------

def report(shared: Path = SHARED, bootstrap: int = 200) -> str:
    """Rankings of the real imports: MTEB(eng, v2) main-score table (PL vs borda-mteb) and the
    Colombo instance-level tables (two-level Borda vs PL vs mean), with Kendall tau."""
    import tempfile

    from scipy.stats import kendalltau

    from samplebench.aggregators import fit
    from samplebench.selection import select_evidence

    out: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        store = ResultStore(Path(tmp) / "store")
        s = IMPORTERS["mteb-scores"](store, shared / "mteb" / "eng_v2_main_scores.csv")
        out += s.lines()
        ev = select_evidence(store)
        pl = fit(ev, "plackett-luce")
        borda = fit(ev, "borda-mteb", bootstrap=bootstrap, seed=0)
        a, b = pl.by_model(), borda.by_model()
        tau = kendalltau([a[m].score for m in a], [b[m].score for m in a]).statistic
        full = [m for m in a if b[m].n_samples == max(x.n_samples for x in b.values())]
        tau_full = kendalltau([a[m].score for m in full], [b[m].score for m in full]).statistic
        out.append(f"MTEB(eng, v2) main scores: Kendall tau(PL, borda-mteb) = {tau:.3f} over all {len(a)} models, "
                   f"{tau_full:.3f} over the {len(full)} models with every task")
        for r in (pl, borda):
            out.append(f"top 10 by {r.method} ({r.score_scale}; CI {'Fisher' if r is pl else f'bootstrap B={bootstrap}'}):")
            for m in sorted(r.models, key=lambda m: m.rank)[:10]:
                ci = f"[{m.ci_low:.2f}, {m.ci_high:.2f}]" if m.ci_low is not None else "[-]"
                out.append(f"  {m.rank:>3} {m.model:<45} {m.score:10.2f} {ci:>20} rank CI {m.rank_ci} tasks {m.n_samples}")
        IMPORTERS["colombo"](store, shared / "colombo" / "instance_level")
        out.append("Colombo instance-level tables, all metrics (human H:* included); Kendall tau vs two-level Borda:")
        for task in sorted(p.stem for p in (shared / "colombo" / "instance_level").glob("*.csv")):
            ev = select_evidence(store, tasks=[task], all_metrics=True)
            rk = {"borda-two": fit(ev, "borda", level="two", ci="none"),
                  "plackett-luce": fit(ev, "plackett-luce", ci="none"),
                  "mean": fit(ev, "mean", ci="none")}
            ref = rk["borda-two"].by_model()
            taus = {n: kendalltau([ref[m].score for m in ref], [rk[n].by_model()[m].score for m in ref]).statistic
                    for n in ("plackett-luce", "mean")}
            pm = kendalltau([rk["plackett-luce"].by_model()[m].score for m in ref],
                            [rk["mean"].by_model()[m].score for m in ref]).statistic
            out.append(f"  {task:<10} systems {len(ref):>3}  tau(2-Borda, PL) {taus['plackett-luce']:.3f}  "
                       f"tau(2-Borda, mean) {taus['mean']:.3f}  tau(PL, mean) {pm:.3f}  "
                       f"top: {rk['borda-two'].order()[0]} / {rk['plackett-luce'].order()[0]} / {rk['mean'].order()[0]}")
    return "\n".join(out)


if __name__ == "__main__":
    print(report())
