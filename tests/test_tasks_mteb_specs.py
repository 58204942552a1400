"""The 41 built-in MTEB(eng, v2) task specs: valid, pinned to mteb's dataset revisions, typed as in the benchmark."""

from __future__ import annotations

import json
import re

import pytest

from samplebench.registry import TaskRegistry
from samplebench.tasks import evaluator_for

EXPECTED_TYPE = {"Classification": "classification", "Clustering": "clustering", "PairClassification":
                 "pair_classification", "STS": "sts", "Summarization": "sts", "Retrieval": "retrieval",
                 "Reranking": "retrieval"}


@pytest.fixture(scope="module")
def specs():
    return {s.name: s for s in TaskRegistry(builtin=True).filter(tag="mteb-eng-v2")}


def test_all_41_tasks_validate_and_build_evaluators(specs, shared_data):
    info = json.loads((shared_data / "mteb" / "eng_v2_tasks.json").read_text())
    assert sorted(specs) == sorted(info["tasks"]) and len(specs) == 41
    for name, spec in specs.items():
        mteb_type = info["types"][name]
        assert spec.type == EXPECTED_TYPE[mteb_type], name
        assert spec.dataset.is_hub and re.fullmatch(r"[0-9a-f]{40}", spec.dataset.revision), name
        assert spec.options["eval_split"] in info["eval_splits"][name]
        assert spec.languages == ["eng-Latn"]
        if mteb_type == "Reranking":
            assert spec.options["top_ranked"] == {"config": "top_ranked"} and spec.main_metric == "map_at_1000"
        if mteb_type == "Summarization":
            assert spec.options["mode"] == "summarization"
        if mteb_type == "Retrieval":
            assert spec.main_metric == "ndcg_at_10"
        evaluator_for(spec)  # options and metrics are ones the evaluator accepts


def test_revisions_and_options_are_mteb_own(specs):
    mteb = pytest.importorskip("mteb", reason="mteb (dev extra) holds the metadata the specs were written from")
    for task in mteb.get_tasks(tasks=sorted(specs)):
        spec = specs[task.metadata.name]
        assert spec.dataset.path == task.metadata.dataset["path"]
        assert spec.dataset.revision == task.metadata.dataset["revision"]
        if spec.type == "classification":
            assert spec.options["samples_per_label"] == task.samples_per_label
            assert spec.options["n_experiments"] == task.n_experiments
        if spec.type == "clustering":
            assert spec.options["max_documents_per_cluster"] == task.max_documents_per_cluster
            assert spec.options["max_fraction_of_documents_to_embed"] == task.max_fraction_of_documents_to_embed
        if getattr(task, "ignore_identical_ids", False):
            assert spec.options["ignore_identical_ids"] is True


def test_hub_task_without_network_is_a_clear_error(bench, home):
    res = bench("evaluate", "tfidf", "--tasks", "STS12")
    assert res.exit_code == 2
    assert "STS12" in res.output and "mteb/sts12-sts" in res.output
