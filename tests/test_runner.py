"""The runner: rows per (sample, metric), resume, embedding cache, error rows, CLI exit codes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.compute as pc
import pytest
import yaml

from samplebench.registry import ModelSpec
from samplebench.results import ResultStore
from samplebench.runners import evaluate, load_model
from samplebench.runners.adapters.base import ModelAdapter, register_adapter
from samplebench.runners.cache import CachedEncoder, EmbeddingCache

TASKS = ["bundled-sts", "bundled-faq-retrieval", "bundled-news-topics"]


@register_adapter("test-flaky")
class FlakyEncoder(ModelAdapter):
    """tfidf vectors, except: texts containing 'boat' raise, texts containing 'dog' come back NaN."""

    calls = 0

    def __init__(self, spec: ModelSpec, **kwargs) -> None:
        super().__init__(spec)
        self.inner = load_model("tfidf")
        self.revision = "flaky-1"

    def encode(self, texts, *, batch_size: int = 32) -> np.ndarray:
        type(self).calls += 1
        if any("boat" in t for t in texts):
            raise RuntimeError("cannot encode boats")
        out = self.inner.encode(texts)
        out[[i for i, t in enumerate(texts) if "dog" in t]] = np.nan
        return out


@register_adapter("test-counting")
class CountingEncoder(ModelAdapter):
    """The random baseline, counting the texts it is asked to encode."""

    n_texts = 0

    def __init__(self, spec: ModelSpec, **kwargs) -> None:
        super().__init__(spec)
        self.inner = load_model("random")
        self.revision = "counting-1"

    def encode(self, texts, *, batch_size: int = 32) -> np.ndarray:
        type(self).n_texts += len(texts)
        return self.inner.encode(texts)


def test_evaluate_writes_one_row_per_sample_and_metric(home, tmp_path):
    store = ResultStore(tmp_path / "store")
    rep = evaluate("tfidf", TASKS, store=store, limit=30, progress=False)
    assert rep.exit_code == 0 and rep.model == "baseline/tfidf" and rep.model_revision.startswith("tfidf-v1-")
    t = store.scan(columns=["model", "task", "sample_id", "metric", "value", "error", "task_revision", "model_revision"])
    per_task = {task: t.filter(pc.equal(t["task"], task)) for task in TASKS}
    assert per_task["bundled-sts"].num_rows == 30  # one metric (rank_error)
    assert per_task["bundled-faq-retrieval"].num_rows == 30 * 3  # ndcg_at_10, recall_at_10, mrr_at_10
    assert per_task["bundled-news-topics"].num_rows == 30
    assert t.filter(pc.is_valid(t["error"])).num_rows == 0
    assert set(t["model_revision"].cast("string").to_pylist()) == {rep.model_revision}
    info = store.metric_info()
    assert info["bundled-sts"]["rank_error"].higher_is_better is False and info["bundled-sts"]["rank_error"].main
    assert info["bundled-faq-retrieval"]["ndcg_at_10"].main and not info["bundled-faq-retrieval"]["mrr_at_10"].main
    # the summary's mean is the mean of the stored main-metric rows; task scores are recorded in the run
    sts = next(r for r in rep.tasks if r.task == "bundled-sts")
    vals = per_task["bundled-sts"]["value"].to_numpy()
    assert sts.main_value == pytest.approx(vals.mean())
    assert -1 <= sts.task_scores["cosine_spearman"] <= 1
    run = store.runs()[-1]
    assert run.kind == "evaluate" and run.status == "finished"
    assert run.meta["task_scores"]["bundled-sts"]["scores"] == sts.task_scores


def test_resume_computes_only_missing_cells_and_complete_rerun_builds_no_model(home, tmp_path):
    store = ResultStore(tmp_path / "store")
    first = evaluate("tfidf", TASKS, store=store, limit=10, progress=False)
    assert first.model_loaded and all(t.n_computed == 10 for t in first.tasks)
    n_runs = len(store.runs())
    more = evaluate("tfidf", TASKS, store=store, limit=25, progress=False)
    assert [t.n_computed for t in more.tasks] == [15, 15, 15]
    assert [t.n_reused for t in more.tasks] == [10, 10, 10]
    again = evaluate("tfidf", TASKS, store=store, limit=25, progress=False)
    assert not again.model_loaded and again.run_id is None
    assert all(t.n_computed == 0 and t.n_reused == 25 for t in again.tasks)
    assert len(store.runs()) == n_runs + 1  # the complete rerun opened no run
    # task scores of a complete rerun come from the run that computed them
    assert again.tasks[0].task_scores == more.tasks[0].task_scores


def test_failures_become_error_rows_and_the_run_goes_on(home, tmp_path):
    store = ResultStore(tmp_path / "store")
    spec = ModelSpec(name="flaky", adapter="test-flaky")
    rep = evaluate(spec, ["bundled-paraphrase", "bundled-news-topics"], store=store, limit=60, progress=False)
    assert rep.exit_code == 1 and rep.n_errors > 0
    t = store.scan(tasks=["bundled-paraphrase"], columns=["sample_id", "value", "error"]).to_pylist()
    data = {r["id"]: (r["sentence1"] + r["sentence2"]) for r in _csv_rows("bundled-paraphrase")}
    bad = [r for r in t if r["error"] is not None]
    good = [r for r in t if r["error"] is None]
    assert len(t) == 60 and bad and good
    for r in bad:
        text = data[r["sample_id"]]
        assert "boat" in text or "dog" in text, (r, text)
        assert r["value"] is None
        assert ("cannot encode boats" in r["error"]) or ("non-finite" in r["error"])
    for r in good:
        assert "boat" not in data[r["sample_id"]] and "dog" not in data[r["sample_id"]]
    # a rerun counts failed samples as done; with retry_errors it recomputes only them (they fail again)
    again = evaluate(spec, ["bundled-paraphrase"], store=store, limit=60, progress=False)
    assert again.tasks[0].n_computed == 0 and not again.model_loaded
    retried = evaluate(spec, ["bundled-paraphrase"], store=store, limit=60, progress=False, retry_errors=True)
    assert retried.tasks[0].n_computed == len(bad) and retried.tasks[0].n_errors == len(bad)


def _csv_rows(task: str) -> list[dict]:
    import csv

    from samplebench.registry.registry import BUILTIN_DIR

    with open(BUILTIN_DIR / "data" / task / "test.csv", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_embedding_cache_serves_repeated_texts(tmp_path):
    model = load_model("random")

    class Counting:
        n = 0

        def encode(self, texts, *, batch_size=32):
            Counting.n += len(texts)
            return model.encode(texts)

    cache = EmbeddingCache(tmp_path, "random", model.revision)
    enc = CachedEncoder(Counting(), cache)
    a = enc.encode(["one", "two", "three"])
    b = enc.encode(["three", "four", "one"])
    assert Counting.n == 4 and enc.n_hits == 2
    np.testing.assert_array_equal(a[0], b[2])
    enc.flush()
    # a new process (new cache object) reads the shard back: nothing is encoded again
    enc2 = CachedEncoder(Counting(), EmbeddingCache(tmp_path, "random", model.revision))
    c = enc2.encode(["four", "two"])
    assert Counting.n == 4 and enc2.n_hits == 2
    np.testing.assert_array_equal(c[0], b[1])
    # another revision of the model does not see these vectors
    enc3 = CachedEncoder(Counting(), EmbeddingCache(tmp_path, "random", "other-revision"))
    enc3.encode(["four"])
    assert Counting.n == 5


def test_second_model_run_uses_the_cache(home, tmp_path):
    store = ResultStore(tmp_path / "store")
    CountingEncoder.n_texts = 0
    spec = ModelSpec(name="counting", adapter="test-counting")
    evaluate(spec, ["bundled-sts"], store=store, limit=20, progress=False)
    n = CountingEncoder.n_texts
    assert 30 < n <= 40  # 20 pairs; a repeated sentence is encoded once
    # a fresh store forces recomputation; the embeddings come from the cache, not the model
    evaluate(spec, ["bundled-sts"], store=ResultStore(tmp_path / "store2"), limit=20, progress=False)
    assert CountingEncoder.n_texts == n
    evaluate(spec, ["bundled-sts"], store=ResultStore(tmp_path / "store3"), limit=20, progress=False, cache=False)
    assert CountingEncoder.n_texts == 2 * n


def test_minilm_hub_id_works_offline(home):
    model = load_model("sentence-transformers/all-MiniLM-L6-v2")
    assert model.revision.startswith("sha256:")
    emb = model.encode(["A man is playing a guitar.", "Someone plays an instrument.", "The stock market fell."])
    assert emb.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)  # normalised by the model's pipeline
    assert emb[0] @ emb[1] > emb[0] @ emb[2]


# ----------------------------------------------------------------------------------- the CLI


def test_cli_evaluate_prints_summary_and_resumes(bench, home):
    res = bench("evaluate", "bm25", "--tasks", "bundled-sts,bundled-faq-reranking", "--limit", "15", "--quiet")
    assert res.exit_code == 0, res.output
    assert "bundled-sts" in res.output and "cosine_spearman=" in res.output and "map_at_1000" in res.output
    assert "model built" in res.output
    again = bench("evaluate", "bm25", "--tasks", "bundled-sts,bundled-faq-reranking", "--limit", "15", "--quiet")
    assert again.exit_code == 0 and "nothing to compute" in again.output
    store = ResultStore(home / "store")
    assert store.scan(tasks=["bundled-sts"]).num_rows == 15


def test_cli_tag_selects_tasks(bench, home):
    res = bench("evaluate", "random", "--tag", "demo", "--limit", "5", "--quiet")
    assert res.exit_code == 0, res.output
    for task in ("bundled-news-topics", "bundled-paraphrase", "bundled-sts", "bundled-faq-retrieval",
                 "bundled-faq-reranking", "bundled-headline-clustering"):
        assert task in res.output


def test_cli_unknown_model_and_task_exit_2_with_closest_names(bench, home):
    res = bench("evaluate", "minilmm", "--tasks", "bundled-sts")
    assert res.exit_code == 2 and "unknown model 'minilmm'" in res.output and "minilm" in res.output
    res = bench("evaluate", "tfidf", "--tasks", "bundled-st")
    assert res.exit_code == 2 and "unknown task 'bundled-st'" in res.output and "bundled-sts" in res.output
    res = bench("evaluate", "tfidf", "--tag", "dem")
    assert res.exit_code == 2 and "demo" in res.output


def test_cli_missing_declared_column_exits_2_naming_it(bench, home, tmp_path):
    data = tmp_path / "pairs.csv"
    data.write_text("s1,s2,score\nA cat sat.,A cat sat down.,4.5\nIt rains.,Stocks fell.,0.1\n")
    spec = {
        "name": "my-sts", "version": "1", "description": "two pairs", "type": "sts",
        "dataset": {"path": str(data)},
        "columns": {"text1": "s1", "text2": "sentence2", "score": "score"},
        "metrics": [{"name": "rank_error", "kind": "continuous", "higher_is_better": False}],
        "main_metric": "rank_error",
    }
    (home / "tasks").mkdir(parents=True)
    (home / "tasks" / "my-sts.yaml").write_text(yaml.safe_dump(spec))
    res = bench("evaluate", "tfidf", "--tasks", "my-sts")
    assert res.exit_code == 2
    assert "column 'sentence2'" in res.output and "text2" in res.output and "s2" in res.output


def test_user_task_on_local_csv(bench, home, tmp_path):
    data = tmp_path / "pairs.csv"
    rows = ["s1,s2,score"] + [f"Sentence number {i}.,Sentence number {i} again.,{i % 5}" for i in range(12)]
    data.write_text("\n".join(rows) + "\n")
    spec = {
        "name": "my-sts", "version": "1", "description": "pairs", "type": "sts",
        "dataset": {"path": str(data)}, "columns": {"text1": "s1", "text2": "s2", "score": "score"},
        "metrics": [{"name": "rank_error", "kind": "continuous", "higher_is_better": False}],
        "main_metric": "rank_error",
    }
    path = Path(tmp_path / "my-sts.yaml")
    path.write_text(yaml.safe_dump(spec))
    assert bench("add-task", path).exit_code == 0
    res = bench("evaluate", "random", "--tasks", "my-sts", "--quiet")
    assert res.exit_code == 0, res.output
    assert ResultStore(home / "store").scan(tasks=["my-sts"]).num_rows == 12
