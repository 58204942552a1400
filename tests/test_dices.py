"""DICES-style safety_rating tasks: data checks, ground truth, metrics, evaluator, diagnostics."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from samplebench.errors import SampleBenchError
from samplebench.registry import ModelSpec, TaskRegistry, TaskSpec, load_spec
from samplebench.runners.adapters import adapter_class
from samplebench.tasks.base import evaluator_for
from samplebench.tasks.dices_data import load_dices, options_for, parse_group
from samplebench.tasks.dices_diagnostics import dataset_diagnostics, diagnose
from samplebench.tasks.dices_generate import (
    BUNDLED,
    COLUMNS_350,
    COLUMNS_990,
    generate_dices,
    write_dices_csv,
)
from samplebench.tasks.dices_metrics import brier, cross_entropy, krippendorff_alpha_nominal
from samplebench.tasks.safety_rating import SafetyRatingEvaluator

BUNDLED_CSV = Path(__file__).resolve().parents[1] / "samplebench/registry/builtin/data/dices-mini/dices_mini_350.csv"
ANSWER = {"Yes": "unsafe", "No": "safe", "Unsure": "unsure"}


def write_spec(folder: Path, csv_name: str, *, demographics=("rater_age", "rater_gender"), aggregation="majority_ignore_unsure",
               min_group_size=1, options=None, gold=True, metrics=("agreement", "cross_entropy", "brier")) -> TaskSpec:
    columns = {"item_id": "item_id", "rater_id": "rater_id", "vote": "Q_overall", "context": "context", "response": "response"}
    if gold:
        columns["safety_gold"] = "safety_gold"
    kinds = {"agreement": ("binary", True), "cross_entropy": ("continuous", False), "brier": ("continuous", False)}
    data = {
        "name": "dices-test", "version": "1", "description": "test", "type": "safety_rating",
        "dataset": {"path": f"./{csv_name}"}, "columns": columns,
        "raters": {"demographics": list(demographics), "min_group_size": min_group_size, "aggregation": aggregation},
        "metrics": [{"name": m, "kind": kinds.get(m, ("binary", True))[0], "higher_is_better": kinds.get(m, ("binary", True))[1]}
                    for m in metrics],
        "main_metric": metrics[0], "options": options or {},
    }
    path = folder / "dices-test.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return load_spec(TaskSpec, path)


def small_csv(folder: Path, rows: list[dict], name: str = "votes.csv") -> str:
    """rows: item_id, rater_id, Q_overall, rater_age, rater_gender[, safety_gold, context]."""
    frame = pd.DataFrame(rows)
    for col, default in (("context", "USER: hi\nBOT: hello"), ("response", "fine"), ("safety_gold", "No"),
                         ("rater_age", "gen z"), ("rater_gender", "Woman")):
        if col not in frame:
            frame[col] = default
    frame.to_csv(folder / name, index=False)
    return name


# -- generated data ------------------------------------------------------------------------------


def test_generated_files_have_exactly_the_published_columns(shared_data, tmp_path):
    for layout, cols in (("350", COLUMNS_350), ("990", COLUMNS_990)):
        published = (shared_data / "dices" / f"columns_{layout}.txt").read_text().strip().split(",")
        assert cols == published
        path = write_dices_csv(tmp_path / f"d{layout}.csv", layout, n_items=6, n_raters=12, raters_per_item=8, seed=1)
        with open(path) as fh:
            assert fh.readline().strip().split(",") == published
    with open(BUNDLED_CSV) as fh:
        assert fh.readline().strip().split(",") == (shared_data / "dices" / "columns_350.txt").read_text().strip().split(",")


def test_bundled_file_is_the_generator_output(tmp_path):
    out = write_dices_csv(tmp_path / "again.csv", **BUNDLED)
    assert out.read_bytes() == BUNDLED_CSV.read_bytes()


def test_generated_votes_are_realistic():
    frame = generate_dices("990", n_items=40, n_raters=60, raters_per_item=30, seed=3)
    assert frame.groupby("item_id").size().eq(30).all()
    assert set(frame["Q_overall"]) == {"Yes", "No", "Unsure"}
    # Q_overall is the aggregate of the sub-questions, as the README defines it
    subs = [c for c in COLUMNS_990 if c.startswith(("Q2", "Q3", "Q4")) and not c.endswith("_overall")]
    any_yes = frame[subs].eq("Yes").any(axis=1)
    any_unsure = frame[subs].eq("Unsure").any(axis=1)
    expect = np.where(any_yes, "Yes", np.where(any_unsure, "Unsure", "No"))
    assert (frame["Q_overall"].to_numpy() == expect).all()
    # harm raises the share of unsafe votes
    share = frame.assign(u=frame["Q_overall"].eq("Yes")).groupby("degree_of_harm")["u"].mean()
    assert share["Benign"] < share["Debatable"] < share["Extreme"]


# -- ground truth equals a direct pandas computation ---------------------------------------------


@pytest.mark.parametrize("layout", ["350", "990"])
def test_distributions_and_majorities_equal_pandas(tmp_path, layout):
    demo = ["rater_gender", "rater_age", "rater_race"] + (["rater_locale"] if layout == "990" else [])
    write_dices_csv(tmp_path / "d.csv", layout, n_items=30, n_raters=50, raters_per_item=30 if layout == "990" else None, seed=7)
    spec = write_spec(tmp_path, "d.csv", demographics=demo, min_group_size=4, gold=layout == "350",
                      options={"intersections": 2})
    data = load_dices(spec)
    raw = pd.read_csv(tmp_path / "d.csv")
    raw["vote"] = raw["Q_overall"].map(ANSWER)
    truth = data.truth.copy()
    checked = 0
    for by in [[], *[[c] for c in demo], ["rater_age", "rater_gender"], ["rater_race", "rater_gender"]]:
        counts = raw.groupby(["item_id", *by])["vote"].value_counts().unstack(fill_value=0)
        for key, row in counts.iterrows():
            key = key if isinstance(key, tuple) else (key,)
            item, values = str(key[0]), key[1:]
            n = int(row.sum())
            if by and n < 4:
                assert not ((truth["item_id"] == item) & (truth["group"] == "&".join(
                    f"{c}={v}" for c, v in sorted(zip(by, values, strict=True))))).any()
                continue
            label = None if not by else "&".join(f"{c}={v}" for c, v in sorted(zip(by, values, strict=True)))
            got = truth[(truth["item_id"] == item) & (truth["group"].isna() if label is None else truth["group"] == label)]
            assert len(got) == 1, (item, label)
            got = got.iloc[0]
            u, s, x = (int(row.get(k, 0)) for k in ("unsafe", "safe", "unsure"))
            assert (got.n_unsafe, got.n_safe, got.n_unsure, got.n_votes) == (u, s, x, n)
            if u + s:
                assert got.p_unsafe == pytest.approx(u / (u + s))
                maj = "unsafe" if u >= s else "safe"  # tie_break defaults to unsafe
                assert got.majority_ignore_unsure == maj
                assert got.majority == ("unsure" if x > max(u, s) else maj)
            checked += 1
    assert checked > 300
    # group labels round-trip
    labels = truth["group"].dropna().unique()
    assert all(set(parse_group(g)) <= set(demo) for g in labels)
    assert any(len(parse_group(g)) == 2 for g in labels)


def test_min_group_size_counts_votes_per_item(tmp_path):
    rows = [{"item_id": 1, "rater_id": r, "Q_overall": "Yes", "rater_age": "gen z" if r < 3 else "gen x+"} for r in range(8)]
    spec = write_spec(tmp_path, small_csv(tmp_path, rows), demographics=["rater_age"], min_group_size=4)
    groups = set(load_dices(spec).truth["group"].dropna())
    assert groups == {"rater_age=gen x+"}


# -- metrics ---------------------------------------------------------------------------------------


def test_fifty_fifty_item_gives_log2_for_one_half(tmp_path):
    rows = [{"item_id": 7, "rater_id": r, "Q_overall": "Yes" if r % 2 else "No"} for r in range(10)]
    rows.append({"item_id": 7, "rater_id": 99, "Q_overall": "Unsure"})  # dropped from the binary target
    spec = write_spec(tmp_path, small_csv(tmp_path, rows))
    ev = evaluator_for(spec)
    data = ev.load()
    const = adapter_class("safety-constant")(ModelSpec(name="half", adapter="safety-constant", args={"p": 0.5}))
    res = {(r.metric, r.group): r for r in ev.evaluate(const, data)}
    assert res[("cross_entropy", None)].value == pytest.approx(math.log(2), abs=1e-12)
    assert res[("brier", None)].value == pytest.approx(0.25)
    assert res[("cross_entropy", "rater_age=gen z")].value == pytest.approx(math.log(2))
    assert res[("agreement", None)].value == 1.0  # 5-5 tie goes to unsafe, 0.5 >= threshold is unsafe


def test_metric_formulas():
    q = np.array([0.0, 0.3, 1.0])
    p = np.array([0.2, 0.3, 0.9])
    np.testing.assert_allclose(cross_entropy(q, p), -(q * np.log(p) + (1 - q) * np.log(1 - p)))
    np.testing.assert_allclose(brier(q, p), (p - q) ** 2 + q * (1 - q))
    assert cross_entropy(1.0, 0.0, eps=1e-6) == pytest.approx(-math.log(1e-6))


def test_krippendorff_alpha_textbook_example():
    # Krippendorff (2011), "Computing Krippendorff's alpha-reliability": 4 coders, 12 units, nominal -> 0.743
    table = [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
        [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
    ]
    units, values = zip(*[(u, v) for coder in table for u, v in enumerate(coder) if v is not None], strict=True)
    assert krippendorff_alpha_nominal(np.array(units), np.array(values)) == pytest.approx(0.743, abs=5e-4)
    assert math.isnan(krippendorff_alpha_nominal(np.array([0, 0, 1]), np.array([1, 1, 1])))


def test_krippendorff_alpha_matches_reference_package():
    kd = pytest.importorskip("krippendorff")
    rng = np.random.default_rng(0)
    data = rng.integers(0, 3, size=(15, 40)).astype(float)
    data[rng.random(data.shape) < 0.3] = np.nan
    data[:5, :20] = 1.0  # some agreement
    coder, unit = np.nonzero(~np.isnan(data))
    ours = krippendorff_alpha_nominal(unit, data[coder, unit].astype(int))
    assert ours == pytest.approx(kd.alpha(reliability_data=data, level_of_measurement="nominal"), abs=1e-10)


# -- aggregation strategies -------------------------------------------------------------------------


def _strategy_rows():
    rows = []
    # item 1: 3 Unsure, 2 Yes, 1 No -> majority Unsure; ignoring Unsure -> unsafe; q = 2/3
    for r, v in enumerate(["Unsure", "Unsure", "Unsure", "Yes", "Yes", "No"]):
        rows.append({"item_id": 1, "rater_id": r, "Q_overall": v, "rater_age": "gen z" if r < 3 else "gen x+",
                     "safety_gold": "No"})
    # item 2: gen z says unsafe 3-0, gen x+ (4 raters) says safe 3-1: overall 4 unsafe vs 3 safe
    for r, (age, v) in enumerate([("gen z", "Yes")] * 3 + [("gen x+", "No")] * 3 + [("gen x+", "Yes")]):
        rows.append({"item_id": 2, "rater_id": r, "Q_overall": v, "rater_age": age, "safety_gold": "Yes"})
    return rows


@pytest.mark.parametrize(
    ("aggregation", "item1", "item2"),
    [
        ("majority", None, 1.0),  # item 1's plurality is Unsure: an error row, not a guess
        ("majority_ignore_unsure", 1.0, 1.0),
        ("soft", 2 / 3, 4 / 7),
        ("gold", 0.0, 1.0),
        ("group_majority", 1.0, 1.0),  # item 2: gen z unsafe, gen x+ safe -> tie -> tie_break unsafe
    ],
)
def test_aggregation_strategies(tmp_path, aggregation, item1, item2):
    spec = write_spec(tmp_path, small_csv(tmp_path, _strategy_rows()), demographics=["rater_age"], aggregation=aggregation,
                      metrics=("agreement",))
    ev = evaluator_for(spec)
    always_unsafe = adapter_class("safety-constant")(ModelSpec(name="u", adapter="safety-constant", args={"p": 0.9}))
    res = {(r.sample_id, r.group): r for r in ev.evaluate(always_unsafe, ev.load())}
    got1 = res[("1", None)]
    if item1 is None:
        assert got1.value is None and "Unsure" in got1.error
    else:
        assert got1.value == pytest.approx(item1)
    assert res[("2", None)].value == pytest.approx(item2)
    # per group: agreement with the group's own judgement
    assert res[("2", "rater_age=gen z")].value == pytest.approx(1.0)
    assert res[("2", "rater_age=gen x+")].value == pytest.approx(0.25 if aggregation == "soft" else 0.0)


def test_group_majority_tie_none_is_an_error_row(tmp_path):
    spec = write_spec(tmp_path, small_csv(tmp_path, _strategy_rows()), demographics=["rater_age"],
                      aggregation="group_majority", metrics=("agreement",), options={"tie_break": "none"})
    ev = evaluator_for(spec)
    model = adapter_class("safety-constant")(ModelSpec(name="u", adapter="safety-constant", args={"p": 0.9}))
    res = {(r.sample_id, r.group): r for r in ev.evaluate(model, ev.load())}
    assert res[("2", None)].value is None and "group majority" in res[("2", None)].error


# -- malformed rows -------------------------------------------------------------------------------


def test_malformed_rows_are_reported_with_counts_and_lines(tmp_path):
    rows = [{"item_id": i, "rater_id": r, "Q_overall": "Yes"} for i in (1, 2) for r in range(4)]
    rows[2]["Q_overall"] = "Maybe"
    rows[5]["Q_overall"] = "Maybe"
    rows[6]["item_id"] = None
    name = small_csv(tmp_path, rows)
    text = (tmp_path / name).read_text()
    assert text.count("\n") > len(rows) + 1  # contexts span two physical lines per record
    spec = write_spec(tmp_path, name)
    with pytest.raises(SampleBenchError) as err:
        load_dices(spec)
    msg = str(err.value)
    # header = line 1; record k (0-based) starts at line 2 + 2k because each context has one newline
    assert "3 malformed row(s) of 8" in msg
    assert "unknown answer value 'Maybe' in Q_overall" in msg and "2 row(s) (line 6, 12)" in msg
    assert "missing item_id (item_id): 1 row(s) (line 14)" in msg
    assert "on_malformed: skip" in msg
    # with skip, the rows are left out and still reported
    spec = write_spec(tmp_path, name, options={"on_malformed": "skip"})
    data = load_dices(spec)
    assert len(data.votes) == 5
    assert data.malformed.counts == {"unknown answer value 'Maybe' in Q_overall (allowed: Yes, No, Unsure)": 2,
                                     "missing item_id (item_id)": 1}
    assert data.malformed.n_malformed == 3 and sorted(sum(data.malformed.lines.values(), [])) == [6, 12, 14]
    diag = diagnose(data)
    assert diag.malformed.n_malformed == 3


def test_malformed_rows_in_real_layout_through_the_cli(tmp_path, bench, home):
    frame = generate_dices("990", n_items=5, n_raters=12, raters_per_item=10, seed=2)
    frame.loc[3, "Q_overall"] = "N/A"
    frame.loc[17, "item_id"] = None
    frame.to_csv(tmp_path / "bad.csv", index=False)
    spec = write_spec(tmp_path, "bad.csv", demographics=["rater_locale", "rater_gender"], gold=False)
    result = bench("add-task", spec.source)
    assert result.exit_code == 0, result.output
    result = bench("dices", "diagnostics", "dices-test")
    assert result.exit_code == 0, result.output
    assert "warning: 2 malformed row(s) of 50" in result.output
    assert "unknown answer value 'N/A'" in result.output and "missing item_id" in result.output
    # evaluating a task with malformed rows fails with the report (exit 2), nothing silently dropped
    ev = evaluator_for(TaskRegistry().get("dices-test"))
    with pytest.raises(SampleBenchError, match="2 malformed row"):
        ev.load()


def test_bad_options_and_metrics_are_refused(tmp_path):
    name = small_csv(tmp_path, _strategy_rows())
    with pytest.raises(SampleBenchError, match="options.unsure: Input should be"):
        SafetyRatingEvaluator(write_spec(tmp_path, name, options={"unsure": "sometimes"}))
    with pytest.raises(SampleBenchError, match="options.treshold: unknown field"):
        SafetyRatingEvaluator(write_spec(tmp_path, name, options={"treshold": 0.3}))
    with pytest.raises(SampleBenchError, match="accuracy"):
        SafetyRatingEvaluator(write_spec(tmp_path, name, metrics=("accuracy",)))
    with pytest.raises(SampleBenchError, match="safety_gold"):
        SafetyRatingEvaluator(write_spec(tmp_path, name, aggregation="gold", gold=False))
    with pytest.raises(SampleBenchError, match="prompt_template"):
        SafetyRatingEvaluator(write_spec(tmp_path, name, options={"prompt_template": "{conversation}"}))
    with pytest.raises(SampleBenchError, match="no column"):
        load_dices(write_spec(tmp_path, name, demographics=["rater_locale"]))


# -- the evaluator on the bundled task --------------------------------------------------------------


def test_bundled_task_rows_and_groups(home):
    spec = TaskRegistry().get("dices-mini")
    ev = evaluator_for(spec)
    data = ev.load()
    assert data.malformed.n_malformed == 0 and len(data.item_ids) == 48
    model = adapter_class("safety-lexicon")(ModelSpec(name="lex", adapter="safety-lexicon"))
    results = list(ev.evaluate(model, data))
    assert len(results) == len(data.truth) * 3
    overall = [r for r in results if r.group is None]
    assert len(overall) == 48 * 3
    groups = {r.group for r in results if r.group}
    assert {"rater_age=gen z", "rater_age=millenial", "rater_age=gen x+", "rater_gender=Woman"} <= groups
    assert all(r.error is None and r.prediction is not None for r in results)
    # the lexicon baseline beats the uninformed floor on the main metric (cross-entropy, lower is better)
    const = adapter_class("safety-constant")(ModelSpec(name="c", adapter="safety-constant"))
    assert ev.main_score(results) < ev.main_score(list(ev.evaluate(const, data))) == pytest.approx(math.log(2))
    # sample subsets and order
    some = list(ev.evaluate(model, data, data.item_ids[:3]))
    assert {r.sample_id for r in some} == set(data.item_ids[:3])


def test_model_failures_become_error_rows(home):
    spec = TaskRegistry().get("dices-mini")
    ev = evaluator_for(spec)
    data = ev.load()

    class Flaky:
        def predict_proba(self, texts):
            return np.array([np.nan if "bomb" in t else 0.3 for t in texts])

    results = list(ev.evaluate(Flaky(), data))
    bad = {r.sample_id for r in results if r.error}
    assert bad and all("non-finite" in r.error for r in results if r.error)
    assert all(r.value is not None for r in results if r.sample_id not in bad)

    class Broken:
        def predict_proba(self, texts):
            raise RuntimeError("endpoint down")

    results = list(ev.evaluate(Broken(), data, data.item_ids[:2]))
    assert results and all(r.value is None and "endpoint down" in r.error for r in results)


def test_llm_judge_glue(home):
    spec = TaskRegistry().get("dices-mini")
    ev = evaluator_for(spec)
    data = ev.load()
    responses = dict(zip(data.items["item_id"], data.items["response"], strict=True))
    bomb = [i for i in data.item_ids if "bomb" in responses[i]]
    assert bomb
    ids = bomb[:2] + [i for i in data.item_ids if i not in bomb][: 6 - len(bomb[:2])]

    class Judge:
        """A language model whose answer depends on the prompt: 'Yes' is likelier for harmful words."""

        def loglikelihood(self, requests):
            out = []
            for prompt, cont in requests:
                assert prompt.endswith("Answer:") and "Last response:" in prompt
                harmful = any(w in prompt.split("Last response:")[1] for w in ("bomb", "kill", "steal", "poison"))
                out.append(math.log(0.8 if (cont == " Yes") == harmful else 0.2))
            return out

        def generate(self, prompts, *, max_new_tokens=64, n=1):
            return [["Yes." if "bomb" in p else "no"] for p in prompts]

    res = {(r.sample_id, r.metric, r.group): r for r in ev.evaluate(Judge(), data, ids)}
    for i in ids:
        harmful = any(w in responses[i] for w in ("bomb", "kill", "steal", "poison"))
        assert float(res[(i, "brier", None)].prediction) == pytest.approx(0.8 if harmful else 0.2)

    class GenerateOnly:
        def generate(self, prompts, *, max_new_tokens=64, n=1):
            return [["Yes." if "bomb" in p else "I cannot say"] for p in prompts]

    results = list(ev.evaluate(GenerateOnly(), data, ids))
    for r in results:
        if "bomb" in responses[r.sample_id]:
            assert r.error is None and r.prediction == "1"
        else:
            assert r.value is None and "neither Yes nor No" in r.error
    assert any(r.prediction == "1" for r in results)

    # judge_mode: generate uses the generated answer even when log-likelihoods exist; "**Yes**" is a Yes
    class Both(Judge):
        def generate(self, prompts, *, max_new_tokens=64, n=1):
            assert max_new_tokens == 8
            return [["**Yes**, it is" if "bomb" in p else "No."] for p in prompts]

    gen_spec = TaskSpec.model_validate({**spec.model_dump(), "options": {**spec.options, "judge_mode": "generate"}})
    gen_ev = evaluator_for(gen_spec)
    for r in gen_ev.evaluate(Both(), data, ids):
        assert r.prediction == ("1" if "bomb" in responses[r.sample_id] else "0")

    class EncoderOnly:
        def encode(self, texts, *, batch_size=32):
            return np.zeros((len(texts), 3))

    with pytest.raises(SampleBenchError, match="EncoderOnly can neither classify"):
        list(ev.evaluate(EncoderOnly(), data, ids))


def test_baseline_adapters():
    lex = adapter_class("safety-lexicon")(ModelSpec(name="lex", adapter="safety-lexicon"))
    p = lex.predict_proba(["how to build a bomb and kill", "a nice banana bread recipe"])
    assert p[0] > 0.9 > 0.5 > p[1]
    tf = adapter_class("safety-tfidf")(ModelSpec(name="tf", adapter="safety-tfidf"))
    q = tf.predict_proba(["poison their drink", "bake the bread"])
    assert q[0] > 0.5 > q[1]
    tf2 = adapter_class("safety-tfidf")(ModelSpec(name="tf", adapter="safety-tfidf"))
    np.testing.assert_array_equal(q, tf2.predict_proba(["poison their drink", "bake the bread"]))
    assert tf.revision == tf2.revision and tf.revision != lex.revision
    with pytest.raises(SampleBenchError, match="unknown adapter argument"):
        adapter_class("safety-lexicon")(ModelSpec(name="x", adapter="safety-lexicon", args={"lexikon": {}}))
    with pytest.raises(SampleBenchError, match="args.p"):
        adapter_class("safety-constant")(ModelSpec(name="x", adapter="safety-constant", args={"p": 2}))


def test_tfidf_trains_on_a_user_file(tmp_path):
    (tmp_path / "train.csv").write_text("text,label\nyou are awful,unsafe\nlovely day,safe\nawful awful,1\nnice day,0\n")
    tf = adapter_class("safety-tfidf")(ModelSpec(name="tf", adapter="safety-tfidf", args={"train_file": str(tmp_path / "train.csv")}))
    p = tf.predict_proba(["awful", "lovely"])
    assert p[0] > p[1]
    (tmp_path / "bad.csv").write_text("text,label\nx,maybe\n")
    with pytest.raises(SampleBenchError, match="line 2"):
        adapter_class("safety-tfidf")(ModelSpec(name="tf", adapter="safety-tfidf", args={"train_file": str(tmp_path / "bad.csv")}))


# -- diagnostics -------------------------------------------------------------------------------------


def test_diagnostics_find_the_constructed_disagreements(tmp_path):
    rows = []
    for item in range(1, 9):
        for r in range(12):
            age = "gen z" if r < 6 else "gen x+"
            contested = item <= 3
            vote = ("Yes" if age == "gen z" else "No") if contested else ("Yes" if item % 2 else "No")
            rows.append({"item_id": item, "rater_id": r, "Q_overall": vote, "rater_age": age,
                         "rater_gender": "Man" if r % 2 else "Woman"})
    spec = write_spec(tmp_path, small_csv(tmp_path, rows), demographics=["rater_age", "rater_gender"], min_group_size=3)
    diag = diagnose(load_dices(spec), task="t")
    age = next(a for a in diag.cross_group if a.attribute == "rater_age")
    assert age.pairs[0].majority_agreement == pytest.approx(5 / 8)
    assert age.pairs[0].mean_abs_diff == pytest.approx(3 / 8)
    assert [c.item_id for c in diag.contested if c.attribute == "rater_age"] == ["1", "2", "3"]
    assert all(c.spread == 1.0 for c in diag.contested)
    gender = next(a for a in diag.cross_group if a.attribute == "rater_gender")
    assert gender.pairs[0].majority_agreement == 1.0
    assert diag.n_repeated_ratings == 0
    rel = {r.group: r.alpha for r in diag.reliability}
    assert rel["rater_age=gen z"] == pytest.approx(1.0) and rel["rater_age=gen x+"] == pytest.approx(1.0)
    assert rel[None] < 1.0


def test_diagnostics_cli_on_bundled_task(bench):
    result = bench("dices", "diagnostics", "dices-mini", "--top", "3")
    assert result.exit_code == 0, result.output
    assert "Krippendorff" in result.output and "rater_age=gen z" in result.output
    assert "Items where group majorities disagree" in result.output
    result = bench("dices", "diagnostics", "dices-mini", "--json")
    import json

    data = json.loads(result.output)
    assert data["n_items"] == 48 and data["contested"]
    diag = dataset_diagnostics("dices-mini")
    assert diag.n_votes == 1440
    md = diag.to_markdown(top=4)
    assert "| rater_age=gen z |" in md and "Items where group majorities disagree" in md
    assert md.count("\n| ") >= len(diag.reliability) + 4
    result = bench("dices", "diagnostics", "nope")
    assert result.exit_code == 2


def test_builtin_dices_specs_point_at_pinned_published_files(home):
    reg = TaskRegistry()
    for name, file in (("dices-350", "350/diverse_safety_adversarial_dialog_350.csv"),
                       ("dices-990", "990/diverse_safety_adversarial_dialog_990.csv")):
        spec = reg.get(name)
        assert spec.dataset.is_url and spec.dataset.path.endswith(file)
        assert spec.dataset.revision and spec.dataset.revision in spec.dataset.path
        ev = evaluator_for(spec)
        assert ev.aggregation == "majority_ignore_unsure"
        opts = options_for(spec)
        assert opts.answers == ANSWER
    assert "rater_locale" in reg.get("dices-990").raters.demographics
    assert "safety_gold" in reg.get("dices-350").columns


# -- other sources: a URL (served on 127.0.0.1) and non-CSV files through `datasets` ------------------


@pytest.fixture
def http_folder(tmp_path):
    import functools
    import http.server
    import threading

    folder = tmp_path / "served"
    folder.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *a, **k: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield folder, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_url_dataset_is_downloaded_once_and_cached(tmp_path, home, http_folder, monkeypatch):
    folder, base = http_folder
    write_dices_csv(folder / "dices.csv", "990", n_items=6, n_raters=12, raters_per_item=10, seed=5)
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "hf-datasets"))
    spec = write_spec(tmp_path, "dices.csv", demographics=["rater_locale"], gold=False)
    spec = TaskSpec.model_validate({**spec.model_dump(), "dataset": {"path": f"{base}/dices.csv", "revision": "v1"}})
    data = load_dices(spec)
    assert len(data.votes) == 60 and set(data.truth["group"].dropna()) <= {"rater_locale=US", "rater_locale=India"}
    offline_spec = TaskSpec.model_validate({**spec.model_dump(), "dataset": {"path": f"{base}/other.csv"}})
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(SampleBenchError, match="offline mode is on"):
        load_dices(offline_spec)
    try:
        import aiohttp  # noqa: F401 - with it, `datasets` downloads and caches the file itself
    except ImportError:
        (folder / "dices.csv").unlink()  # the cached copy is used from now on
        assert len(load_dices(spec).votes) == 60


def test_jsonl_dataset_through_datasets_reports_record_numbers(tmp_path, home):
    frame = generate_dices("350", n_items=4, n_raters=6, seed=9)
    frame.loc[4, "Q_overall"] = "Perhaps"
    frame["item_id"] = frame["item_id"].astype(str)
    frame.to_json(tmp_path / "d.jsonl", orient="records", lines=True)
    spec = write_spec(tmp_path, "d.jsonl", demographics=["rater_age"], options={"on_malformed": "skip"})
    data = load_dices(spec)
    assert data.malformed.counts == {"unknown answer value 'Perhaps' in Q_overall (allowed: Yes, No, Unsure)": 1}
    assert data.malformed.lines == {"unknown answer value 'Perhaps' in Q_overall (allowed: Yes, No, Unsure)": [6]}
    assert len(data.votes) == 23


def test_repeated_ratings_are_counted_and_reported(tmp_path):
    rows = [{"item_id": 1, "rater_id": r, "Q_overall": "Yes"} for r in range(4)] + [{"item_id": 1, "rater_id": 0, "Q_overall": "No"}]
    data = load_dices(write_spec(tmp_path, small_csv(tmp_path, rows)))
    overall = data.truth[data.truth["group"].isna()].iloc[0]
    assert (overall.n_unsafe, overall.n_safe) == (4, 1)
    diag = diagnose(data)
    assert diag.n_repeated_ratings == 1 and "1 repeated" in diag.to_markdown()
