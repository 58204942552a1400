"""MTEB importer on the quirks of the public results repository (real files in importers_fixtures/mteb_quirks).

* HIT-TMG/KaLM-embedding-multilingual-mini-instruct-v1 `external/STS22.json` lists pl-en, zh-en
  and fr-pl twice, identical;
* aari1995/German_Semantic_STS_V2 `external/GermanSTSBenchmark.json` lists test/default twice
  with different scores (0.8467697 vs 0.8467699) and validation/default twice, identical;
* codefuse-ai/F2LLM-v2-80M has AILAStatutes under its revision (main score 0.18766) and under
  `experiments/model_kwargs_{}/` (0.19217).
"""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import pytest

from samplebench.results import ResultStore
from samplebench.results.importers import IMPORTERS

FIX = Path(__file__).parent / "importers_fixtures"
QUIRKS = FIX / "mteb_quirks"
KALM = "HIT-TMG/KaLM-embedding-multilingual-mini-instruct-v1"
GERMAN = "aari1995/German_Semantic_STS_V2"
F2LLM = "codefuse-ai/F2LLM-v2-80M"


@pytest.fixture
def store(home) -> ResultStore:
    return ResultStore(home / "store")


def main_scores(store: ResultStore, model: str, task: str) -> dict[str, float]:
    t = store.scan(models=[model], tasks=[task], metrics=["main_score"], latest=False)
    return dict(zip(t["sample_id"].to_pylist(), t["value"].to_pylist(), strict=True))


def test_duplicate_subsets_collapse_or_average_as_mteb_does(store):
    s = IMPORTERS["mteb"](store, QUIRKS, use_mteb=False)
    assert not s.already_imported and s.rows > 0
    # identical duplicates: one row per (split, subset), the value as written
    kalm = main_scores(store, KALM, "STS22")
    assert len(kalm) == 12  # 15 entries, 3 listed twice
    raw = json.loads((QUIRKS / "HIT-TMG__KaLM-embedding-multilingual-mini-instruct-v1/external/STS22.json").read_text())
    first = {e["hf_subset"]: e["main_score"] for e in raw["scores"]["test"]}
    assert kalm == {f"test/{k}": v for k, v in first.items()}
    # conflicting duplicates: the mean of the entries, as mteb's own scores take it
    from mteb.results import TaskResult

    path = QUIRKS / "aari1995__German_Semantic_STS_V2/external/GermanSTSBenchmark.json"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tr = TaskResult.from_disk(path)
    german = main_scores(store, GERMAN, "GermanSTSBenchmark")
    assert german["test/default"] == pytest.approx(tr._get_score_fast(splits=["test"], subsets=["default"]), abs=1e-12)
    assert german["test/default"] == pytest.approx((0.8467696933608696 + 0.846769860406506) / 2, abs=1e-15)
    assert german["validation/default"] == 0.8804895797480501
    # every duplicate is reported with its file and how it was resolved
    dups = s.details["duplicate_subsets"]
    assert len(dups) == 3 + 2
    conflicting = [d for d in dups if d["resolution"].startswith("conflicting")]
    assert [(Path(d["file"]).name, d["sample"]) for d in conflicting] == [("GermanSTSBenchmark.json", "test/default")]
    assert {d["sample"] for d in dups if d["file"].endswith("STS22.json")} == {"test/pl-en", "test/zh-en", "test/fr-pl"}
    assert any("listed more than once" in n and "GermanSTSBenchmark.json" in n for n in s.notes)


def test_experiments_are_never_merged_into_the_base_model(store):
    s = IMPORTERS["mteb"](store, QUIRKS, use_mteb=False)
    assert main_scores(store, F2LLM, "AILAStatutes") == {"test/default": 0.18766}
    assert not any("experiment" in m for m in s.models)
    reason = next(r for r in s.skipped if r.startswith("experiment result file"))
    assert s.skipped[reason] == 1
    # on request: each experiment is a model of its own, the base model untouched
    other = ResultStore(store.root.parent / "with-experiments")
    s2 = IMPORTERS["mteb"](other, QUIRKS, use_mteb=False, experiments=True)
    variant = f"{F2LLM} [experiment: model_kwargs_{{}}]"
    assert variant in s2.models
    assert main_scores(other, variant, "AILAStatutes") == {"test/default": 0.19217}
    assert main_scores(other, F2LLM, "AILAStatutes") == {"test/default": 0.18766}


def test_mteb_warnings_become_one_note(store, tmp_path):
    """A beta task makes mteb warn each time its metadata is read: the import prints none of it."""
    src = tmp_path / "results"
    d = src / "acme__embed" / ("1" * 40)
    d.mkdir(parents=True)
    for task in ("MELDAudioVideoClassification", "MELDVideoClassification"):
        (d / f"{task}.json").write_text(json.dumps({
            "task_name": task, "mteb_version": "2.0.0", "dataset_revision": "x",
            "scores": {"test": [{"hf_subset": "default", "languages": ["eng-Latn"], "accuracy": 0.5,
                                 "main_score": 0.5}]}}))
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        s = IMPORTERS["mteb"](store, src)
    assert not [w for w in seen if "beta" in str(w.message)]
    note = next(n for n in s.notes if "marked beta by mteb" in n)
    assert "MELDAudioVideoClassification" in note


def test_cli_json_counts_long_lists_and_writes_them_on_request(bench, home, tmp_path):
    """Absent subsets (a model that ran one of MassiveIntentClassification's 51 languages) are
    counted in --json, listed in full only in the --details file."""
    src = tmp_path / "results"
    shutil.copytree(QUIRKS, src)
    d = src / "acme__embed" / ("1" * 40)
    d.mkdir(parents=True)
    (d / "MassiveIntentClassification.json").write_text(json.dumps({
        "task_name": "MassiveIntentClassification", "mteb_version": "2.0.0", "dataset_revision": "x",
        "scores": {"test": [{"hf_subset": "en", "languages": ["eng-Latn"], "accuracy": 0.5, "main_score": 0.5}]}}))
    out = tmp_path / "details.json"
    r = bench("results", "import", "--format", "mteb", src, "--json", "--details", out)
    assert r.exit_code == 0, r.output
    summary = json.loads(r.output)
    full = json.loads(out.read_text())
    assert len(full["absent_subsets"]) > 20
    assert summary["details"]["absent_subsets"]["count"] == len(full["absent_subsets"])
    assert summary["details"]["absent_subsets"]["first"] == full["absent_subsets"][:3]
    assert len(full["duplicate_subsets"]) == 5
    assert all(isinstance(v, int) for v in summary["skipped"].values())
    text = bench("results", "import", "--format", "mteb", src, "--set", "experiments=true", "--details",
                 tmp_path / "d2.json")
    assert text.exit_code == 0 and "details:" in text.output


def test_reimport_of_a_copy_adds_nothing(store, tmp_path):
    src = tmp_path / "copy"
    shutil.copytree(QUIRKS, src)
    first = IMPORTERS["mteb"](store, src, use_mteb=False)
    again = IMPORTERS["mteb"](store, src, use_mteb=False)
    assert again.already_imported and store.scan().num_rows == first.rows
