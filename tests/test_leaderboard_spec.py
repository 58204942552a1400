"""LeaderboardSpec: the minimal spec as written in the issue, strictness, hashing, method checks."""

from __future__ import annotations

import pytest
from leaderboard_common import MINIMAL

from samplebench.errors import SampleBenchError
from samplebench.registry.leaderboard_spec import (
    leaderboard_spec_from_dict,
    load_leaderboard_spec,
)


def test_minimal_spec_is_accepted_exactly_as_written(tmp_path):
    p = tmp_path / "board.yaml"
    p.write_text(MINIMAL)
    spec = load_leaderboard_spec(p)
    assert spec.name == "sim-board" and spec.title == "Simulated board"
    assert spec.selection.tasks == "all" and spec.selection.models == "all" and spec.selection.metrics == "main"
    assert spec.aggregator.method == "plackett-luce" and spec.aggregator.params == {}
    assert spec.also_show == ["mean", "borda"]
    assert spec.bootstrap.n == 0 and spec.groups is None
    assert spec.source == p.resolve()


def test_spec_hash_is_stable_and_covers_every_field():
    a = leaderboard_spec_from_dict({"name": "b", "title": "B"})
    b = leaderboard_spec_from_dict({"name": "b", "title": "B", "aggregator": {"method": "plackett-luce"}})
    assert a.spec_hash() == b.spec_hash()  # defaults written out or not: the same spec
    c = leaderboard_spec_from_dict({"name": "b", "title": "B", "bootstrap": {"n": 10}})
    assert c.spec_hash() != a.spec_hash()
    assert len(a.spec_hash()) == 64


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        ({"name": "b", "title": "B", "selction": {}}, "selction: unknown field"),
        ({"name": "b", "title": "B", "selection": {"min_coverage": 2}}, "selection.min_coverage"),
        ({"name": "b", "title": "B", "selection": {"tasks": []}}, "selection.tasks"),
        ({"name": "b/c", "title": "B"}, "name"),
        ({"name": "b", "title": "B", "also_show": ["mean", "mean"]}, "also_show: mean listed twice"),
        ({"name": "b", "title": "B", "bootstrap": {"n": -1}}, "bootstrap.n"),
        ({"name": "b", "title": "B", "groups": {"rule": "plurality"}}, "groups.rule"),
    ],
)
def test_bad_specs_name_the_field(data, needle):
    with pytest.raises(SampleBenchError) as err:
        leaderboard_spec_from_dict(data, where="board.yaml")
    assert needle in str(err.value)
    assert "board.yaml" in str(err.value)


def test_shorthands():
    spec = leaderboard_spec_from_dict({"name": "b", "title": "B", "aggregator": "borda", "also_show": "mean, elo",
                                       "selection": {"tasks": "t1,t2", "models": "all"}})
    assert spec.aggregator.method == "borda" and spec.also_show == ["mean", "elo"]
    assert spec.selection.tasks == ["t1", "t2"]


def test_validate_cli_checks_method_names(bench, tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text(MINIMAL)
    r = bench("leaderboard", "validate", good)
    assert r.exit_code == 0, r.output
    assert "sim-board" in r.output and "plackett-luce" in r.output
    bad = tmp_path / "bad.yaml"
    bad.write_text(MINIMAL.replace("[mean, borda]", "[mean, bordaa]"))
    r = bench("leaderboard", "validate", bad)
    assert r.exit_code == 2
    assert "also_show[1]" in r.output and "bordaa" in r.output and "borda" in r.output
    r = bench("leaderboard", "validate", tmp_path / "missing.yaml")
    assert r.exit_code == 2 and "no such file" in r.output
