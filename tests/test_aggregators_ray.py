"""Evidence built task by task in Ray workers equals the local build (select_evidence(executor="ray"))."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

ray = pytest.importorskip("ray", reason="the ray executor needs `pip install ray`")

from samplebench.aggregators.evidence import EvidenceBuilder, merge_evidence  # noqa: E402
from samplebench.results import ResultStore  # noqa: E402
from samplebench.results.manifest import MetricInfo  # noqa: E402
from samplebench.selection import select_evidence, task_evidence  # noqa: E402

ARRAYS = ("offsets", "member_model", "member_level", "member_value", "sample_task", "sample_metric",
          "sample_group", "pair_a", "pair_b", "pair_outcome", "pair_task")


def _same(a, b) -> None:
    assert (a.models, a.tasks, a.metrics, a.groups) == (b.models, b.tasks, b.metrics, b.groups)
    assert a.higher_is_better == b.higher_is_better
    for name in ARRAYS:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


@pytest.fixture
def local_ray(home):
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def test_ray_evidence_equals_local(local_ray, mteb_store, bench):
    local = select_evidence(mteb_store, all_metrics=True)  # every metric: the main scores alone are ~3.7k
    remote = select_evidence(mteb_store, all_metrics=True, executor="ray")
    assert len(local.tasks) == 41 and local.n_measurements > 9_000
    _same(local, remote)
    some = local.models[3:9]
    _same(select_evidence(mteb_store, models=some), select_evidence(mteb_store, models=some, executor="ray"))
    by_cli = [bench("aggregate", "--store", str(mteb_store.root), "--executor", ex).output for ex in ("local", "ray")]
    assert by_cli[0] == by_cli[1] and "rank" in by_cli[0]


def test_merged_task_parts_equal_one_builder(tmp_path):
    """merge_evidence over per-task parts gives exactly what one builder fed every table in
    order gives, and so does select_evidence: groups, metrics of opposite directions that tasks
    meet in different orders (a later task's ballots must not be ordered by codes an earlier
    task assigned), pairwise judgements, and models that first appear in later tasks."""
    rng = np.random.default_rng(0)
    rows = []
    plan = (("t0", ["a", "b"], ["loss"]), ("t1", ["c", "a", "b"], ["acc", "loss"]), ("t2", ["d", "b"], ["loss", "acc"]))
    for t, models, metrics in plan:
        for m in models:
            for i in range(6):
                for metric in metrics:
                    group = None if t == "t0" or metric == "acc" else f"g{(i + len(t)) % 3}"
                    value = float(rng.integers(0, 2)) if metric == "acc" else float(rng.normal())
                    rows.append({"model": m, "task": t, "sample_id": f"s{i}", "metric": metric, "value": value,
                                 "group": group})
    store = ResultStore(tmp_path / "s")
    info = {t: {m: MetricInfo(higher_is_better=m != "loss") for m in metrics} for t, _, metrics in plan}
    with store.run(kind="evaluate", metric_info=info) as w:
        w.write(rows)
    pairs = pa.table({"task": ["t2", "t1"], "sample_id": ["p0", "p1"], "model_a": ["e", "c"], "model_b": ["d", "a"],
                      "winner": ["a", "tie"]})
    with store.run(kind="import") as w:
        w.write(pairs, kind="pairwise")
    one = EvidenceBuilder(higher_is_better={(t, m): m != "loss" for t, _, metrics in plan for m in metrics})
    parts = []
    for t, _, _ in plan:
        one.add_table(store.scan(tasks=[t]))
        one.add_pairwise_table(store.scan(kind="pairwise", tasks=[t]))
        parts.append(task_evidence(store, t, {}, {t: info[t]}, models=None, metrics=None, pairwise=True,
                                   all_metrics=True))
    single = one.build()
    assert single.metrics == ["loss", "acc"] and len(single.groups) == 3
    _same(single, merge_evidence(parts))
    _same(single, select_evidence(store, all_metrics=True, registry=tmp_path / "no-registry"))
