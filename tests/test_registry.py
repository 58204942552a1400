"""Task registry: the issue's spec registers as written; bad input exits 2 and changes nothing."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from samplebench.registry import TaskRegistry, TaskSpec, load_spec, validate_language

TOY_SPEC = """\
name: toy-sentiment
version: "1.0"
description: Two-class sentiment on short reviews.
type: classification
dataset:
  path: ./toy.csv
  splits: [test]
columns: {text: text, label: label}
metrics:
  - {name: accuracy, kind: binary, higher_is_better: true}
main_metric: accuracy
languages: [eng-Latn]
tags: [sentiment]
"""


@pytest.fixture
def toy(tmp_path: Path) -> Path:
    (tmp_path / "toy.csv").write_text("text,label\ngreat film,1\ndull plot,0\nloved it,1\n")
    spec = tmp_path / "spec.yaml"
    spec.write_text(TOY_SPEC)
    return spec


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under `folder` with its content hash (absent folder = empty)."""
    if not folder.exists():
        return {}
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.rglob("*") if p.is_file()}


def test_issue_spec_registers_exactly_as_written(bench, home, toy):
    r = bench("add-task", toy)
    assert r.exit_code == 0, r.output
    assert "registered task 'toy-sentiment'" in r.output
    spec = TaskRegistry().get("toy-sentiment")
    assert spec.type == "classification" and spec.main_metric == "accuracy"
    assert Path(spec.resolved_dataset_path()) == (toy.parent / "toy.csv").resolve()
    listed = bench("tasks", "list", "--tag", "sentiment")
    assert "toy-sentiment" in listed.output
    assert "toy-sentiment" in bench("tasks", "list", "--language", "en").output
    assert "toy-sentiment" not in bench("tasks", "list", "--language", "fra").output
    shown = bench("tasks", "show", "toy-sentiment", "--json")
    assert '"main_metric": "accuracy"' in shown.output


def test_duplicate_refused_unless_replace(bench, home, toy):
    assert bench("add-task", toy).exit_code == 0
    before = snapshot(home)
    r = bench("add-task", toy)
    assert r.exit_code == 2 and "already registered" in r.output and "--replace" in r.output
    assert snapshot(home) == before
    assert bench("add-task", toy, "--replace").exit_code == 0


@pytest.mark.parametrize(
    ("mutate", "needle"),
    [
        (lambda t: t.replace("eng-Latn", "english"), "languages.0"),
        (lambda t: t.replace("name: toy-sentiment", "name: ../x"), "name"),
        (lambda t: t + "colour: blue\n", "colour: unknown field"),
        (lambda t: "- just\n- a list\n", "must be a YAML mapping"),
        (lambda t: "name: [unclosed\n", "invalid YAML"),
        (lambda t: t.replace("main_metric: accuracy", "main_metric: f1"), "main_metric 'f1'"),
        (lambda t: t.replace("type: classification", "type: vibes"), "type"),
        (lambda t: t.replace("{text: text, label: label}", "{text: text, lable: label}"), "unknown role"),
        (lambda t: t.replace('"1.0"', "1.0"), "quoted string"),
        (lambda t: t.replace("./toy.csv", "./missing.csv"), "does not exist"),
        (lambda t: t.replace("label: label}", "label: stars}"), "no column(s) stars"),
        (lambda t: t.replace("path: ./toy.csv", "path: mteb/sts12-sts"), "revision"),
        (lambda t: t.replace("kind: binary", "kind: fuzzy"), "metrics.0.kind"),
        (lambda t: t + "options: {bogus: 1}\n", "unknown option(s) bogus"),
    ],
)
def test_bad_spec_exits_2_with_one_line_and_registry_unchanged(bench, home, toy, mutate, needle):
    assert bench("add-task", toy).exit_code == 0  # a registry with something in it
    before = snapshot(home)
    bad = toy.parent / "bad.yaml"
    bad.write_text(mutate(TOY_SPEC))
    r = bench("add-task", bad, "--replace")
    assert r.exit_code == 2, r.output
    assert needle in r.output
    assert "Traceback" not in r.output
    assert len(r.output.strip().splitlines()) <= 2
    assert snapshot(home) == before


def test_validate_does_not_register(bench, home, toy):
    r = bench("tasks", "validate", toy)
    assert r.exit_code == 0 and "valid classification task" in r.output
    assert snapshot(home) == {}


def test_unknown_task_suggests_closest(bench, home, toy):
    bench("add-task", toy)
    r = bench("tasks", "show", "toy-sentimnt")
    assert r.exit_code == 2 and "closest: toy-sentiment" in r.output


@pytest.mark.parametrize("code", ["en", "en-US", "eng-Latn", "zh-Hans-CN", "ger", "fra-Latn", "es-419"])
def test_valid_languages(code):
    assert validate_language(code)


@pytest.mark.parametrize("code", ["english", "xx", "eng-Latx", "en-ZZ", "", "e"])
def test_invalid_languages(code):
    with pytest.raises(ValueError):
        validate_language(code)


def test_hub_dataset_needs_revision_and_offline_check_is_skipped(tmp_path, monkeypatch):
    from samplebench.registry import check_dataset

    spec_text = TOY_SPEC.replace("path: ./toy.csv", "path: mteb/sts12-sts\n  revision: a0d554a64d88156834ff5ae9920b964011b16384")
    p = tmp_path / "hub.yaml"
    p.write_text(spec_text)
    spec = load_spec(TaskSpec, p)
    assert spec.dataset.is_hub
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert "not checked" in check_dataset(spec)


def test_revision_hash_changes_with_content(toy):
    a = load_spec(TaskSpec, toy)
    b = TaskSpec.model_validate({**a.model_dump(mode="json"), "version": "2.0"})
    assert a.revision_hash() != b.revision_hash()
    assert a.revision_hash() == load_spec(TaskSpec, toy).revision_hash()


yaml_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=20))
yaml_values = st.recursive(
    yaml_scalars,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(st.text(max_size=10), children, max_size=4)),
    max_leaves=12,
)
base_spec = yaml.safe_load(TOY_SPEC)


@st.composite
def mutated_specs(draw):
    """Either arbitrary YAML text, or the valid spec with random fields replaced/added/removed."""
    choice = draw(st.integers(0, 2))
    if choice == 0:
        return draw(st.text(max_size=200))
    data = dict(base_spec)
    for key in draw(st.lists(st.sampled_from([*base_spec, "extra", "raters", "options"]), max_size=3)):
        if draw(st.booleans()):
            data[key] = draw(yaml_values)
        else:
            data.pop(key, None)
    return yaml.safe_dump(data) if choice == 1 else yaml.safe_dump(draw(yaml_values))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=mutated_specs())
def test_random_yaml_gives_only_clean_errors(tmp_path, monkeypatch, text):
    from click.testing import CliRunner

    from samplebench.cli import cli

    home = tmp_path / "hyp-home"
    monkeypatch.setenv("SAMPLEBENCH_HOME", str(home))
    (tmp_path / "toy.csv").write_text("text,label\ngreat,1\n")
    spec = tmp_path / "random.yaml"
    spec.write_text(text, encoding="utf-8")
    before = snapshot(home)
    r = CliRunner().invoke(cli, ["add-task", str(spec), "--replace"])
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
    assert r.exit_code in (0, 2), r.output
    if r.exit_code == 2:
        assert r.output.startswith("error: ") and "Traceback" not in r.output
        assert snapshot(home) == before
