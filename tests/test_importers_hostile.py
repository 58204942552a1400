"""Importers on hostile and degenerate inputs: non-finite values, string scores, devices, huge files,
and the `canonical` format the README lists.

Non-finite values: every importer hands them to the store, whose writer applies the one rule
(`schema.nonfinite_to_errors`); these tests check that each format's reader delivers them there
(MTEB's `Infinity`, JSON Lines' `NaN`, CSV's `inf`) instead of dropping, refusing or storing them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from samplebench.errors import SampleBenchError
from samplebench.results import ResultStore
from samplebench.results.importers import IMPORTERS

FIX = Path(__file__).parent / "importers_fixtures"


@pytest.fixture
def store(home) -> ResultStore:
    return ResultStore(home / "store")


def by_model(store: ResultStore) -> dict[str, tuple[float | None, str | None]]:
    t = store.scan(latest=False)
    return {m: (v, e) for m, v, e in zip(t["model"].to_pylist(), t["value"].to_pylist(), t["error"].to_pylist(),
                                         strict=True)}


HEADER = "model,task,sample_id,metric,value\n"


# -- one rule for values that are not finite numbers ------------------------------------------------

@pytest.mark.parametrize("fmt", ["csv", "canonical"])
def test_csv_inf_and_nan_become_error_rows(store, tmp_path, fmt):
    f = tmp_path / "m.csv"
    f.write_text(HEADER + "good,t,1,acc,0.5\npos,t,1,acc,inf\nneg,t,1,acc,-inf\nnan,t,1,acc,NaN\n")
    s = IMPORTERS[fmt](store, f)
    assert s.rows == 4
    got = by_model(store)
    assert got["good"] == (0.5, None)
    assert got["pos"] == (None, "non-finite value (inf) is not a measurement")
    assert got["neg"] == (None, "non-finite value (-inf) is not a measurement")
    assert got["nan"] == (None, "non-finite value (nan) is not a measurement")  # a model named "nan" is a name


def test_jsonl_nan_and_infinity_become_error_rows(store, tmp_path):
    f = tmp_path / "m.jsonl"
    f.write_text('{"model": "a", "task": "t", "sample_id": "1", "metric": "acc", "value": NaN}\n'
                 '{"model": "b", "task": "t", "sample_id": "1", "metric": "acc", "value": Infinity}\n'
                 '{"model": "c", "task": "t", "sample_id": "1", "metric": "acc", "value": 1.0}\n')
    IMPORTERS["jsonl"](store, f)
    got = by_model(store)
    assert got["a"] == (None, "non-finite value (nan) is not a measurement")
    assert got["b"] == (None, "non-finite value (inf) is not a measurement")
    assert got["c"] == (1.0, None)


def test_parquet_and_onebench_inf_become_error_rows(store, tmp_path):
    f = tmp_path / "m.parquet"
    pq.write_table(pa.table({"model": ["a", "b"], "task": ["t", "t"], "sample_id": ["1", "1"],
                             "metric": ["acc", "acc"], "value": [float("inf"), 0.25]}), f)
    IMPORTERS["parquet"](store, f)
    assert by_model(store)["a"][0] is None and by_model(store)["b"] == (0.25, None)
    wide = tmp_path / "wide" / "w.parquet"
    wide.parent.mkdir()
    pq.write_table(pa.table({"model": ["m1", "m2"], "s1": [float("-inf"), 0.5]}), wide)
    other = ResultStore(tmp_path / "other")
    IMPORTERS["onebench"](other, wide.parent)
    got = by_model(other)
    assert got["m1"] == (None, "non-finite value (-inf) is not a measurement") and got["m2"] == (0.5, None)


def test_mteb_infinity_becomes_an_error_row(store, tmp_path):
    d = tmp_path / "results" / "acme__embed" / ("1" * 40)
    d.mkdir(parents=True)
    (d / "STS12.json").write_text(
        '{"task_name": "STS12", "mteb_version": "2.0.0", "dataset_revision": "x", "scores": {"test": '
        '[{"hf_subset": "default", "languages": ["eng-Latn"], "cosine_spearman": Infinity, "main_score": -Infinity}]}}')
    IMPORTERS["mteb"](store, tmp_path / "results", use_mteb=False)
    rows = store.scan(latest=False).to_pylist()
    assert {r["metric"] for r in rows} == {"cosine_spearman", "main_score"}
    assert {r["error"] for r in rows} == {"non-finite value (inf) is not a measurement",
                                          "non-finite value (-inf) is not a measurement"}
    assert all(r["value"] is None for r in rows)


def test_cli_aggregate_sees_no_infinite_value(bench, home, tmp_path):
    f = tmp_path / "m.csv"
    f.write_text(HEADER + "".join(f"{m},t,{i},acc,{v}\n" for i in range(3)
                                  for m, v in (("good", 0.9), ("bad", 0.1), ("inf", "inf"))))
    assert bench("results", "import", "--format", "csv", f).exit_code == 0
    t = ResultStore().scan()
    import pyarrow.compute as pc

    assert pc.all(pc.is_finite(pc.drop_null(t["value"]))).as_py()


# -- MTEB scores written as strings ----------------------------------------------------------------

def test_mteb_string_scores_without_mteb_metadata(bench, home, tmp_path):
    d = tmp_path / "results" / "acme__embed" / ("1" * 40)
    d.mkdir(parents=True)
    (d / "STS12.json").write_text(json.dumps({
        "task_name": "STS12", "mteb_version": "2.0.0", "dataset_revision": "x",
        "scores": {"test": [{"hf_subset": "default", "languages": ["eng-Latn"], "cosine_spearman": "0.8",
                             "main_score": "0.8"}]}}))
    r = bench("results", "import", "--format", "mteb", tmp_path / "results", "--set", "use_mteb=false")
    assert r.exit_code == 0, r.output
    assert "Traceback" not in r.output and "KeyError" not in r.output
    [row] = ResultStore().scan(latest=False).to_pylist()
    assert row["metric"] == "main_score" and row["value"] is None and "str '0.8'" in row["error"]


# -- files that are not plausible inputs ----------------------------------------------------------

def test_sparse_gigabyte_mteb_json_is_refused_before_reading(store, tmp_path, bench):
    d = tmp_path / "results" / "acme__embed" / ("1" * 40)
    d.mkdir(parents=True)
    big = d / "STS12.json"
    with open(big, "wb") as fh:
        fh.truncate(1 << 30)  # sparse: no disk used
    with pytest.raises(SampleBenchError, match=r"STS12\.json: 1 GiB is larger than format 'mteb' accepts.*64 MiB"):
        IMPORTERS["mteb"](store, tmp_path / "results")
    assert store.runs() == []
    r = bench("results", "import", "--format", "mteb", tmp_path / "results")
    assert r.exit_code == 2 and "64 MiB" in r.output and "Traceback" not in r.output


@pytest.mark.parametrize("fmt,name", [("mteb", "STS12.json"), ("inspect", "log.eval"), ("lm-eval", "results.json"),
                                      ("csv", "m.csv"), ("canonical", "m.jsonl"), ("colombo", "T.csv")])
def test_links_to_devices_are_refused(store, tmp_path, fmt, name):
    if not os.path.exists("/dev/zero"):
        pytest.skip("no /dev/zero")
    d = tmp_path / "in" / "acme__embed" / ("1" * 40)
    d.mkdir(parents=True)
    (d / name).symlink_to("/dev/zero")
    for path in (tmp_path / "in", d / name):  # inside a folder, and named directly
        with pytest.raises(SampleBenchError, match=rf"{name}: not a regular file"):
            IMPORTERS[fmt](store, path)
    assert store.runs() == []


def test_every_importer_declares_a_limit():
    assert all(0 < imp.max_bytes <= 16 << 30 for imp in IMPORTERS.values())
    assert IMPORTERS["mteb"].max_bytes == 64 << 20


# -- the canonical format --------------------------------------------------------------------------

def test_canonical_format_reads_each_file_by_its_suffix(store, tmp_path, bench):
    d = tmp_path / "tables"
    d.mkdir()
    (d / "a.csv").write_text(HEADER + "m1,t,1,acc,0.5\n")
    (d / "b.jsonl").write_text('{"model": "m2", "task": "t", "sample_id": "1", "metric": "acc", "value": 0.25}\n')
    pq.write_table(pa.table({"model": ["m3"], "task": ["t"], "sample_id": ["1"], "metric": ["acc"], "value": [1.0]}),
                   d / "c.parquet")
    r = bench("results", "import", "--format", "canonical", d, "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["models"] == ["m1", "m2", "m3"]
    (d / "notes.txt").write_text("ignored: not a table suffix")
    assert bench("results", "import", "--format", "canonical", d).output.startswith(f"{d}: already imported")
    r = bench("results", "import", "--format", "canonical", d / "notes.txt")
    assert r.exit_code == 2 and "--format parquet|csv|jsonl" in r.output


def test_canonical_format_on_real_alpacaeval_measurements(store, shared_data):
    path = shared_data / "alpacaeval" / "alpaca-eval-1_measurements.parquet"
    s = IMPORTERS["canonical"](store, path)
    assert s.rows == pq.read_metadata(path).num_rows == 41_799
    assert "canonical" in IMPORTERS and "canonical" in (Path(__file__).parents[1] / "README.md").read_text()
