"""Sample cards written by the importers and by the task data that knows its samples (issue 14, item 1).

Real tool outputs (importers_fixtures/real/, written by lm-eval 0.4.13 and inspect-ai 0.3.285,
see make_real_outputs.py) and real shared data (AlpacaEval 1.0, CUBE-1K); bundled DICES-mini.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from samplebench.errors import SampleBenchError
from samplebench.results import ResultStore
from samplebench.results.cards import CardStore, cards_from_task_data
from samplebench.results.importers import IMPORTERS
from samplebench.results.importers.inspect_logs import read_member, sample_card
from samplebench.results.importers.lm_eval import doc_card
from samplebench.results.io import iter_jsonl

HERE = Path(__file__).parent
REAL = HERE / "importers_fixtures" / "real"
LM_CARDS = REAL / "lm_eval" / "cards"
INSPECT_CARDS = REAL / "inspect_cards"
ENCODER = "callable:pool_encoder:encode"  # tests/pool_encoder.py: a hashed bag of words


def cards_of(store: ResultStore) -> dict[tuple[str, str], dict]:
    return {(r["task"], r["sample_id"]): {**r, "metadata": json.loads(r["metadata"])}
            for r in CardStore(store).read().to_pylist()}


def measured_keys(store: ResultStore) -> set[tuple[str, str]]:
    t = store.scan(columns=["task", "sample_id"])
    return set(zip(t["task"].to_pylist(), t["sample_id"].to_pylist(), strict=True))


def state(store: ResultStore) -> tuple[int, int, list[str]]:
    """(measurement rows, card shards, run ids): what a repeated import must leave unchanged."""
    return store.scan().num_rows, len(CardStore(store).shard_paths()), [r.run_id for r in store.runs()]


# -- lm-evaluation-harness ------------------------------------------------------------------------
def test_lm_eval_cards_hold_the_question_and_the_doc_fields(bench, home):
    r = bench("results", "import", "--format", "lm-eval", LM_CARDS)
    assert r.exit_code == 0, r.output
    assert "sample cards: 8 written, 0 already in the store" in r.output
    store = ResultStore()
    cards = cards_of(store)
    assert set(cards) == measured_keys(store) and len(cards) == 8  # one card per imported document, same keys
    docs = {str(d["doc_id"]): d for _, d in iter_jsonl(next(LM_CARDS.rglob("samples_*.jsonl")))}
    for (task, sid), card in cards.items():
        doc = docs[sid]["doc"]
        assert task == "quiz_cards"
        # the text is the document's question: not the two few-shot examples, the description or the template
        assert card["text"] == doc["question"]
        prompt = docs[sid]["arguments"]["gen_args_0"]["arg_0"]
        assert prompt.count("Question:") == 3 and prompt.endswith(doc["question"] + "\nAnswer:")
        # the other doc fields are metadata (subject although the prompt quotes it: one word is a label)
        assert card["metadata"] == {"subject": doc["subject"], "source": doc["source"], "choices": doc["choices"],
                                    "answer": doc["answer"], "dataset": "json"}
    assert cards["quiz_cards", "0"]["metadata"]["subject"] == "geography"
    # importing again adds nothing: no run, no card shard
    before = state(store)
    r = bench("results", "import", "--format", "lm-eval", LM_CARDS)
    assert r.exit_code == 0 and "already imported (same content); nothing added" in r.output
    assert state(store) == before


def test_lm_eval_card_text_falls_back_to_the_logged_prompt():
    _, line = next(iter_jsonl(next((REAL / "lm_eval" / "out").rglob("samples_*.jsonl"))))
    assert doc_card(line)["text"] == "What is 0 plus 0?"  # the doc's question, quoted by the prompt
    no_doc = {k: v for k, v in line.items() if k != "doc"}
    assert doc_card(no_doc) == {"text": "Question: What is 0 plus 0?\nAnswer:", "metadata": {}}
    older = {**no_doc, "arguments": [["Question: What is 0 plus 0?\nAnswer:", " 0"]]}  # lm-eval < 0.4.3 layout
    assert doc_card(older)["text"] == "Question: What is 0 plus 0?\nAnswer:"
    reserved = {**line, "doc": {**line["doc"], "text": "x", "task": "y"}}
    assert {"doc_text": "x", "doc_task": "y"}.items() <= doc_card(reserved)["metadata"].items()
    assert doc_card({"doc_id": 0}) is None
    # fields inside another (hellaswag: `ctx`, `ctx_a`, `activity_label` inside `query`) or equal to one
    # are text once, and not metadata
    ctx = "A man is sitting on a roof. He starts pulling up roofing."
    query = "Roof shingle removal: " + ctx
    hs = {"doc": {"ctx_a": "A man is sitting on a roof.", "ctx": ctx, "activity_label": "Roof shingle removal",
                  "query": query, "prompt": query, "label": "0", "endings": ["on the roof.", "is laughing."]},
          "arguments": {"gen_args_0": {"arg_0": query, "arg_1": " on the roof."}}}
    assert doc_card(hs) == {"text": query, "metadata": {"label": "0", "endings": ["on the roof.", "is laughing."]}}


def test_lm_eval_cards_of_older_imports_are_completed_by_importing_again(home):
    """A store whose lm-eval import predates cards (measurements only) gets them on the next import."""
    store = ResultStore()
    IMPORTERS["lm-eval"](store, LM_CARDS)
    shutil.rmtree(CardStore(store).dir)
    rows = store.scan().num_rows
    s = IMPORTERS["lm-eval"](store, LM_CARDS)
    assert s.already_imported and s.cards == 8 and "added 8 sample cards the store lacked" in s.lines()[0]
    assert store.scan().num_rows == rows and len(cards_of(store)) == 8


# -- inspect-ai -----------------------------------------------------------------------------------
def test_inspect_eval_cards_from_chat_and_string_inputs(bench, home):
    log = next(INSPECT_CARDS.glob("*.eval"))
    r = bench("results", "import", "--format", "inspect", log)
    assert r.exit_code == 0, r.output
    assert "sample cards: 6 written" in r.output
    store = ResultStore()
    cards = cards_of(store)
    assert set(cards) == {("quiz", f"q{i}#1") for i in range(1, 7)}  # the measurements' sample ids
    with zipfile.ZipFile(log) as zf:
        header = json.loads(read_member(zf, log, "header.json"))
    assert header["eval"]["packages"]["inspect_ai"].startswith("0.3.285")
    chat, plain = cards["quiz", "q1#1"], cards["quiz", "q2#1"]
    assert chat["text"] == "Which river flows through Cairo before it reaches the Mediterranean Sea?"
    assert chat["metadata"] == {"target": "The Nile", "choices": ["The Nile", "None of these"],
                                "system": "You are a careful quiz master. Answer in a few words.",
                                "subject": "geography", "level": 2}
    assert plain["text"] == "Which gas do green plants take from the air during photosynthesis?"
    assert plain["metadata"] == {"target": "Carbon dioxide", "choices": ["Carbon dioxide", "None of these"],
                                 "subject": "biology", "level": 3}
    before = state(store)
    assert "nothing added" in bench("results", "import", "--format", "inspect", log).output
    assert state(store) == before


def test_inspect_json_log_and_failed_samples_get_cards(home):
    store = ResultStore()
    IMPORTERS["inspect"](store, next((REAL / "inspect").glob("*.json")))
    IMPORTERS["inspect"](store, REAL / "inspect_error")
    cards = cards_of(store)
    assert {k: c["text"] for k, c in cards.items() if k[0] == "tiny"} == {
        ("tiny", f"{i}#1"): f"Say {i}" for i in range(1, 5)}
    assert cards["tiny", "2#1"]["metadata"] == {"target": "2"}
    # samples 3 and 4 of the stopped run failed: their error rows have cards all the same
    t = store.scan(tasks=["tiny_err"], columns=["sample_id", "error"]).to_pylist()
    failed = {("tiny_err", r["sample_id"]) for r in t if r["error"]}
    assert failed == {("tiny_err", "3#1"), ("tiny_err", "4#1")} and failed <= set(cards)


def test_inspect_card_of_images_and_clashing_metadata():
    log = next(INSPECT_CARDS.glob("*.eval"))
    with zipfile.ZipFile(log) as zf:
        real = json.loads(read_member(zf, log, "samples/q1_epoch_1.json"))
    user = real["input"][1]
    user["content"] = [{"type": "text", "text": "What does this map show?"},
                       {"type": "image", "image": "maps/nile.png"}, {"type": "image", "image": "data:image/png;base64,AAAA"}]
    real["metadata"] = {"system": "theirs", "target": "also theirs", "text": "reserved", "tags": ["a", 1]}
    card = sample_card(real, "geo-quiz")
    assert card["text"] == "What does this map show?\n[image: maps/nile.png]\n[image: inline data]"
    m = card["metadata"]
    assert m["system"].startswith("You are a careful quiz master") and m["metadata_system"] == "theirs"
    assert m["metadata_target"] == "also theirs" and m["metadata_text"] == "reserved" and m["tags"] == ["a", 1]
    assert m["dataset"] == "geo-quiz"
    assert sample_card({**real, "input": [real["input"][0]]})["text"].startswith("You are a careful quiz master")
    assert sample_card({**real, "input": {"not": "an input"}}) is None


# -- bench query finds what was imported ----------------------------------------------------------
def test_query_finds_imported_samples(bench, home, monkeypatch):
    monkeypatch.syspath_prepend(str(HERE))
    bench("results", "import", "--format", "lm-eval", LM_CARDS)
    bench("results", "import", "--format", "inspect", next(INSPECT_CARDS.glob("*.eval")))
    r = bench("pool", "index", "--embedder", ENCODER, "--no-progress")
    assert r.exit_code == 0, r.output
    r = bench("query", "river through Cairo to the Mediterranean", "--top-k", "2", "--json")
    assert r.exit_code == 0, r.output
    hits = {(s["task"], s["sample_id"]) for s in json.loads(r.output)["samples"]}
    assert hits == {("quiz_cards", "0"), ("quiz", "q1#1")}  # the same question, from lm-eval and from inspect
    r = bench("query", "plants gas photosynthesis", "--top-k", "5", "--where", "subject=biology", "--json")
    got = json.loads(r.output)["samples"]
    assert {(s["task"], s["sample_id"]) for s in got} == {("quiz_cards", "1"), ("quiz", "q2#1")}


# -- bad sources write nothing --------------------------------------------------------------------
def _assert_empty(store: ResultStore) -> None:
    assert store.runs() == [] and store.scan().num_rows == 0 and CardStore(store).shard_paths() == []


def test_truncated_lm_eval_samples_file_writes_neither(bench, home, tmp_path):
    bad = tmp_path / "run"
    shutil.copytree(LM_CARDS, bad)
    sf = next(bad.rglob("samples_*.jsonl"))
    data = sf.read_bytes()
    sf.write_bytes(data[: len(data) - 200])  # a writer killed mid-line
    n = data[: len(data) - 200].count(b"\n") + 1
    r = bench("results", "import", "--format", "lm-eval", bad)
    assert r.exit_code == 2 and f"{sf.name}:{n}: invalid JSON" in r.output and "Traceback" not in r.output
    assert "nothing was imported" in r.output
    _assert_empty(ResultStore())
    sf.write_bytes(data.replace(b'"What is the capital', b'"\xff\xfe What is the capital'))  # not UTF-8
    r = bench("results", "import", "--format", "lm-eval", bad)
    assert r.exit_code == 2 and "not UTF-8 text" in r.output
    sf.write_bytes(data + b'["doc_id", 9]\n')  # valid JSON, not one logged document
    r = bench("results", "import", "--format", "lm-eval", bad)
    assert r.exit_code == 2 and "expected one JSON object per line, got list" in r.output
    _assert_empty(ResultStore())


def test_corrupt_inspect_log_writes_neither(bench, home, tmp_path):
    log = next(INSPECT_CARDS.glob("*.eval"))
    bad = tmp_path / log.name
    with zipfile.ZipFile(log) as src, zipfile.ZipFile(bad, "w", zipfile.ZIP_DEFLATED) as dst:
        for name in src.namelist():  # the last sample's JSON cut short, the rest intact (re-packed with deflate)
            raw = read_member(src, log, name)
            dst.writestr(name, raw[: len(raw) // 2] if name == "samples/q6_epoch_1.json" else raw)
    r = bench("results", "import", "--format", "inspect", bad)
    assert r.exit_code == 2 and "samples/q6_epoch_1.json:1: invalid JSON" in r.output
    _assert_empty(ResultStore())


def test_measurements_that_fail_to_stage_leave_no_cards(home):
    """Cards are written only once every measurement table is staged: the .eval and .json logs of one
    run in one folder are duplicate cells, refused by the store's writer, and no card is left."""
    with pytest.raises(SampleBenchError, match="duplicate cell"):
        IMPORTERS["inspect"](ResultStore(), REAL / "inspect")
    _assert_empty(ResultStore())


def test_hostile_card_fields_are_refused_by_the_samples_format(bench, home, tmp_path):
    bad = tmp_path / "cards.jsonl"
    bad.write_text('{"task": "t", "sample_id": "1", "text": "ok"}\n{"task": "t", "sample_id": "2", "text": "x"\n')
    r = bench("results", "import", "--format", "samples", bad)
    assert r.exit_code == 2 and "cards.jsonl:2: invalid JSON" in r.output and "one card object per line" in r.output
    _assert_empty(ResultStore())


# -- a kill mid-import ----------------------------------------------------------------------------
KILLER = textwrap.dedent("""
    import os, signal, sys
    from samplebench.results import ResultStore
    from samplebench.results import cards
    from samplebench.results.importers import IMPORTERS

    point = sys.argv[3]
    if point == "after-cards":  # the card shard is published, the measurements not yet
        write = cards.CardStore.write
        def write_then_die(self, *a, **k):
            out = write(self, *a, **k)
            os.kill(os.getpid(), signal.SIGKILL)
        cards.CardStore.write = write_then_die
    else:  # while the card shard is being written: half a file on disk
        from samplebench._atomic import temp_path_for
        def die(target, write, **k):
            target.parent.mkdir(parents=True, exist_ok=True)
            temp_path_for(target).write_bytes(b"PAR1 half a shard")
            os.kill(os.getpid(), signal.SIGKILL)
        cards.publish = die
    IMPORTERS[sys.argv[1]](ResultStore(sys.argv[2]), sys.argv[4])
""")


@pytest.mark.parametrize("point", ["after-cards", "in-cards"])
@pytest.mark.parametrize("fmt, source", [("lm-eval", LM_CARDS), ("inspect", INSPECT_CARDS)])
def test_a_kill_mid_import_leaves_a_consistent_store(tmp_path, home, fmt, source, point):
    root = tmp_path / "store"
    env = {**os.environ, "PYTHONPATH": str(HERE.parent) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.run([sys.executable, "-c", KILLER, fmt, str(root), point, str(source)], env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == -9, proc.stderr
    store = ResultStore(root)
    assert store.scan().num_rows == 0 and not [r for r in store.runs() if r.status == "finished"]
    n_cards = len(cards_of(store))
    assert n_cards == (0 if point == "in-cards" else {"lm-eval": 8, "inspect": 6}[fmt])
    leftovers = {p.name for p in CardStore(store).dir.iterdir()} - {p.name for p in CardStore(store).shard_paths()}
    assert all(n.startswith(".") and n.endswith(".tmp") for n in leftovers)  # a hidden temp file at most, never read
    assert len(leftovers) == (point == "in-cards")
    assert store.check().ok
    # importing again completes the import: measurements published, cards not written twice
    shards = len(CardStore(store).shard_paths())
    s = IMPORTERS[fmt](store, source)
    assert not s.already_imported and s.rows > 0
    assert s.cards == (0 if n_cards else len(cards_of(store))) and len(CardStore(store).shard_paths()) == (shards or 1)
    before = state(store)
    assert IMPORTERS[fmt](store, source).already_imported and state(store) == before


# -- AlpacaEval (real data): measurements and cards ------------------------------------------------
def test_alpacaeval_cards_hold_the_instruction_and_its_source_dataset(bench, home, shared_data):
    d = shared_data / "alpacaeval"
    assert bench("results", "import", "--format", "parquet", d / "alpaca-eval-1_measurements.parquet").exit_code == 0
    r = bench("results", "import", "--format", "samples", d / "alpaca-eval-1_samples.jsonl")
    assert r.exit_code == 0 and "imported 805 sample cards" in r.output
    store = ResultStore()
    cards = cards_of(store)
    source = [row for _, row in iter_jsonl(d / "alpaca-eval-1_samples.jsonl")]
    assert len(cards) == len(source) == 805
    for row in source:
        card = cards[row["task"], row["sample_id"]]
        assert card["text"] == row["text"] and card["text_sha1"] == row["text_sha1"]
        assert card["metadata"] == {"dataset": row["dataset"]}
    assert {c["metadata"]["dataset"] for c in cards.values()} == {"helpful_base", "koala", "oasst", "selfinstruct",
                                                                 "vicuna"}
    assert measured_keys(store) <= set(cards)  # every measured instruction has its card
    before = state(store)
    assert "already in the store" in bench("results", "import", "--format", "samples",
                                           d / "alpaca-eval-1_samples.jsonl").output
    assert state(store) == before


# -- task data that knows its samples: DICES conversations, CUBE prompts ---------------------------
def _task_cards(name: str) -> tuple[list[dict], list[str]]:
    from samplebench.registry import TaskRegistry
    from samplebench.tasks import evaluator_for

    spec = TaskRegistry(Path("/nonexistent-user-dir")).get(name)
    ev = evaluator_for(spec)
    data = ev.load()
    return cards_from_task_data(spec, data), ev.sample_ids(data)


def test_cube_1k_cards_are_the_real_prompts_with_their_roles(shared_data):
    cards, ids = _task_cards("cube-1k")
    src = json.loads((shared_data / "cube" / "CUBE_1K.json").read_text(encoding="utf-8"))
    assert [c["sample_id"] for c in cards] == ids and len(cards) == len(src) == 1002
    for card, s in zip(cards, src, strict=True):
        assert card["text"] == s["prompt"]
        m = card["metadata"]
        assert (m["concept"], m["country"], m["domain"]) == (s["name"], s["country"], s["domain"])
        assert m["task_type"] == "cultural_t2i" and "cube" in m["tags"]


def test_cube_diversity_cards_are_the_groups_that_are_measured():
    cards, ids = _task_cards("cube-diversity")
    assert [c["sample_id"] for c in cards] == ids and len(ids) == 60 and all(i.startswith("div:") for i in ids)
    brazil = next(c for c in cards if c["sample_id"] == "div:cuisine|Brazil|Americas")
    assert brazil["text"].count("\n\n") == 1 and "Brazil" in brazil["text"]  # the group's two phrasings
    assert {"concept": "cuisine", "country": "Brazil", "region": "Americas", "prompts": 2}.items() \
        <= brazil["metadata"].items()


def test_dices_cards_are_the_conversations_written_by_the_runner(home):
    from samplebench.runners.runner import evaluate

    evaluate("baseline/safety-lexicon", tasks=["dices-mini"], progress=False)
    store = ResultStore()
    cards = cards_of(store)
    assert set(cards) == measured_keys(store) and len(cards) == 48
    _, ids = _task_cards("dices-mini")
    first = cards["dices-mini", ids[0]]
    assert first["text"].startswith("USER: ") and "\n\nLAMDA: " in first["text"]  # conversation, then the response
    assert {"degree_of_harm", "harm_type", "safety_gold", "task_type"} <= set(first["metadata"])
    assert first["metadata"]["safety_gold"] in ("safe", "unsafe") and first["metadata"]["task_type"] == "safety_rating"
    shards = len(CardStore(store).shard_paths())
    evaluate("baseline/safety-lexicon", tasks=["dices-mini"], progress=False)
    assert len(CardStore(store).shard_paths()) == shards
