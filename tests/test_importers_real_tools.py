"""lm-evaluation-harness 0.4.13 and inspect-ai 0.3.285 outputs written by the real tools.

The fixtures in importers_fixtures/real/ were written offline by
`importers_fixtures/make_real_outputs.py` (a tiny randomly initialised GPT-2 with a locally
trained tokenizer for lm-eval; `mockllm/model` for inspect); the slow test at the end runs the
tools again and imports what they write today.
"""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest

from samplebench.errors import SampleBenchError
from samplebench.results import ResultStore
from samplebench.results.importers import IMPORTERS

REAL = Path(__file__).parent / "importers_fixtures" / "real"
LM_OUT = REAL / "lm_eval" / "out"
NEW, OLD = "2026-12-01T03-58-55.275223", "2026-12-01T03-58-29.731064"


@pytest.fixture
def store(home) -> ResultStore:
    return ResultStore(home / "store")


def values(store: ResultStore, **kw) -> dict[tuple[str, str], float | None]:
    t = store.scan(latest=False, **kw)
    return {(s, m): v for s, m, v in zip(t["sample_id"].to_pylist(), t["metric"].to_pylist(),
                                         t["value"].to_pylist(), strict=True)}


def assert_nothing_imported(store: ResultStore) -> None:
    assert store.runs() == [] and store.scan().num_rows == 0


def samples_file(folder: Path, date: str) -> Path:
    return next(folder.rglob(f"samples_tiny_arith_{date}.jsonl"))


# -- lm-evaluation-harness ------------------------------------------------------------------------

def test_lm_eval_two_runs_in_one_folder_keep_the_newest(store):
    s = IMPORTERS["lm-eval"](store, LM_OUT)
    assert s.models == ["tiny-gpt2"] and s.tasks == ["tiny_arith"] and set(s.metrics) == {"acc", "acc_norm"}
    assert s.rows == 12 * 2  # the newest run (--limit 12), not 8 + 12 refused as duplicate cells
    assert s.details["superseded_runs"] == [str(samples_file(LM_OUT, OLD))]
    assert any("superseded" in r for r in s.skipped)
    # values exactly as lm-eval logged them in the newest samples file
    logged = [json.loads(line) for line in samples_file(LM_OUT, NEW).read_text().splitlines()]
    got = values(store)
    assert {(str(d["doc_id"]), m): d[m] for d in logged for m in ("acc", "acc_norm")} == got
    # model_sha is "" for a local model: no revision, and the summary says so
    assert store.scan(columns=["model_revision"])["model_revision"].null_count == s.rows
    assert any("model_sha is empty" in n for n in s.notes)
    res = json.loads(next(LM_OUT.rglob(f"results_{NEW}.json")).read_text())
    assert res["config"]["model_sha"] == "" and res["lm_eval_version"] == "0.4.13"
    # lm-eval's own aggregate equals the mean of the imported rows
    accs = [v for (_, m), v in got.items() if m == "acc"]
    assert sum(accs) / len(accs) == pytest.approx(res["results"]["tiny_arith"]["acc,none"], abs=1e-12)


def test_lm_eval_output_path_with_a_file_name(store):
    """`--output_path run_json/run.json` writes `run_<date>.json` beside the samples file."""
    folder = REAL / "lm_eval" / "run_json"
    assert [p.name.split("_")[0] for p in sorted(folder.glob("*.json"))] == ["run"]
    s = IMPORTERS["lm-eval"](store, folder)
    assert s.models == ["tiny-gpt2"] and s.rows == 24
    res = json.loads(next(folder.glob("run_*.json")).read_text())
    assert set(store.scan(columns=["task_revision"])["task_revision"].to_pylist()) == {res["task_hashes"]["tiny_arith"]}


def test_lm_eval_samples_file_cut_short_is_reported(store, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(LM_OUT, out)
    for f in out.rglob(f"*{OLD}*"):
        f.unlink()
    f = samples_file(out, NEW)
    lines = f.read_text().splitlines(keepends=True)
    f.write_text("".join(lines[:7]))  # cut at a line boundary: 7 of the 12 documents
    s = IMPORTERS["lm-eval"](store, out)
    assert s.rows == 7 * 2
    [info] = s.details["incomplete_samples"]
    assert (info["documents"], info["documents_expected"]) == (7, 12) and info["samples_file"] == str(f)
    assert any("holds 7 of the 12 documents" in n for n in s.notes)


def test_lm_eval_cli_says_so(bench, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(LM_OUT, out)
    r = bench("results", "import", "--format", "lm-eval", out)
    assert r.exit_code == 0 and "superseded" in r.output and "model_sha is empty" in r.output


# -- inspect-ai -----------------------------------------------------------------------------------

def eval_log(folder: str = "inspect") -> Path:
    return next((REAL / folder).glob("*.eval"))


def test_inspect_eval_logs_with_zstd_members(store):
    log = eval_log()
    with zipfile.ZipFile(log) as z:
        assert {i.compress_type for i in z.infolist()} == {93}  # zstd, inspect's default
    s = IMPORTERS["inspect"](store, log)
    assert s.models == ["mockllm/model"] and s.tasks == ["tiny"]
    assert set(s.metrics) == {"match", "multi/a", "multi/b"}
    got = values(store)
    # mockllm answered the odd samples correctly; multi scores a = n % 2, b = 1 - (n % 3) / 2
    for n in range(1, 5):
        assert got[f"{n}#1", "match"] == (1.0 if n % 2 else 0.0)
        assert got[f"{n}#1", "multi/a"] == n % 2 and got[f"{n}#1", "multi/b"] == 1 - (n % 3) / 2
    assert "incomplete_logs" not in s.details


def test_inspect_json_log_of_the_same_task_agrees(store, tmp_path):
    log = next((REAL / "inspect").glob("*.json"))
    IMPORTERS["inspect"](store, log)
    other = ResultStore(tmp_path / "other")
    IMPORTERS["inspect"](other, eval_log())
    assert values(store) == values(other)


def test_inspect_corrupted_member_names_the_file_and_imports_nothing(store, tmp_path, bench):
    log = tmp_path / eval_log().name
    shutil.copy(eval_log(), log)
    with zipfile.ZipFile(log) as z:
        info = z.getinfo("samples/2_epoch_1.json")
    data = bytearray(log.read_bytes())
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    for i in range(start + 8, start + 40):
        data[i] ^= 0x5A
    log.write_bytes(bytes(data))
    with pytest.raises(SampleBenchError, match=r"\.eval!samples/2_epoch_1\.json: corrupted archive member"):
        IMPORTERS["inspect"](store, log)
    assert_nothing_imported(store)
    r = bench("results", "import", "--format", "inspect", log)
    assert r.exit_code == 2 and "samples/2_epoch_1.json" in r.output and "Traceback" not in r.output


def test_inspect_error_status_is_reported_with_consistent_metric_names(store):
    log = eval_log("inspect_error")
    s = IMPORTERS["inspect"](store, log)
    info = s.details["incomplete_logs"][str(log)]
    assert info["status"] == "error" and "solver failed on sample 3" in info["error"]
    assert (info["samples_expected"], info["samples_in_log"], info["samples_failed"]) == (10, 4, 2)
    assert info["samples_absent"] == [f"{i}#1" for i in (10, 5, 6, 7, 8, 9)] or \
        sorted(info["samples_absent"]) == sorted(f"{i}#1" for i in range(5, 11))
    assert any("status 'error'" in n and "4 of 10 samples" in n for n in s.notes)
    # failed samples carry the same metric names as scored ones, never a made-up 'score' or bare 'a'
    assert set(s.metrics) == {"match", "multi/a", "multi/b"}
    got = store.scan(latest=False).to_pylist()
    failed = [r for r in got if r["sample_id"] == "3#1"]
    assert {r["metric"] for r in failed} == {"match", "multi/a", "multi/b"}
    assert all(r["value"] is None and "solver failed on sample 3" in r["error"] for r in failed)


@pytest.mark.slow
def test_the_real_tools_still_write_what_the_importers_read(tmp_path, store):
    pytest.importorskip("lm_eval")
    pytest.importorskip("inspect_ai")
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_real_outputs", REAL.parent / "make_real_outputs.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    gen.main(tmp_path / "real")
    s = IMPORTERS["lm-eval"](store, tmp_path / "real" / "lm_eval" / "out")
    assert s.rows == 24 and len(s.details["superseded_runs"]) == 1
    # the folder holds one run as .eval and as .json (the same cells twice): import one log
    s = IMPORTERS["inspect"](ResultStore(tmp_path / "s2"), next((tmp_path / "real" / "inspect").glob("*.eval")))
    assert set(s.metrics) == {"match", "multi/a", "multi/b"}
    s = IMPORTERS["inspect"](ResultStore(tmp_path / "s3"), tmp_path / "real" / "inspect_error")
    assert next(iter(s.details["incomplete_logs"].values()))["status"] == "error"
    # sample cards: the documents' questions (not the few-shot prompt) and the chat inputs
    from samplebench.results.cards import CardStore

    s4 = ResultStore(tmp_path / "s4")
    assert IMPORTERS["lm-eval"](s4, tmp_path / "real" / "lm_eval" / "cards").cards == 8
    assert IMPORTERS["inspect"](s4, tmp_path / "real" / "inspect_cards").cards == 6
    texts = CardStore(s4).read()["text"].to_pylist()
    questions = [q for _, _, q, _ in gen.QUIZ]
    assert texts == questions[:8] + questions[:6]


def test_lm_eval_one_samples_file_takes_its_results_file(store):
    s = IMPORTERS["lm-eval"](store, samples_file(LM_OUT, OLD))
    assert s.models == ["tiny-gpt2"] and s.rows == 8 * 2 and "superseded_runs" not in s.details
