"""`bench demo` end to end on a temporary store: offline models, bundled tasks, a ranking."""

from __future__ import annotations

from samplebench.demo import DEMO_MODELS, DEMO_TASKS
from samplebench.results import ResultStore


def test_demo_end_to_end(bench, home, tmp_path):
    store_dir = tmp_path / "demo-store"
    res = bench("demo", "--limit", "10", "--quiet", "--store", store_dir)
    assert res.exit_code == 0, res.output
    out = res.output
    assert "ranking (plackett-luce" in out
    assert f"results: {store_dir}" in out
    lines = [ln for ln in out.splitlines() if ln.strip()[:1].isdigit() and any(m in ln for m in DEMO_MODELS)]
    order = [next(m for m in DEMO_MODELS if m in ln) for ln in lines]
    assert sorted(order) == sorted(DEMO_MODELS)
    # a trained sentence encoder beats a random one on these tasks
    assert order.index("sentence-transformers/all-MiniLM-L6-v2") < order.index("baseline/random")
    assert order[-1] == "baseline/random"

    store = ResultStore(store_dir)
    t = store.scan(columns=["model", "task", "sample_id"])
    assert set(t["model"].cast("string").to_pylist()) == set(DEMO_MODELS)
    assert set(t["task"].cast("string").to_pylist()) == set(DEMO_TASKS)
    assert set(store.metric_info()) >= set(DEMO_TASKS)

    # a second demo computes nothing and gives the same ranking
    again = bench("demo", "--limit", "10", "--quiet", "--store", store_dir)
    assert again.exit_code == 0 and "0 samples computed, 60 reused" in again.output
    assert [ln for ln in again.output.splitlines() if ln in lines] == lines
