"""A leaderboard from real results: MTEB(eng, v2) main scores imported into a store (shared data)."""

from __future__ import annotations

import pyarrow.parquet as pq

from samplebench.leaderboards import build_leaderboard
from samplebench.registry.leaderboard_spec import leaderboard_spec_from_dict
from samplebench.results import ResultStore
from samplebench.results.importers import IMPORTERS


def test_mteb_eng_v2_leaderboard(shared_data, tmp_path):
    store = ResultStore(tmp_path / "store")
    IMPORTERS["mteb-scores"](store, shared_data / "mteb" / "eng_v2_main_scores.csv")
    raw = store.scan().to_pandas()
    n_tasks = raw["task"].nunique()
    per_model = raw[raw["value"].notna()].groupby("model")["task"].nunique()
    spec = leaderboard_spec_from_dict({"name": "mteb-eng-v2", "title": "MTEB(eng, v2)", "also_show": ["mean"],
                                       "selection": {"min_coverage": 0.5}})
    b = build_leaderboard(spec, store, tmp_path / "out")
    table = pq.read_table(tmp_path / "out" / "leaderboard.parquet").to_pylist()
    ranked = {r["model"] for r in table}
    # the models kept are exactly those with a main score on at least half of the selected samples
    assert ranked | set(b.excluded) == set(per_model.index)
    assert all(per_model[m] >= 1 for m in ranked)
    assert all(r["coverage"] >= 0.5 for r in table) and all(r["tasks_measured"] <= n_tasks for r in table)
    assert len(b.excluded) > 0 and len(ranked) > 100
    assert [r["rank"] for r in table] == sorted(r["rank"] for r in table)
    assert all(r["ci_low"] <= r["score"] <= r["ci_high"] for r in table)
    card = (tmp_path / "out" / "README.md").read_text()
    assert "left out" in card and b.run_ids[0] in card
