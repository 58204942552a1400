"""Writes the built-in specs of the 41 MTEB(eng, v2) tasks from mteb's own task metadata (run once).

    python -m samplebench.tasks._mteb_specs [path/to/eng_v2_tasks.json]

Each spec points at the task's Hub dataset with the revision mteb pins, the English subset the
benchmark uses, the columns of MTEB's Hub layout, the evaluator options mteb's task class sets
(samples per label, experiments, clustering sample sizes), and the per-sample metrics of its type.
MTEB's task-level main score is named in `options`-free form in the description and recorded by
the evaluator as a task score. Requires `mteb` (a dev dependency); the output is committed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml

OUT = Path(__file__).resolve().parents[1] / "registry" / "builtin" / "tasks" / "mteb-eng-v2"
DEFAULT_JSON = Path(__file__).resolve().parents[3] / "shared" / "data" / "mteb" / "eng_v2_tasks.json"

_RET_METRICS = [("ndcg_at_10", True), ("recall_at_10", False), ("recall_at_100", False), ("mrr_at_10", False),
                ("map_at_1000", False)]


def _metric(name: str, higher: bool, kind: str = "continuous", rng: tuple[float, float] | None = (0, 1),
            desc: str | None = None) -> dict[str, Any]:
    m: dict[str, Any] = {"name": name, "kind": kind, "higher_is_better": higher}
    if rng is not None:
        m["range"] = list(rng)
    if desc:
        m["description"] = desc
    return m


def spec_for(task: Any, mteb_type: str, split: str, subset: str | None) -> dict[str, Any]:
    md = task.metadata
    ds = md.dataset
    spec: dict[str, Any] = {
        "name": md.name,
        "version": "mteb-" + str(ds["revision"])[:12],
        "description": " ".join(str(md.description).split())[:600]
        + f" [MTEB(eng, v2) {mteb_type} task; MTEB main score: {md.main_score}]",
    }
    options: dict[str, Any] = {"eval_split": split}
    dataset: dict[str, Any] = {"path": ds["path"], "revision": ds["revision"]}
    if subset and subset != "default":
        dataset["name"] = subset
    tags = ["mteb", "mteb-eng-v2", f"mteb-{mteb_type.lower()}"]
    if mteb_type == "Classification":
        spec["type"] = "classification"
        spec["columns"] = {"text": getattr(task, "input_column_name", "text"), "label": task.label_column_name}
        spec["metrics"] = [_metric("accuracy", True, desc="fraction of experiments classifying the sample correctly")]
        spec["main_metric"] = "accuracy"
        options.update(train_split=task.train_split, n_experiments=task.n_experiments,
                       samples_per_label=task.samples_per_label)
    elif mteb_type == "Clustering":
        spec["type"] = "clustering"
        spec["columns"] = {"text": task.input_column_name, "label": task.label_column_name}
        spec["metrics"] = [_metric("bcubed_f1", True)]
        spec["main_metric"] = "bcubed_f1"
        options.update(max_fraction_of_documents_to_embed=task.max_fraction_of_documents_to_embed,
                       max_documents_per_cluster=task.max_documents_per_cluster, n_clusters=task.n_clusters,
                       k_mean_batch_size=task.k_mean_batch_size, max_depth=task.max_depth)
    elif mteb_type == "PairClassification":
        spec["type"] = "pair_classification"
        spec["columns"] = {"text1": task.input1_column_name, "text2": task.input2_column_name,
                           "label": task.label_column_name}
        spec["metrics"] = [_metric("correct", True, kind="binary", rng=None)]
        spec["main_metric"] = "correct"
    elif mteb_type == "STS":
        spec["type"] = "sts"
        spec["columns"] = {"text1": "sentence1", "text2": "sentence2", "score": "score"}
        spec["metrics"] = [_metric("rank_error", False)]
        spec["main_metric"] = "rank_error"
        options.update(min_score=task.min_score, max_score=task.max_score)
    elif mteb_type == "Summarization":
        spec["type"] = "sts"  # no summarization type in the registry vocabulary: STS evaluator, summarization mode
        spec["columns"] = {"text1": "machine_summaries", "text2": "human_summaries", "score": "relevance"}
        spec["metrics"] = [_metric("spearman", True, rng=(-1, 1), desc="the document's Spearman correlation")]
        spec["main_metric"] = "spearman"
        options.update(mode="summarization", min_score=task.min_score, max_score=task.max_score)
        tags.append("summarization")
    elif mteb_type in ("Retrieval", "Reranking"):
        # MTEB v2 keeps both in the BEIR layout (corpus/queries/qrels configs; rerankers add top_ranked)
        spec["type"] = "retrieval"
        spec["columns"] = {"query_id": "_id", "query": "text", "doc_id": "_id", "document": "text", "title": "title",
                           "relevance_query_id": "query-id", "relevance_doc_id": "corpus-id", "relevance": "score"}
        main = "map_at_1000" if mteb_type == "Reranking" else "ndcg_at_10"
        spec["metrics"] = [_metric(n, True) for n, _ in _RET_METRICS]
        spec["main_metric"] = main
        if getattr(task, "ignore_identical_ids", False):
            options["ignore_identical_ids"] = True
        if mteb_type == "Reranking":
            options["top_ranked"] = {"config": "top_ranked"}
            tags.append("reranking")
    else:
        raise ValueError(f"{md.name}: unsupported MTEB type {mteb_type}")
    spec["dataset"] = dataset
    spec["languages"] = ["eng-Latn"]
    spec["domains"] = [str(d) for d in (md.domains or [])]
    spec["tags"] = tags
    if md.license:
        spec["license"] = str(md.license)
    if md.reference:
        spec["reference"] = str(md.reference)
    spec["options"] = options
    order = ["name", "version", "description", "type", "dataset", "columns", "metrics", "main_metric", "languages",
             "domains", "tags", "license", "reference", "options"]
    return {k: spec[k] for k in order if k in spec}


def main(json_path: Path = DEFAULT_JSON) -> None:
    import mteb

    info = json.loads(Path(json_path).read_text())
    bench = {t.metadata.name: t for t in mteb.get_benchmark(info["benchmark"]).tasks}
    OUT.mkdir(parents=True, exist_ok=True)
    for name in info["tasks"]:
        task = bench[name]
        subsets = list(getattr(task, "hf_subsets", None) or ["default"])
        subset = next((s for s in subsets if s in ("en", "en-en", "eng", "default")), subsets[0])
        split = "test" if "test" in info["eval_splits"][name] else info["eval_splits"][name][0]
        spec = spec_for(task, info["types"][name], split, subset if task.metadata.is_multilingual else None)
        (OUT / f"{name}.yaml").write_text(yaml.safe_dump(spec, sort_keys=False, allow_unicode=True, width=110))
    print(f"wrote {len(info['tasks'])} specs to {OUT}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_JSON)
