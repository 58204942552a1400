"""End to end from the CLI: `bench evaluate` a baseline safety classifier on the bundled DICES-format
task, then `bench aggregate --by-group rater_age`."""

from __future__ import annotations

import json
import math

import pytest

from samplebench.registry import ModelSpec, TaskRegistry
from samplebench.results import ResultStore

runners = pytest.importorskip("samplebench.runners")
if not hasattr(runners, "evaluate"):
    pytest.skip("`bench evaluate` (samplebench.runners.evaluate) is not there yet", allow_module_level=True)

MODELS = {
    "safety-lexicon": "adapter: safety-lexicon\n",
    "safety-tfidf": "adapter: safety-tfidf\n",
    "safety-constant": "adapter: safety-constant\nargs: {p: 0.5}\n",
}


@pytest.fixture
def models_home(home):
    folder = home / "models"
    folder.mkdir(parents=True)
    for name, body in MODELS.items():
        (folder / f"{name}.yaml").write_text(f"name: {name}\n{body}")
    return home


def test_evaluate_then_aggregate_by_group(bench, models_home):
    for name in MODELS:
        result = bench("evaluate", name, "--tasks", "dices-mini", "--quiet")
        assert result.exit_code == 0, result.output
        assert "dices-mini" in result.output
    store = ResultStore(models_home / "store")
    table = store.scan(tasks=["dices-mini"]).to_pandas()
    assert set(table["model"]) == set(MODELS)
    overall = table[table["group"].isna()]
    assert len(overall) == 3 * 48 * 3  # models x items x metrics
    groups = set(table["group"].dropna())
    assert {"rater_age=gen z", "rater_age=millenial", "rater_age=gen x+"} <= groups
    assert any("&" in g for g in groups)  # intersections are recorded too
    assert table["error"].isna().all()
    # the stored rows are what the evaluator computes directly
    from samplebench.runners.adapters import adapter_class
    from samplebench.tasks.base import evaluator_for

    ev = evaluator_for(TaskRegistry().get("dices-mini"))
    lex = adapter_class("safety-lexicon")(ModelSpec(name="safety-lexicon", adapter="safety-lexicon"))
    direct = {(r.sample_id, r.metric, r.group): r.value for r in ev.evaluate(lex, ev.load())}
    stored = table[table["model"] == "safety-lexicon"]
    assert len(stored) == len(direct)
    for row in stored.itertuples():
        group = None if not isinstance(row.group, str) else row.group
        assert math.isclose(row.value, direct[(row.sample_id, row.metric, group)], rel_tol=1e-12)
    const = table[(table["model"] == "safety-constant") & (table["metric"] == "cross_entropy")]
    assert const["value"].to_numpy() == pytest.approx(math.log(2))  # P(unsafe) = 1/2 everywhere

    result = bench("aggregate", "--tasks", "dices-mini", "--by-group", "rater_age")
    assert result.exit_code == 0, result.output
    for label in ("gen z", "millenial", "gen x+", "maximin"):
        assert label in result.output
    result = bench("aggregate", "--tasks", "dices-mini", "--by-group", "rater_age", "--json")
    assert result.exit_code == 0, result.output
    plural = json.loads(result.output)
    assert set(plural["groups"]) == {"gen z", "millenial", "gen x+"}
    maximin = [m["model"] for m in plural["maximin"]["models"]]
    assert set(maximin) == set(MODELS)
    # the uninformed floor (cross-entropy log 2 for every group) is last in the worst case
    assert maximin[-1] == "safety-constant"
    result = bench("aggregate", "--tasks", "dices-mini", "--by-group", "rater_locale")
    assert result.exit_code == 2  # no such rater column in this task's groups


def test_limit_and_diagnostics_from_the_cli(bench, models_home):
    result = bench("evaluate", "safety-lexicon", "--tasks", "dices-mini", "--limit", "5", "--quiet")
    assert result.exit_code == 0, result.output
    table = ResultStore(models_home / "store").scan().to_pandas()
    assert table["sample_id"].nunique() == 5
    result = bench("dices", "diagnostics", "dices-mini")
    assert result.exit_code == 0 and "alpha" in result.output
