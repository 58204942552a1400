"""Pluralistic leaderboards on DICES-style results: best for whom (constructed case)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from samplebench.registry import TaskSpec, load_spec
from samplebench.results import MetricInfo, ResultStore
from samplebench.tasks.base import evaluator_for

aggregators = pytest.importorskip("samplebench.aggregators", reason="aggregators are built in a parallel issue")
if not hasattr(aggregators, "fit_by_group"):
    pytest.skip("samplebench.aggregators.fit_by_group is not there yet", allow_module_level=True)

N_ITEMS, CONTESTED = 24, 8


def constructed_task(folder) -> TaskSpec:
    """Two age groups of 6 raters. On items 1..8 gen z says unsafe and gen x+ safe (5 of 6 votes
    each); on the others both agree (odd items unsafe, even items safe)."""
    rows = []
    for item in range(1, N_ITEMS + 1):
        for r in range(12):
            age = "gen z" if r < 6 else "gen x+"
            if item <= CONTESTED:
                unsafe = (age == "gen z") == (r % 6 != 0)  # 5 of 6 follow their group
            else:
                unsafe = (item % 2 == 1) == (r % 6 != 0)
            rows.append({"item_id": item, "rater_id": r, "Q_overall": "Yes" if unsafe else "No", "rater_age": age,
                         "context": f"conversation {item}", "response": f"reply {item}"})
    pd.DataFrame(rows).to_csv(folder / "votes.csv", index=False)
    spec = {
        "name": "dices-constructed", "version": "1", "description": "two age groups that disagree on 8 items",
        "type": "safety_rating", "dataset": {"path": "./votes.csv"},
        "columns": {"item_id": "item_id", "rater_id": "rater_id", "vote": "Q_overall", "context": "context",
                    "response": "response"},
        "raters": {"demographics": ["rater_age"], "min_group_size": 3, "aggregation": "majority_ignore_unsure"},
        "metrics": [{"name": "agreement", "kind": "binary", "higher_is_better": True},
                    {"name": "cross_entropy", "kind": "continuous", "higher_is_better": False},
                    {"name": "brier", "kind": "continuous", "higher_is_better": False}],
        "main_metric": "cross_entropy",
        "options": {"text_template": "{item_id}"},
    }
    (folder / "spec.yaml").write_text(yaml.safe_dump(spec))
    return load_spec(TaskSpec, folder / "spec.yaml")


class ItemClassifier:
    """P(unsafe) per item id (the task's text_template is `{item_id}`)."""

    def __init__(self, p: dict[str, float]) -> None:
        self.p = p

    def predict_proba(self, texts):
        return np.array([self.p[t] for t in texts])


def models() -> dict[str, ItemClassifier]:
    agreed = {str(i): (0.9 if i % 2 else 0.1) for i in range(CONTESTED + 1, N_ITEMS + 1)}
    contested = [str(i) for i in range(1, CONTESTED + 1)]
    return {
        "copies-gen-z": ItemClassifier({**agreed, **dict.fromkeys(contested, 0.9)}),
        "copies-gen-x": ItemClassifier({**agreed, **dict.fromkeys(contested, 0.1)}),
        # near 1/2 on the contested items, leaning to each group on half of them
        "hedges": ItemClassifier({**agreed, **{c: 0.55 if int(c) % 2 else 0.45 for c in contested}}),
    }


def evaluate_into_store(spec: TaskSpec, store: ResultStore) -> None:
    ev = evaluator_for(spec)
    data = ev.load()
    info = {spec.name: {m.name: MetricInfo(higher_is_better=m.higher_is_better, kind=m.kind,
                                           main=m.name == spec.main_metric) for m in spec.metrics}}
    with store.run(kind="evaluate", command="test", metric_info=info) as w:
        for name, model in models().items():  # one shard per model
            w.write([{"model": name, "task": spec.name, "task_revision": spec.revision_hash(),
                      "sample_id": r.sample_id, "metric": r.metric, "value": r.value, "error": r.error,
                      "group": r.group, "prediction": r.prediction} for r in ev.evaluate(model, data)])


@pytest.mark.parametrize(("metric", "method"), [("cross_entropy", "plackett-luce"), ("agreement", "mean"),
                                                ("brier", "borda")])
def test_copying_one_group_is_first_for_it_and_not_under_maximin(tmp_path, home, metric, method):
    spec = constructed_task(tmp_path)
    store = ResultStore(tmp_path / "store")
    evaluate_into_store(spec, store)
    from samplebench.selection import select_evidence

    ev = select_evidence(store, tasks=[spec.name], metrics=[metric], registry=tmp_path / "no-registry")
    result = aggregators.fit_by_group(ev, "rater_age", method=method)
    assert set(result.groups) == {"gen z", "gen x+"}
    assert result.groups["gen z"].order()[0] == "copies-gen-z"
    assert result.groups["gen x+"].order()[0] == "copies-gen-x"
    # the worst group of each copier is the other group; hedging is best in the worst case
    assert result.maximin.order()[0] == "hedges"
    assert result.maximin.by_model()["copies-gen-z"].rank > 1
    worst = result.maximin.diagnostics.worst_group
    assert worst["copies-gen-z"].endswith("gen x+") or worst["copies-gen-z"] == "gen x+"


def test_groups_disagree_in_the_constructed_case(tmp_path):
    from samplebench.tasks.dices_diagnostics import dataset_diagnostics

    diag = dataset_diagnostics(constructed_task(tmp_path))
    assert [c.item_id for c in diag.contested] == [str(i) for i in range(1, CONTESTED + 1)]
    pair = diag.cross_group[0].pairs[0]
    assert pair.majority_agreement == pytest.approx((N_ITEMS - CONTESTED) / N_ITEMS)
