"""Evidence built task by task in Ray workers equals the local build (select_evidence(executor="ray"))."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

ray = pytest.importorskip("ray", reason="the ray executor needs `pip install ray`")

from samplebench.aggregators import select_evidence  # noqa: E402
from samplebench.aggregators.evidence import EvidenceBuilder, merge_evidence, task_evidence  # noqa: E402
from samplebench.results import ResultStore  # noqa: E402
from samplebench.results.importers import IMPORTERS  # noqa: E402
from samplebench.results.manifest import MetricInfo  # noqa: E402

ARRAYS = ("offsets", "member_model", "member_level", "member_value", "sample_task", "sample_metric",
          "sample_group", "pair_a", "pair_b", "pair_outcome", "pair_task")


def _same(a, b) -> None:
    assert (a.models, a.tasks, a.metrics, a.groups) == (b.models, b.tasks, b.metrics, b.groups)
    assert a.higher_is_better == b.higher_is_better
    for name in ARRAYS:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


@pytest.fixture
def mteb_store(tmp_path, shared_data) -> ResultStore:
    """The real MTEB results sample: 17 models, 41 tasks."""
    store = ResultStore(tmp_path / "store")
    IMPORTERS["mteb"](store, shared_data / "mteb" / "results-sample", use_mteb=False)
    return store


@pytest.fixture
def local_ray(home):
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def test_ray_evidence_equals_local(local_ray, mteb_store, bench):
    local = select_evidence(mteb_store)
    remote = select_evidence(mteb_store, executor="ray")
    assert len(local.tasks) == 41 and local.n_measurements > 9_000
    _same(local, remote)
    some = local.models[3:9]
    _same(select_evidence(mteb_store, models=some), select_evidence(mteb_store, models=some, executor="ray"))
    by_cli = [bench("aggregate", "--store", str(mteb_store.root), "--executor", ex).output for ex in ("local", "ray")]
    assert by_cli[0] == by_cli[1] and "rank" in by_cli[0]


def test_merged_task_parts_equal_one_builder(tmp_path):
    """merge_evidence over per-task parts gives exactly what one builder fed every table in
    order gives: groups, two metrics of opposite directions, pairwise judgements, and models
    that first appear in later tasks."""
    rng = np.random.default_rng(0)
    rows = []
    for t, models in (("t0", ["a", "b"]), ("t1", ["c", "a", "b"]), ("t2", ["d", "b"])):
        for m in models:
            for i in range(6):
                rows.append({"model": m, "task": t, "sample_id": f"s{i}", "metric": "acc",
                             "value": float(rng.integers(0, 2)), "group": None})
                rows.append({"model": m, "task": t, "sample_id": f"s{i}", "metric": "loss",
                             "value": float(rng.normal()), "group": f"g{i % 3}" if t != "t0" else None})
    store = ResultStore(tmp_path / "s")
    with store.run(kind="evaluate") as w:
        w.write(rows)
    pairs = pa.table({"task": ["t2", "t1"], "sample_id": ["p0", "p1"], "model_a": ["e", "c"], "model_b": ["d", "a"],
                      "winner": ["a", "tie"]})
    with store.run(kind="import") as w:
        w.write(pairs, kind="pairwise")
    directions = {(t, m): m != "loss" for t in ("t0", "t1", "t2") for m in ("acc", "loss")}
    one = EvidenceBuilder(higher_is_better=directions)
    parts = []
    for t in ("t0", "t1", "t2"):
        table = store.scan(tasks=[t])
        one.add_table(table)
        one.add_pairwise_table(store.scan(kind="pairwise", tasks=[t]))
        info = {t: {m: MetricInfo(higher_is_better=m != "loss") for m in ("acc", "loss")}}
        parts.append(task_evidence(store, t, {}, info, models=None, metrics=None, pairwise=True, all_metrics=True))
    _same(one.build(), merge_evidence(parts))
