"""`--executor ray` on a local 2-CPU Ray instance: same rows as the local executor, through the same store."""

from __future__ import annotations

import pytest

ray = pytest.importorskip("ray", reason="the ray executor needs `pip install ray`")

from samplebench.results import ResultStore  # noqa: E402
from samplebench.runners import evaluate  # noqa: E402


@pytest.fixture
def local_ray(home):
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"SAMPLEBENCH_HOME": str(home), "HF_HUB_OFFLINE": "1"}})
    yield
    ray.shutdown()


@pytest.mark.slow
def test_ray_executor_matches_local(local_ray, home, tmp_path):
    tasks = ["bundled-sts", "bundled-faq-retrieval", "bundled-news-topics"]
    by_ray = ResultStore(tmp_path / "ray")
    rep = evaluate("tfidf", tasks, store=by_ray, limit=60, executor="ray", batch_size=16, shard_size=25)
    assert rep.exit_code == 0 and [t.n_computed for t in rep.tasks] == [60, 60, 60]
    local = ResultStore(tmp_path / "local")
    evaluate("tfidf", tasks, store=local, limit=60, progress=False, batch_size=16)
    cols = ["task", "sample_id", "metric", "value"]
    a = sorted(tuple(r.values()) for r in by_ray.scan(columns=cols).to_pylist())
    b = sorted(tuple(r.values()) for r in local.scan(columns=cols).to_pylist())
    assert len(a) == 60 + 60 * 3 + 60
    assert [x[:3] for x in a] == [x[:3] for x in b]
    assert all(x[3] == pytest.approx(y[3], abs=1e-9) for x, y in zip(a, b, strict=True))
    # retrieval queries were cut into 3 shards of <= 25: five units, each a run in the one store
    assert len({r.run_id for r in by_ray.runs()}) == 5
    # a rerun through ray finds everything done and submits nothing
    again = evaluate("tfidf", tasks, store=by_ray, limit=60, executor="ray")
    assert all(t.n_computed == 0 for t in again.tasks) and not again.model_loaded


def test_ray_executor_from_the_cli(local_ray, bench, home):
    res = bench("evaluate", "random", "--tasks", "bundled-faq-reranking,bundled-sts", "--limit", "20",
                "--executor", "ray", "--quiet")
    assert res.exit_code == 0, res.output
    assert ResultStore(home / "store").scan(tasks=["bundled-faq-reranking"]).num_rows == 20 * 3
