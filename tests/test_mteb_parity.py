"""Each embedding task type's task-level main score equals what `mteb` computes on the same data and model.

For every type an mteb task (`AbsTask*` subclass with the data set in memory, as mteb's own mock
tasks do) and the samplebench evaluator run on the bundled data with the same encoder (the
weight-free TF-IDF baseline, deterministic and fast), and the main scores agree within 1e-4.
"""

from __future__ import annotations

from typing import Any

import pytest

mteb = pytest.importorskip("mteb", reason="mteb (dev extra) is the peer these parity checks compare against")

from datasets import Dataset, DatasetDict  # noqa: E402
from mteb.abstasks.task_metadata import TaskMetadata  # noqa: E402
from mteb.models.abs_encoder import AbsEncoder  # noqa: E402

from samplebench.registry import TaskRegistry  # noqa: E402
from samplebench.runners import load_model  # noqa: E402
from samplebench.tasks import evaluator_for  # noqa: E402

TOL = 1e-4
_META = {
    "description": "samplebench parity check on bundled data",
    "reference": "https://github.com/embeddings-benchmark/mteb",
    "dataset": {"path": "NA", "revision": "NA"},
    "category": "t2t", "eval_splits": ["test"], "eval_langs": ["eng-Latn"],
    "date": ("2026-01-01", "2026-01-01"), "dialect": [], "domains": [], "task_subtypes": [],
    "license": "cc-by-4.0", "annotations_creators": "derived", "modalities": ["text"],
    "sample_creation": "created", "bibtex_citation": "",
}


class MtebEncoder(AbsEncoder):
    """Hands mteb's batches of texts to a samplebench adapter; similarity: cosine (mteb's default)."""

    def __init__(self, inner: Any) -> None:
        self.model = inner

    def encode(self, inputs, *, task_metadata, hf_split, hf_subset, prompt_type=None, **kwargs):
        texts = [t for batch in inputs for t in batch["text"]]
        return self.model.encode(texts)


@pytest.fixture(scope="module")
def encoder():
    return load_model("tfidf")


def _ours(task: str, model) -> tuple[Any, dict[str, float]]:
    ev = evaluator_for(TaskRegistry().get(task))
    data = ev.load()
    list(ev.evaluate(model, data))
    return data, ev.task_scores


def _run_mteb(task, model) -> dict[str, Any]:
    from threadpoolctl import threadpool_limits

    task.load_data()
    with threadpool_limits(1):  # as samplebench fits its small models (results do not depend on it)
        return task.evaluate(MtebEncoder(model), split="test", encode_kwargs={"batch_size": 32})["default"]


def test_sts_cosine_spearman(encoder):
    from mteb.abstasks.sts import AbsTaskSTS

    data, ours = _ours("bundled-sts", encoder)

    class Task(AbsTaskSTS):
        metadata = TaskMetadata(type="STS", name="ParitySTS", main_score="cosine_spearman", **_META)
        min_score, max_score = 0, 5

        def load_data(self, **kwargs):
            self.dataset = DatasetDict({"test": Dataset.from_dict(
                {"sentence1": data.text1, "sentence2": data.text2, "score": [float(s) for s in data.gold]})})
            self.data_loaded = True

    theirs = _run_mteb(Task(), encoder)
    assert ours["cosine_spearman"] == pytest.approx(theirs["cosine_spearman"], abs=TOL)
    assert ours["cosine_pearson"] == pytest.approx(theirs["cosine_pearson"], abs=TOL)


def test_pair_classification_max_ap(encoder):
    from mteb.abstasks.pair_classification import AbsTaskPairClassification

    data, ours = _ours("bundled-paraphrase", encoder)

    class Task(AbsTaskPairClassification):
        metadata = TaskMetadata(type="PairClassification", name="ParityPairs", main_score="max_ap", **_META)
        label_column_name = "labels"

        def load_data(self, **kwargs):
            self.dataset = DatasetDict({"test": Dataset.from_dict(
                {"sentence1": data.text1, "sentence2": data.text2, "labels": [int(v) for v in data.gold]})})
            self.data_loaded = True

    theirs = _run_mteb(Task(), encoder)
    assert ours["max_ap"] == pytest.approx(theirs["max_ap"], abs=TOL)
    assert ours["cosine_ap"] == pytest.approx(theirs["cosine_ap"], abs=TOL)
    assert ours["cosine_accuracy"] == pytest.approx(theirs["cosine_accuracy"], abs=TOL)


def test_classification_accuracy(encoder):
    from mteb.abstasks.classification import AbsTaskClassification

    data, ours = _ours("bundled-news-topics", encoder)

    class Task(AbsTaskClassification):
        metadata = TaskMetadata(type="Classification", name="ParityClassification", main_score="accuracy", **_META)
        samples_per_label = 8
        n_experiments = 10

        def load_data(self, **kwargs):
            self.dataset = DatasetDict({
                "train": Dataset.from_dict({"text": data.train_texts, "label": data.train_labels}),
                "test": Dataset.from_dict({"text": data.texts, "label": data.labels}),
            })
            self.data_loaded = True

    theirs = _run_mteb(Task(), encoder)
    assert ours["accuracy"] == pytest.approx(theirs["accuracy"], abs=TOL)
    assert ours["f1"] == pytest.approx(theirs["f1"], abs=TOL)


def test_clustering_v_measure(encoder):
    from mteb.abstasks.clustering import AbsTaskClustering

    data, ours = _ours("bundled-headline-clustering", encoder)

    class Task(AbsTaskClustering):
        metadata = TaskMetadata(type="Clustering", name="ParityClustering", main_score="v_measure", **_META)
        max_fraction_of_documents_to_embed = None
        max_documents_per_cluster = 360  # as the bundled spec's options
        n_clusters = 10

        def load_data(self, **kwargs):
            self.dataset = DatasetDict({"test": Dataset.from_dict(
                {"sentences": data.texts, "labels": [lab[0] for lab in data.labels]})})
            self.data_loaded = True

    theirs = _run_mteb(Task(), encoder)
    assert ours["v_measure"] == pytest.approx(theirs["v_measure"], abs=TOL)


def test_retrieval_ndcg_at_10(encoder):
    from mteb.abstasks.retrieval import AbsTaskRetrieval

    data, ours = _ours("bundled-faq-retrieval", encoder)
    ev = evaluator_for(TaskRegistry().get("bundled-faq-retrieval"))
    corpus = ev._part("corpus", "corpus")

    class Task(AbsTaskRetrieval):
        metadata = TaskMetadata(type="Retrieval", name="ParityRetrieval", main_score="ndcg_at_10", **_META)

        def load_data(self, **kwargs):
            self.dataset = {"default": {"test": {
                "queries": Dataset.from_dict({"id": data.query_ids, "text": data.queries}),
                "corpus": Dataset.from_dict({"id": corpus["_id"], "title": corpus["title"], "text": corpus["text"]}),
                "relevant_docs": {q: {d: int(r) for d, r in rel.items()} for q, rel in data.qrels.items()},
                "top_ranked": None,
            }}}
            self.data_loaded = True

    theirs = _run_mteb(Task(), encoder)
    for metric in ("ndcg_at_10", "recall_at_10", "mrr_at_10"):
        assert ours[metric] == pytest.approx(theirs[metric], abs=TOL), metric


def test_reranking_map_at_1000(encoder):
    from mteb.abstasks.retrieval import AbsTaskRetrieval

    data, ours = _ours("bundled-faq-reranking", encoder)
    corpus_ids, corpus_texts, qrels, top = [], [], {}, {}
    for qid, pos, neg in zip(data.ids, data.positives, data.negatives, strict=True):
        cands = [*pos, *neg]
        ids = [f"{qid}-c{j:05d}" for j in range(len(cands))]  # same order within a query as ours
        corpus_ids += ids
        corpus_texts += cands
        qrels[qid] = {d: int(j < len(pos)) for j, d in enumerate(ids)}
        top[qid] = ids

    class Task(AbsTaskRetrieval):
        metadata = TaskMetadata(type="Reranking", name="ParityReranking", main_score="map_at_1000", **_META)

        def load_data(self, **kwargs):
            self.dataset = {"default": {"test": {
                "queries": Dataset.from_dict({"id": data.ids, "text": data.queries}),
                "corpus": Dataset.from_dict({"id": corpus_ids, "text": corpus_texts}),
                "relevant_docs": qrels, "top_ranked": top,
            }}}
            self.data_loaded = True

    theirs = _run_mteb(Task(), encoder)
    for metric in ("map_at_1000", "mrr_at_10", "ndcg_at_10"):
        assert ours[metric] == pytest.approx(theirs[metric], abs=TOL), metric


def test_summarization_cosine_spearman(encoder, tmp_path):
    import json
    import random

    from mteb.abstasks.text.summarization import AbsTaskSummarization

    from samplebench.registry import TaskSpec
    from samplebench.tasks._bundled import TOPICS, _headline

    rng = random.Random(7)
    rows = []
    for d in range(25):
        topic = rng.choice(sorted(TOPICS))
        human = [_headline(rng, topic) for _ in range(2)]
        machine = [_headline(rng, rng.choice(sorted(TOPICS))) for _ in range(5)]
        rows.append({"id": f"doc{d}", "human_summaries": human, "machine_summaries": machine,
                     "relevance": [round(rng.uniform(1, 5), 2) for _ in machine]})
    path = tmp_path / "summ.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    spec = TaskSpec.model_validate({
        "name": "parity-summ", "version": "1", "description": "synthetic", "type": "sts",
        "dataset": {"path": str(path), "data_files": {"test": str(path)}},
        "columns": {"text1": "machine_summaries", "text2": "human_summaries", "score": "relevance", "id": "id"},
        "metrics": [{"name": "spearman", "kind": "continuous", "higher_is_better": True}],
        "main_metric": "spearman", "options": {"mode": "summarization", "min_score": 1, "max_score": 5},
    })
    ev = evaluator_for(spec)
    list(ev.evaluate(encoder, ev.load()))

    class Task(AbsTaskSummarization):
        metadata = TaskMetadata(type="Summarization", name="ParitySumm", main_score="cosine_spearman", **_META)
        min_score, max_score = 1, 5

        def load_data(self, **kwargs):
            self.dataset = DatasetDict({"test": Dataset.from_list(
                [{k: r[k] for k in ("human_summaries", "machine_summaries", "relevance")} | {"text": ""} for r in rows])})
            self.data_loaded = True

    theirs = _run_mteb(Task(), encoder)
    assert ev.task_scores["cosine_spearman"] == pytest.approx(theirs["cosine_spearman"], abs=TOL)


# -- the MTEB leaderboard's Borda rank, exactly -------------------------------------------------------

def _long_results(seed: int):
    """A sparse MTEB-like long table: tasks with 1-3 (split, subset) cells, models that skip cells
    (partial coverage), some with no complete task at all, and tied scores."""
    import numpy as np

    rng = np.random.default_rng(seed)
    cells = {"T1": [("test", "a"), ("test", "b"), ("test", "c")], "T2": [("test", "default")],
             "T3": [("dev", "x"), ("test", "x")], "T4": [("test", "a"), ("test", "b")]}
    rows = []
    for m in range(24):
        for task, task_cells in cells.items():
            if rng.random() < 0.2:
                continue  # the model never ran the task
            kept = [c for c in task_cells if rng.random() < (0.5 if m % 6 == 0 else 0.9)]
            for split, subset in kept:
                score = round(float(rng.choice([0.5, 0.6, rng.random()])), 3)  # ties on purpose
                rows.append((f"org/m{m:02d}", task, split, subset, score))
    return rows


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_borda_mteb_equals_the_mteb_leaderboard_rank(tmp_path, seed):
    """`borda-mteb` on the imported cells equals mteb's own `Rank (Borda)` (`_borda_rank_from_long`
    with `n_models` = the rows of its per-task table, as `_create_summary_table` calls it)."""
    import polars as pl
    from mteb.benchmarks._create_table import _borda_rank_from_long, _build_per_task_pivot

    from samplebench.aggregators import fit
    from samplebench.results import ResultStore
    from samplebench.results.importers import IMPORTERS
    from samplebench.selection import select_evidence

    rows = _long_results(seed)
    long_df = pl.DataFrame(rows, schema=["model_name", "task_name", "split", "subset", "score"], orient="row")
    per_task, _ = _build_per_task_pivot(long_df)
    theirs = dict(_borda_rank_from_long(long_df, n_models=per_task.height).iter_rows())

    csv = tmp_path / "scores.csv"
    csv.write_text("task,model,model_revision,split,subset,language,main_score\n"
                   + "".join(f"{t},{m},r,{sp},{sub},eng-Latn,{v}\n" for m, t, sp, sub, v in rows))
    store = ResultStore(tmp_path / "store")
    IMPORTERS["mteb-scores"](store, csv)
    ours = fit(select_evidence(store), "borda-mteb", ci="none").by_model()
    assert per_task.height < len(theirs)  # some models have no complete task: n_models is not the model count
    assert {m: r.rank for m, r in ours.items()} == theirs
