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


# -- issue 16: hostile and degenerate specs and datasets ----------------------------------------------------


def _add(bench, tmp_path, spec_text: str, data: dict[str, str | bytes] | None = None):
    for name, content in (data or {}).items():
        p = tmp_path / name
        p.write_bytes(content) if isinstance(content, bytes) else p.write_text(content)
    spec = tmp_path / "hostile.yaml"
    spec.write_text(spec_text)
    return bench("add-task", spec)


def _one_clean_error(r, *needles: str) -> None:
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output and len(r.output.strip().splitlines()) <= 3, r.output
    for needle in needles:
        assert needle in r.output, (needle, r.output)


@pytest.mark.parametrize("name", ['"evil\\n"', '"evil\\n\\n"', '"a/b"', '"../x"'])
def test_names_with_trailing_newlines_or_separators_are_refused(bench, home, toy, name):
    """Item 13: the name pattern's `$` matched before a trailing newline; names are matched whole."""
    r = _add(bench, toy.parent, TOY_SPEC.replace("name: toy-sentiment", f"name: {name}"))
    _one_clean_error(r, "name", "is not allowed")
    assert not (home / "tasks").exists() or not list((home / "tasks").iterdir())


def test_language_with_a_trailing_newline_is_refused():
    with pytest.raises(ValueError):
        validate_language("en\n")


def test_duplicate_yaml_keys_are_an_error_naming_key_and_line(bench, home, toy):
    """Item 13: YAML's silent last-wins for a repeated key is refused, at top level and nested."""
    r = _add(bench, toy.parent, TOY_SPEC.replace('version: "1.0"', 'version: "1.0"\nversion: "2.0"'))
    _one_clean_error(r, "duplicate key 'version'", "line 3", "first written at line 2")
    nested = TOY_SPEC.replace("  splits: [test]", "  splits: [test]\n  path: ./other.csv")
    _one_clean_error(_add(bench, toy.parent, nested), "duplicate key 'path'", "line 8")


def test_yaml_merge_keys_may_still_be_overridden(tmp_path):
    from samplebench.registry.loading import read_yaml_mapping

    p = tmp_path / "m.yaml"
    p.write_text("base: &b {k: 1, j: 2}\nm:\n  <<: *b\n  k: 3\n")
    assert read_yaml_mapping(p)["m"] == {"k": 3, "j": 2}


@pytest.mark.parametrize("path, ok", [
    ("hf://datasets/org/data/train.csv", False),
    ("hf://datasets/org/data@0123abc/train.csv", True),
])
def test_hf_paths_need_a_pinned_revision(bench, home, toy, path, ok):
    """Item 13: `hf://datasets/...` is a Hub dataset and needs a revision like any other."""
    r = _add(bench, toy.parent, TOY_SPEC.replace("path: ./toy.csv", f"path: {path}"))
    if ok:
        assert "must be pinned" not in r.output
    else:
        _one_clean_error(r, "must be pinned", "revision")
    spec = TOY_SPEC.replace("path: ./toy.csv", f"path: {path}\n  revision: 0123abc")
    assert "must be pinned" not in _add(bench, toy.parent, spec).output


def test_system_files_devices_and_empty_files_are_not_datasets(bench, home, toy, tmp_path):
    """Item 12: /etc/passwd, a symlink to /dev/zero and an empty file are refused at add-task."""
    if Path("/etc/passwd").is_file():
        _one_clean_error(_add(bench, toy.parent, TOY_SPEC.replace("./toy.csv", "/etc/passwd")),
                         "/etc/passwd", "not a dataset file")
    (toy.parent / "zero.jsonl").symlink_to("/dev/zero")
    _one_clean_error(_add(bench, toy.parent, TOY_SPEC.replace("./toy.csv", "./zero.jsonl")),
                     "/dev/zero", "not a regular data file")  # the path resolves through the link
    folder = toy.parent / "folder"
    folder.mkdir()
    (folder / "train.csv").write_text("text,label\na,1\nb,0\n")
    (folder / "test.jsonl").symlink_to("/dev/zero")
    _one_clean_error(_add(bench, toy.parent, TOY_SPEC.replace("./toy.csv", "./folder")), "test.jsonl")
    _one_clean_error(_add(bench, toy.parent, TOY_SPEC.replace("./toy.csv", "./empty.csv"), {"empty.csv": ""}),
                     "empty (0 bytes)")


def test_dataset_file_over_the_size_limit_names_the_limit(bench, home, toy, monkeypatch):
    monkeypatch.setenv("SAMPLEBENCH_MAX_DATASET_BYTES", "20")
    _one_clean_error(bench("add-task", toy), "toy.csv", "the limit for one dataset file is 20 bytes",
                     "SAMPLEBENCH_MAX_DATASET_BYTES")


@pytest.mark.parametrize("csv, needles", [
    ("text,label\ngreat,1\ndull,NaN\nfine,1\n", ["row 2", "'label'", "empty or NaN"]),
    ("text,label\ngreat,pos\ndull,\nfine,neg\n", ["row 2", "empty or NaN"]),
    ("text,label\ngreat,1\n", ["1 row(s)", "at least 2 samples"]),
    ("text,label\ngreat,1\ndull,1\nfine,1\n", ["single class", "at least two"]),
    ("id,text,label\n1,great,1\n2,dull,0\n1,fine,1\n", ["id 1 ", "appears twice"]),
])
def test_degenerate_data_fails_at_add_task_in_our_words(bench, home, toy, csv, needles):
    """Item 13: NaN/empty labels, a one-row CSV, one class and duplicate ids fail at add-task, not at
    evaluate with scikit-learn's words; the registry is left unchanged."""
    spec = TOY_SPEC if not csv.startswith("id,") else TOY_SPEC.replace("label: label}", "label: label, id: id}")
    r = _add(bench, toy.parent, spec, {"toy.csv": csv})
    _one_clean_error(r, "toy.csv", *needles)
    assert not (home / "tasks").exists() or not list((home / "tasks").iterdir())


def test_jsonl_dataset_content_is_checked_too(bench, home, toy):
    spec = TOY_SPEC.replace("./toy.csv", "./toy.jsonl")
    data = '{"text": "a", "label": 1}\n{"text": "b", "label": null}\n'
    _one_clean_error(_add(bench, toy.parent, spec, {"toy.jsonl": data}), "toy.jsonl", "row 2", "empty or NaN")
    good = '{"text": "a", "label": 1}\n{"text": "b", "label": 0}\n'
    assert _add(bench, toy.parent, spec, {"toy.jsonl": good}).exit_code == 0
