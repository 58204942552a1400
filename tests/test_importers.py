"""Importers on small hand-made samples of each harness's documented format (tests/importers_fixtures)."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from samplebench.errors import SampleBenchError
from samplebench.results import ResultStore
from samplebench.results.importers import IMPORTERS
from samplebench.results.importers.aliases import ModelNames, normalise_model_name
from samplebench.results.importers.inspect_logs import score_value

FIX = Path(__file__).parent / "importers_fixtures"


@pytest.fixture
def store(home) -> ResultStore:
    return ResultStore(home / "store")


def rows(store: ResultStore, **kw) -> list[dict]:
    return store.scan(latest=False, **kw).to_pylist()


def cell(store: ResultStore, model: str, task: str, sample: str, metric: str) -> dict:
    hits = [r for r in rows(store, models=[model], tasks=[task]) if r["sample_id"] == sample and r["metric"] == metric]
    assert len(hits) == 1, (model, task, sample, metric, hits)
    return hits[0]


def assert_nothing_imported(store: ResultStore) -> None:
    assert store.runs() == []
    assert store.scan().num_rows == 0
    staging = store.root / "_staging"
    assert not staging.exists() or not any(staging.iterdir())


# -- names -----------------------------------------------------------------------------------------

def test_model_names_normalise_and_alias(tmp_path, home):
    assert normalise_model_name("BAAI__bge-m3") == "BAAI/bge-m3"
    assert normalise_model_name("org/a__b") == "org/a__b"
    assert normalise_model_name("plain") == "plain"
    names = ModelNames(FIX / "aliases.yaml")
    assert names("acme__embed-small") == "acme/embed-small-v1"
    assert names("acme/embed-small") == "acme/embed-small-v1"  # either spelling is a key
    assert names("EleutherAI__pythia-70m") == "pythia-70m"
    assert names("other__x") == "other/x"
    # $SAMPLEBENCH_HOME/aliases.yaml is read by default and an explicit table wins over it
    home.mkdir(parents=True, exist_ok=True)
    (home / "aliases.yaml").write_text("other__x: Other/X\nacme__embed-small: from-home\n")
    assert ModelNames()("other__x") == "Other/X"
    assert ModelNames(FIX / "aliases.yaml")("acme__embed-small") == "acme/embed-small-v1"
    assert ModelNames({"other/x": "mapped"})("other__x") == "mapped"


def test_bad_alias_file_names_the_file(tmp_path):
    bad = tmp_path / "aliases.yaml"
    bad.write_text("- just\n- a list\n")
    with pytest.raises(SampleBenchError, match="aliases.yaml.*mapping"):
        ModelNames(bad)
    with pytest.raises(SampleBenchError, match="not found"):
        ModelNames(tmp_path / "nope.yaml")


# -- MTEB ------------------------------------------------------------------------------------------

def test_mteb_layout_current_and_old_formats(store):
    s = IMPORTERS["mteb"](store, FIX / "mteb")
    assert s.models == ["acme/embed-small", "oldlab/legacy-encoder"]
    assert "STS17" in s.tasks and "Banking77Classification" in s.tasks
    # current format: every score key is a metric, main_score is marked main, revision + version kept
    r = cell(store, "acme/embed-small", "STS17", "test/en-de", "main_score")
    assert r["value"] == 0.55 and r["model_revision"] == "1" * 40 and r["source_version"] == "mteb 2.3.3"
    assert r["task_revision"] == "faeb762787bd10488a50c8b5be4a3b82e411949c"
    assert cell(store, "acme/embed-small", "STS17", "test/en-en", "pearson")["value"] == 0.81
    info = store.metric_info()
    assert info["STS17"]["main_score"].main and not info["STS17"]["pearson"].main
    # a null score is a row with an error, not a made-up number
    r = cell(store, "acme/embed-small", "ArguAna", "test/default", "mrr_at_10")
    assert r["value"] is None and "null" in r["error"]
    # two revisions of one task: mteb's rule keeps the real revision with an mteb version
    r = cell(store, "acme/embed-small", "STS12", "test/default", "main_score")
    assert r["value"] == 0.65 and r["model_revision"] == "1" * 40
    assert any("superseded revision" in k for k in s.skipped)
    # pre-1.11 files: main score from mteb's task metadata; nested blocks named like mteb does now
    assert cell(store, "oldlab/legacy-encoder", "Banking77Classification", "test/default", "main_score")["value"] == 0.75
    assert cell(store, "oldlab/legacy-encoder", "TwitterSemEval2015", "test/default", "cosine_ap")["value"] == 0.6
    assert cell(store, "oldlab/legacy-encoder", "TwitterSemEval2015", "test/default", "main_score")["value"] == 0.61
    assert cell(store, "oldlab/legacy-encoder", "AmazonCounterfactualClassification", "test/de", "main_score")["value"] == 0.68
    # a task mteb does not know and a file without main_score: reported, not invented
    assert s.details["missing_main_scores"] == ["oldlab/legacy-encoder MadeUpTaskNobodyKnows test/default"]
    assert not [r for r in rows(store, tasks=["MadeUpTaskNobodyKnows"]) if r["metric"] == "main_score"]
    assert s.details["main_score_names"]["STS17"] == "cosine_spearman"
    text = "\n".join(s.lines())
    assert "task-level" in text and "mteb versions" in text and "no main score" in text
    record = [r for r in store.runs() if r.run_id == s.run_id][0]
    assert record.kind == "import" and record.metric_info["ArguAna"]["main_score"].main
    assert record.meta["main_score_names"]["ArguAna"] == "ndcg_at_10"


def test_mteb_json_only_reports_every_missing_main_score(store):
    s = IMPORTERS["mteb"](store, FIX / "mteb", use_mteb=False)
    # without mteb's metadata the pre-1.11 files have no main score: 5 entries say so
    assert len(s.details["missing_main_scores"]) == 5
    assert cell(store, "acme/embed-small", "STS12", "test/default", "main_score")["value"] == 0.65


def test_mteb_import_is_idempotent(store):
    first = IMPORTERS["mteb"](store, FIX / "mteb")
    n = store.scan().num_rows
    again = IMPORTERS["mteb"](store, FIX / "mteb")
    assert again.already_imported and "already imported" in again.lines()[0]
    assert store.scan().num_rows == n == first.rows
    assert len(store.runs()) == 1


def test_mteb_malformed_file_anywhere_imports_nothing(store, tmp_path):
    src = tmp_path / "results"
    shutil.copytree(FIX / "mteb", src)
    bad = src / "oldlab__legacy-encoder" / "no_revision_available" / "TwitterSemEval2015.json"
    bad.write_text('{\n  "mteb_dataset_name": "TwitterSemEval2015",\n  "test": {"accuracy": 0.5,,}\n}\n')
    with pytest.raises(SampleBenchError, match=r"TwitterSemEval2015\.json:3: invalid JSON"):
        IMPORTERS["mteb"](store, src, chunk_rows=5)  # earlier models are already staged in chunks
    assert_nothing_imported(store)
    bad.write_text('{"task_name": "X", "scores": {"test": {"not": "a list"}}}')
    with pytest.raises(SampleBenchError, match=r"TwitterSemEval2015\.json: field 'scores.test'"):
        IMPORTERS["mteb"](store, src)
    assert_nothing_imported(store)


def test_mteb_aliases_change_the_import(store):
    IMPORTERS["mteb"](store, FIX / "mteb")
    s = IMPORTERS["mteb"](store, FIX / "mteb", aliases=FIX / "aliases.yaml")
    assert not s.already_imported  # other names, other content
    assert "acme/embed-small-v1" in s.models


def test_mteb_scores_table(store, tmp_path):
    csv = tmp_path / "scores.csv"
    csv.write_text(
        "task,model,model_revision,split,subset,language,main_score\n"
        "STS12,a__b,r1,test,default,['eng-Latn'],0.5\n"
        "STS12,c/d,external,test,default,['eng-Latn'],\n"
        "STS17,c/d,external,test,en-en,['eng-Latn'],0.7\n"
    )
    s = IMPORTERS["mteb-scores"](store, csv)
    assert s.rows == 2 and s.models == ["a/b", "c/d"]
    assert list(s.skipped.values()) == [1] and "not invented" in next(iter(s.skipped))
    assert cell(store, "c/d", "STS17", "test/en-en", "main_score")["value"] == 0.7
    assert store.metric_info()["STS17"]["main_score"].main
    csv.write_text("task,model,split,main_score\nSTS12,a,test,0.5\n")
    with pytest.raises(SampleBenchError, match="missing column.*subset"):
        IMPORTERS["mteb-scores"](store, csv)


# -- lm-evaluation-harness -------------------------------------------------------------------------

def test_lm_eval_samples_and_results(store):
    s = IMPORTERS["lm-eval"](store, FIX / "lm_eval", aliases={"EleutherAI/pythia-70m": "pythia-70m"})
    assert s.models == ["EleutherAI/pythia-160m", "pythia-70m"]
    assert s.tasks == ["arc_easy", "gsm8k"]
    assert set(s.metrics) == {"acc", "acc_norm", "exact_match,strict-match", "exact_match,flexible-extract"}
    assert s.rows == 2 * (4 * 2 + 2 * 2)
    r = cell(store, "pythia-70m", "arc_easy", "1", "acc")
    assert r["value"] == 0.0 and r["model_revision"] == "a39f36b100fe8a5377810d56c3f4789b9c53ac42"
    assert r["task_revision"] == "8f2a1c0e" and json.loads(r["prediction"]) == [[-1.5, False], [-2.5, False]]
    assert cell(store, "EleutherAI/pythia-160m", "gsm8k", "0", "exact_match,strict-match")["value"] == 0.0
    assert store.metric_info()["arc_easy"]["acc"].higher_is_better
    assert "0.4.3" in " ".join(s.notes)


def test_lm_eval_malformed_line_is_named(store, tmp_path):
    src = tmp_path / "out"
    shutil.copytree(FIX / "lm_eval", src)
    f = src / "EleutherAI__pythia-70m" / "samples_arc_easy_2024-05-13T13-49-12.491453.jsonl"
    lines = f.read_text().splitlines()
    lines[2] = json.dumps({"acc": 1.0})
    f.write_text("\n".join(lines) + "\n")
    with pytest.raises(SampleBenchError, match=r"samples_arc_easy_.*\.jsonl:3: field 'doc_id'"):
        IMPORTERS["lm-eval"](store, src)
    assert_nothing_imported(store)


# -- inspect_ai ------------------------------------------------------------------------------------

def test_score_value_mapping():
    assert [score_value(v) for v in ("C", "I", "P", "N", True, False, 3, "0.25")] == [1, 0, 0.5, 0, 1, 0, 3, 0.25]
    assert score_value("free text") is None and score_value([1]) is None


def make_eval(tmp_path: Path) -> Path:
    out = tmp_path / "2024-09-01T10-05-00_security-guide_X2.eval"
    src = FIX / "inspect" / "eval_members"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for f in sorted(src.rglob("*.json")):
            z.write(f, f.relative_to(src).as_posix())
    return out


def test_inspect_json_and_eval_logs(store, tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    shutil.copy(FIX / "inspect" / "2024-09-01T10-00-00_security-guide_X1.json", logs)
    make_eval(logs)
    s = IMPORTERS["inspect"](store, logs)
    assert s.models == ["anthropic/claude-3-haiku", "openai/gpt-4o-mini"] and s.tasks == ["security_guide"]
    assert s.rows == 12
    gpt = {r["sample_id"]: r for r in rows(store, models=["openai/gpt-4o-mini"])}
    assert {k: v["value"] for k, v in gpt.items()} == {"1#1": 1.0, "1#2": 0.0, "2#1": 0.5, "2#2": 1.0, "3#1": None, "3#2": 0.0}
    assert "rate limit exceeded" in gpt["3#1"]["error"]
    assert gpt["2#1"]["prediction"] == "A, B" and gpt["1#1"]["task_revision"] == "v0"
    haiku = {r["sample_id"]: r["value"] for r in rows(store, models=["anthropic/claude-3-haiku"])}
    assert haiku == {"1#1": 1.0, "1#2": 1.0, "2#1": 0.0, "2#2": 0.5, "3#1": 1.0, "3#2": 0.0}
    assert store.metric_info()["security_guide"]["match"].kind == "ordinal"


def test_inspect_bad_archive_member_is_named(store, tmp_path):
    log = make_eval(tmp_path)
    with zipfile.ZipFile(log, "a") as z:
        z.writestr("samples/4_epoch_1.json", "{not json")
    with pytest.raises(SampleBenchError, match=r"\.eval!samples/4_epoch_1\.json:1: invalid JSON"):
        IMPORTERS["inspect"](store, log)
    assert_nothing_imported(store)
    notzip = tmp_path / "x.eval"
    notzip.write_text("plain text")
    with pytest.raises(SampleBenchError, match="not a zip"):
        IMPORTERS["inspect"](store, notzip)


# -- ONEBench --------------------------------------------------------------------------------------

def test_onebench_wide_and_pairwise(store, tmp_path):
    d = tmp_path / "onebench"
    d.mkdir()
    pq.write_table(pa.table({"model": ["org__m1", "org__m2", "org__m3"], "s1": [0.9, 0.1, None],
                             "s2": [1.0, 0.0, 0.5], "s3": [None, None, float("nan")]}), d / "lmarena_wide.parquet")
    pq.write_table(pa.table({"model_a": ["m1", "m2", "m1", "m3"], "model_b": ["m2", "m3", "m3", "m3"],
                             "data_instance": ["q1", "q1", "q2", "q3"],
                             "winner": ["model_a", "tie (bothbad)", "model_b", "tie"]}), d / "arena_pairs.parquet")
    s = IMPORTERS["onebench"](store, d)
    assert s.rows == 5 and s.pairwise_rows == 3
    assert sum(s.skipped.values()) == 4 + 1  # 4 empty cells, 1 self-comparison
    assert cell(store, "org/m3", "lmarena_wide", "s2", "score")["value"] == 0.5
    pw = store.scan(kind="pairwise", latest=False).to_pylist()
    assert [(r["model_a"], r["model_b"], r["sample_id"], r["winner"]) for r in pw] == [
        ("m1", "m2", "q1", "a"), ("m2", "m3", "q1", "tie"), ("m1", "m3", "q2", "b")]
    assert pw[0]["task"] == "arena_pairs"
    pq.write_table(pa.table({"model_a": ["m1"], "model_b": ["m2"], "data_instance": ["q"], "winner": ["left"]}),
                   d / "zz_bad.parquet")
    with pytest.raises(SampleBenchError, match=r"zz_bad\.parquet: row 1: field 'winner' is 'left'"):
        IMPORTERS["onebench"](ResultStore(tmp_path / "other"), d)
    assert ResultStore(tmp_path / "other").runs() == []


# -- Colombo instance-level tables ----------------------------------------------------------------

def test_colombo_instance_level(store):
    s = IMPORTERS["colombo"](store, FIX / "colombo")
    assert s.models == ["TOY_SUM/M0", "TOY_SUM/M1", "TOY_SUM/M2"] and s.tasks == ["TOY_SUM"] and s.rows == 18
    assert cell(store, "TOY_SUM/M1", "TOY_SUM", "1", "H:overall")["value"] == 5.0
    r = cell(store, "TOY_SUM/M2", "TOY_SUM", "1", "ROUGE_1")
    assert r["value"] is None and r["error"]
    info = store.metric_info()["TOY_SUM"]
    assert info["H:overall"].main and not info["ROUGE_1"].main
    bare = IMPORTERS["colombo"](ResultStore(store.root.parent / "bare"), FIX / "colombo", prefix_systems=False)
    assert bare.models == ["M0", "M1", "M2"]


def test_colombo_bad_cell_is_named(store, tmp_path):
    f = tmp_path / "T.csv"
    f.write_text("System,Utterance,H:overall\n0,M0,1.0\n0,M1,high\n")
    with pytest.raises(SampleBenchError, match=r"T\.csv:3: column 'H:overall' holds 'high'"):
        IMPORTERS["colombo"](store, f)
    f.write_text("Instance,System,score\n0,M0,1.0\n")
    with pytest.raises(SampleBenchError, match="Utterance"):
        IMPORTERS["colombo"](store, f)


# -- canonical + CLI -------------------------------------------------------------------------------

def test_canonical_with_aliases(store):
    s = IMPORTERS["jsonl"](store, FIX / "canonical.jsonl", aliases={"org/b": "b-renamed"})
    assert s.models == ["b-renamed", "org/a"]


def test_cli_import_prints_summary(bench, home):
    r = bench("results", "import", "--format", "mteb", FIX / "mteb")
    assert r.exit_code == 0, r.output
    assert "imported" in r.output and "task-level" in r.output and "superseded" in r.output
    r = bench("results", "import", "--format", "mteb", FIX / "mteb")
    assert "already imported" in r.output
    r = bench("results", "import", "--format", "lm-eval", FIX / "lm_eval", "--json")
    assert json.loads(r.output)["rows"] == 24
    r = bench("results", "import", "--format", "inspect", FIX / "nope")
    assert r.exit_code == 2 and "no such file" in r.output


def test_cli_lists_formats(bench):
    r = bench("importers", "list")
    assert r.exit_code == 0 and all(f in r.output for f in ("mteb", "lm-eval", "inspect", "onebench", "colombo"))
    assert set(json.loads(bench("importers", "list", "--json").output)) == set(IMPORTERS)


def test_home_alias_file_applies_to_cli_imports(bench, home):
    home.mkdir(parents=True, exist_ok=True)
    (home / "aliases.yaml").write_text("acme__embed-small: acme/small\n")
    r = bench("results", "import", "--format", "mteb", FIX / "mteb", "--json")
    assert "acme/small" in json.loads(r.output)["models"]


def test_unknown_format_option_is_refused(bench, home, shared_data):
    path = shared_data / "colombo" / "instance_level" / "FLICKR.csv"
    res = bench("results", "import", "--format", "colombo", path, "--set", "prefix_sytems=false")
    assert res.exit_code == 2
    assert "format 'colombo' has no option(s) prefix_sytems" in res.output
    from samplebench.results import ResultStore

    assert ResultStore().runs() == []
