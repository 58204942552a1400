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

from samplebench.errors import SampleBenchError
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
    (d / "model_meta.json").write_text(json.dumps({"name": "acme/embed", "revision": "1" * 40}))
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


# -- which files count: mteb's own load (ResultCache.load_results + join_revisions) ----------------

MINILM = "sentence-transformers/all-MiniLM-L6-v2"  # in mteb's model registry: main revision below
MINILM_MAIN = "8b3219a92973c328a8e22fadcfa821b5dc75636a"


def _write(root: Path, model_dir: str, revision: str, task: str, score: float, *, version: str | None = "2.0.0",
           meta: dict | None = None, experiment: str | None = None) -> None:
    d = root / model_dir / revision
    if experiment is not None:
        d = d / "experiments" / experiment
    d.mkdir(parents=True, exist_ok=True)
    if meta is not None:
        (d / "model_meta.json").write_text(json.dumps(meta))
    if version is None:  # a file written before mteb 1.11: no version, no main_score
        doc = {"mteb_dataset_name": task, "dataset_revision": "x", "test": {"cos_sim": {"spearman": score}}}
    else:
        doc = {"task_name": task, "mteb_version": version, "dataset_revision": "x", "evaluation_time": 1.0,
               "scores": {"test": [{"hf_subset": "default", "languages": ["eng-Latn"], "main_score": score,
                                    "cosine_spearman": score}]}}
    (d / f"{task}.json").write_text(json.dumps(doc))


def _meta(name: str, revision: str, **extra) -> dict:
    return {"name": name, "revision": revision, **extra}


def revision_cases(root: Path) -> None:
    """One model folder per case of mteb's load (each comment says what mteb keeps)."""
    # a revision folder without model_meta.json beside one with it: only the latter (STS13 absent)
    _write(root, "org__mixed", "r1", "STS12", 0.61, meta=_meta("org/mixed", "r1"))
    _write(root, "org__mixed", "no_revision_available", "STS12", 0.99)
    _write(root, "org__mixed", "no_revision_available", "STS13", 0.62)
    # a model with no model_meta.json anywhere: nothing at all
    _write(root, "org__bare", "no_revision_available", "STS12", 0.63)
    # external (no real revision) vs a real revision, both with an mteb version: the real one
    _write(root, "org__ext", "external", "STS12", 0.64, meta=_meta("org/ext", "external"))
    _write(root, "org__ext", "r2", "STS12", 0.65, meta=_meta("org/ext", "r2"))
    # two real revisions: the newer mteb version; a file with a version beats one without
    _write(root, "org__ver", "a", "STS12", 0.66, version="1.12.0", meta=_meta("org/ver", "a"))
    _write(root, "org__ver", "b", "STS12", 0.67, version="2.1.0", meta=_meta("org/ver", "b"))
    _write(root, "org__ver", "c", "STS13", 0.68, version=None, meta=_meta("org/ver", "c"))
    _write(root, "org__ver", "d", "STS13", 0.69, version="1.0.0", meta=_meta("org/ver", "d"))
    # the registry's main revision wins over a newer mteb version
    _write(root, "sentence-transformers__all-MiniLM-L6-v2", MINILM_MAIN, "STS12", 0.70, version="1.12.0",
           meta=_meta(MINILM, MINILM_MAIN))
    _write(root, "sentence-transformers__all-MiniLM-L6-v2", "zzz", "STS12", 0.71, version="2.5.0",
           meta=_meta(MINILM, "zzz"))
    # experiments: an experiments/<kwargs>/ folder, and a folder whose model_meta declares kwargs: neither
    _write(root, "org__exp", "r1", "STS12", 0.72, meta=_meta("org/exp", "r1"))
    _write(root, "org__exp", "r1", "STS12", 0.73, meta=_meta("org/exp", "r1", experiment_kwargs={"k": 1}),
           experiment="k_1")
    _write(root, "org__exp", "r2", "STS13", 0.74, meta=_meta("org/exp", "r2", experiment_kwargs={"dim": 256}))


def _mteb_cells(cache: Path, **kwargs) -> dict[tuple[str, str, str], float]:
    """(model, task, split/subset) -> main score as mteb loads the tree under `cache/remote/results`."""
    from mteb.cache import ResultCache

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = ResultCache(cache).load_results(**kwargs).join_revisions()
    return {(mr.model_name, tr.task_name, f"{split}/{e['hf_subset']}"): e["main_score"]
            for mr in res.model_results for tr in mr.task_results
            for split, entries in tr.scores.items() for e in entries}


def _store_cells(store: ResultStore) -> dict[tuple[str, str, str], float]:
    t = store.scan(metrics=["main_score"], latest=False)
    return {(m, task, s): v for m, task, s, v in zip(*(t[c].to_pylist() for c in ("model", "task", "sample_id", "value")),
                                                    strict=True)}


def test_import_keeps_the_files_mteb_load_results_keeps(store, tmp_path):
    pytest.importorskip("mteb")
    root = tmp_path / "cache" / "remote" / "results"
    revision_cases(root)
    s = IMPORTERS["mteb"](store, root)
    ours = _store_cells(store)
    assert ours == _mteb_cells(tmp_path / "cache")
    assert ours == {
        ("org/mixed", "STS12", "test/default"): 0.61, ("org/ext", "STS12", "test/default"): 0.65,
        ("org/ver", "STS12", "test/default"): 0.67, ("org/ver", "STS13", "test/default"): 0.69,
        (MINILM, "STS12", "test/default"): 0.70, ("org/exp", "STS12", "test/default"): 0.72,
    }
    no_meta = next(r for r in s.skipped if "without model_meta.json" in r)
    assert s.skipped[no_meta] == 3 and "require_model_meta=false" in no_meta
    assert s.skipped[next(r for r in s.skipped if r.startswith("experiment result file"))] == 2
    # require_model_meta=false: the folders without it count too, as mteb's require_model_meta=False reads them
    other = ResultStore(tmp_path / "other")
    IMPORTERS["mteb"](other, root, require_model_meta=False)
    loose = _store_cells(other)
    assert loose == _mteb_cells(tmp_path / "cache", require_model_meta=False)
    assert loose[("org/bare", "STS12", "test/default")] == 0.63 and loose[("org/mixed", "STS13", "test/default")] == 0.62
    assert loose[("org/mixed", "STS12", "test/default")] == 0.61  # the revision with a real name still wins


def test_a_tree_without_any_model_meta_is_read_from_its_folder_names(store, tmp_path):
    _write(tmp_path / "r", "org__old", "no_revision_available", "STS12", 0.5)
    s = IMPORTERS["mteb"](store, tmp_path / "r", use_mteb=False)
    assert _store_cells(store) == {("org/old", "STS12", "test/default"): 0.5}
    assert any("no model_meta.json beside any result file" in n for n in s.notes)
    strict = IMPORTERS["mteb"](ResultStore(tmp_path / "strict"), tmp_path / "r", use_mteb=False, require_model_meta=True)
    assert strict.rows == 0 and any("without model_meta.json" in r for r in strict.skipped)
    with pytest.raises(SampleBenchError, match="require_model_meta=maybe: use true, false or auto"):
        IMPORTERS["mteb"](store, tmp_path / "r", require_model_meta="maybe")


def test_task_level_sample_cards_from_mteb_metadata(store, tmp_path):
    """Each imported (task, split/subset) gets a card from mteb's task metadata; importing again
    (or another model's results on the same cells) adds none; a task mteb does not know gets none."""
    pytest.importorskip("mteb")
    from samplebench.results.cards import CardStore

    root = tmp_path / "results"
    d = root / "acme__embed" / ("1" * 40)
    d.mkdir(parents=True)
    (d / "model_meta.json").write_text(json.dumps({"name": "acme/embed", "revision": "1" * 40}))
    (d / "STS17.json").write_text(json.dumps({
        "task_name": "STS17", "mteb_version": "2.0.0", "dataset_revision": "x", "scores": {"test": [
            {"hf_subset": sub, "languages": [], "cosine_spearman": v, "main_score": v}
            for sub, v in (("en-de", 0.5), ("ko-ko", 0.6))]}}))
    (d / "MadeUpTaskNobodyKnows.json").write_text(json.dumps({
        "task_name": "MadeUpTaskNobodyKnows", "mteb_version": "2.0.0", "dataset_revision": "x",
        "scores": {"test": [{"hf_subset": "default", "languages": [], "main_score": 0.1}]}}))
    s = IMPORTERS["mteb"](store, root)
    cards = {(r["task"], r["sample_id"]): r for r in CardStore(store).read().to_pylist()}
    assert set(cards) == {("STS17", "test/en-de"), ("STS17", "test/ko-ko")}
    card = cards[("STS17", "test/en-de")]
    assert card["text"].startswith("Semeval-2017 task 1") and "test split, subset en-de (deu-Latn, eng-Latn)" in card["text"]
    meta = json.loads(card["metadata"])
    assert meta["task_type"] == "STS" and meta["languages"] == ["deu-Latn", "eng-Latn"]
    assert "News" in meta["domains"] and meta["main_score"] == "cosine_spearman" and meta["split"] == "test"
    assert s.cards == 2
    shards = CardStore(store).shard_paths()
    again = IMPORTERS["mteb"](store, root)
    assert again.already_imported and CardStore(store).shard_paths() == shards
    other = root / "other__model" / "r"
    other.mkdir(parents=True)
    (other / "model_meta.json").write_text(json.dumps({"name": "other/model", "revision": "r"}))
    (other / "STS17.json").write_text((d / "STS17.json").read_text())
    IMPORTERS["mteb"](store, root)  # new measurements, the same cells: no new card
    assert CardStore(store).shard_paths() == shards
    # a store imported before cards existed: importing again completes them, reading no scores
    import samplebench.results.importers.mteb as mteb_importer

    shutil.rmtree(store.root / "cards")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(mteb_importer, "_flatten", lambda *a, **k: pytest.fail("scores read again"))
        completed = IMPORTERS["mteb"](store, root)
    assert completed.already_imported and completed.cards == 2 and len(CardStore(store)) == 2
    # without mteb's metadata no card is made up
    bare = ResultStore(tmp_path / "bare")
    IMPORTERS["mteb"](bare, root, use_mteb=False)
    assert len(CardStore(bare)) == 0
