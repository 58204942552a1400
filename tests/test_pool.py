"""Sample cards, the pool index and capability queries (issue 14)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from samplebench.errors import SampleBenchError
from samplebench.results import ResultStore
from samplebench.results.cards import CardStore

sys.path.insert(0, str(Path(__file__).parent))
ENCODER = "callable:pool_encoder:encode"
SHARED_ALPACA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "alpacaeval"

TOPICS = {
    "cook": ["bake bread with flour and yeast", "simmer a tomato sauce with garlic", "roast a chicken with lemon"],
    "code": ["write a python function to sort a list", "fix the python error in this loop", "python class for a stack"],
    "sql": ["sql query joining orders and customers", "sql group by count per customer", "sql index on a table"],
}


def _cards(path: Path, extra: list[dict] | None = None) -> Path:
    rows = []
    for topic, texts in TOPICS.items():
        for i, text in enumerate(texts):
            rows.append({"task": "toy", "sample_id": f"{topic}{i}", "text": text, "dataset": topic,
                         "tags": [topic, "toy"]})
    rows += extra or []
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


def _measurements(store: ResultStore, task: str = "toy", skip: tuple[str, ...] = ()) -> None:
    """Model m0 is best on cooking, m2 best on code/sql; m1 in between everywhere."""
    rows = {"model": [], "task": [], "sample_id": [], "metric": [], "value": []}
    for topic, texts in TOPICS.items():
        for i in range(len(texts)):
            sid = f"{topic}{i}"
            if sid in skip:
                continue
            for m, v in zip(("m0", "m1", "m2"), (3, 2, 1) if topic == "cook" else (1, 2, 3), strict=True):
                for key, val in (("model", m), ("task", task), ("sample_id", sid), ("metric", "score"), ("value", v)):
                    rows[key].append(val)
    store.append(rows)


# -- cards ---------------------------------------------------------------------------------------
def test_cards_latest_idempotent_and_changed(home, tmp_path):
    cs = CardStore(ResultStore())
    cards = [{"task": "t", "sample_id": "1", "text": "hello", "lang": "en"},
             {"task": "t", "sample_id": "2", "text": "world"}]
    assert cs.write(cards) == {"written": 2, "unchanged": 0}
    assert cs.write(cards) == {"written": 0, "unchanged": 2}
    assert len(cs.shard_paths()) == 1  # nothing new: no shard
    cs.write([{"task": "t", "sample_id": "1", "text": "hello again", "lang": "en"}])
    t = cs.read()
    assert t.num_rows == 2
    got = {r["sample_id"]: (r["text"], json.loads(r["metadata"])) for r in t.to_pylist()}
    assert got["1"] == ("hello again", {"lang": "en"})
    assert got["2"][0] == "world"


def test_card_store_opened_by_path(tmp_path):
    CardStore(tmp_path / "store").write([{"task": "t", "sample_id": "1", "text": "x"}])
    assert len(list((tmp_path / "store" / "cards").glob("*.parquet"))) == 1  # not under the path's .root ("/")
    assert CardStore(str(tmp_path / "store")).read().num_rows == 1


def test_card_write_is_all_or_nothing(home, monkeypatch):
    cs = CardStore(ResultStore())
    cs.write([{"task": "t", "sample_id": "1", "text": "kept"}])

    def boom(table, where):
        with open(where, "wb") as fh:
            fh.write(b"PAR1 half a file")
        raise KeyboardInterrupt("killed mid-write")

    import samplebench.results.cards as cards_mod

    monkeypatch.setattr(cards_mod.pq, "write_table", boom)
    with pytest.raises(KeyboardInterrupt):
        cs.write([{"task": "t", "sample_id": "2", "text": "lost"}])
    monkeypatch.undo()
    assert [p.name for p in cs.dir.iterdir()] == [cs.shard_paths()[0].name]  # no temp file, no half shard
    assert cs.read()["text"].to_pylist() == ["kept"]


def test_import_samples_cli(bench, tmp_path):
    f = _cards(tmp_path / "cards.jsonl")
    r = bench("results", "import", "--format", "samples", f)
    assert r.exit_code == 0, r.output
    assert "imported 9 sample cards" in r.output
    r = bench("results", "import", "--format", "samples", f)
    assert "already in the store" in r.output
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"task": "t", "sample_id": "1", "text": "x"}\n{"task": "t", "text": "y"}\n')
    r = bench("results", "import", "--format", "samples", bad)
    assert r.exit_code == 2 and "card 2: missing field 'sample_id'" in r.output
    bad.write_text('{"task": "t", "sample_id": "1", "text": "x", "text_sha1": "00"}\n')
    r = bench("results", "import", "--format", "samples", bad)
    assert r.exit_code == 2 and "does not match the text" in r.output


def test_runner_writes_cards_once(home):
    from samplebench.runners.runner import evaluate

    evaluate("bm25", tasks=["bundled-sts"], limit=5, progress=False)
    cs = CardStore(ResultStore())
    t = cs.read()
    assert t.num_rows > 0 and set(t["task"].to_pylist()) == {"bundled-sts"}
    card = t.to_pylist()[0]
    assert "\n\n" in card["text"]  # a pair: both sides
    assert json.loads(card["metadata"])["task_type"] == "sts"
    n = len(cs.shard_paths())
    evaluate("bm25", tasks=["bundled-sts"], limit=5, progress=False)
    assert len(cs.shard_paths()) == n


# -- index and queries ---------------------------------------------------------------------------
@pytest.fixture
def pool_store(bench, tmp_path):
    bench("results", "import", "--format", "samples", _cards(tmp_path / "cards.jsonl"))
    _measurements(ResultStore())
    r = bench("pool", "index", "--embedder", ENCODER, "--no-progress")
    assert r.exit_code == 0, r.output
    return ResultStore()


def test_query_json_shape_and_ranking(pool_store, bench):
    r = bench("query", "python", "--top-k", "3", "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert set(out) >= {"samples", "ranking", "tau_vs_global"}
    assert {s["sample_id"] for s in out["samples"]} == {"code0", "code1", "code2"}
    for s in out["samples"]:
        assert set(s) >= {"task", "sample_id", "similarity"}
    order = [m["model"] for m in sorted(out["ranking"]["models"], key=lambda m: m["rank"])]
    assert order == ["m2", "m1", "m0"]
    assert all(m["ci_low"] is not None for m in out["ranking"]["models"])
    assert out["ranking"]["coverage"] == {"m0": 1.0, "m1": 1.0, "m2": 1.0}
    # on cooking the order flips against the whole pool (6 of 9 samples favour m2)
    out = json.loads(bench("query", "cook bake roast simmer", "--top-k", "3", "--json").output)
    assert [m["model"] for m in sorted(out["ranking"]["models"], key=lambda m: m["rank"])] == ["m0", "m1", "m2"]
    assert out["tau_vs_global"] == pytest.approx(-1.0)


def test_where_min_similarity_and_methods(pool_store):
    from samplebench.pool import Pool

    pool = Pool(pool_store)
    hits = pool.search("sql python", top_k=9, where={"dataset": "sql"})
    assert {h.sample_id for h in hits} == {"sql0", "sql1", "sql2"}
    assert {h.sample_id for h in pool.search("sql python", top_k=9, where={"tags": "code"})} == {"code0", "code1", "code2"}
    strong = pool.search("sql query", top_k=9, min_similarity=0.3)
    assert strong and len(strong) < 9 and all(h.similarity >= 0.3 for h in strong)
    lexical = pool.search("sql", top_k=5, retrieval="bm25")
    assert {h.sample_id for h in lexical} == {"sql0", "sql1", "sql2"}  # only cards with the word
    assert pool.search("python", top_k=3, retrieval="hybrid")[0].sample_id.startswith("code")
    res = pool.query("python", top_k=3, method="borda")
    assert res.ranking["method"] == "borda"


def test_query_file_loads_embedder_once(pool_store, bench, tmp_path, monkeypatch):
    from samplebench.pool import embedder as embedder_mod

    loads = []
    real_init = embedder_mod.PoolEmbedder.__init__

    def counting_init(self, *args, **kwargs):
        loads.append(args)
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(embedder_mod.PoolEmbedder, "__init__", counting_init)
    f = tmp_path / "q.txt"
    f.write_text('python code\n\n{"text": "sql customers", "top_k": 2, "where": {"dataset": "sql"}}\ncook\n')
    r = bench("query", "--file", f)
    assert r.exit_code == 0, r.output
    lines = [json.loads(x) for x in r.output.strip().splitlines()]
    assert len(lines) == 3 and len(lines[1]["samples"]) == 2
    assert {s["sample_id"] for s in lines[1]["samples"]} <= {"sql0", "sql1", "sql2"}
    assert len(loads) == 1  # one embedder for all the queries
    f.write_text('python\n{"text": "x", "colour": "red"}\n')
    r = bench("query", "--file", f)
    assert r.exit_code == 2 and "line 2: unknown field(s) colour" in r.output


def test_incremental_index_encodes_only_new_cards(pool_store, bench, tmp_path, monkeypatch):
    from samplebench.pool import build_index

    assert build_index(pool_store, ENCODER, progress=False).unchanged
    CardStore(pool_store).write([{"task": "toy", "sample_id": "new", "text": "grill fish on charcoal"}])
    # a revisioned encoder gets the text-hash cache: only the new card is encoded
    from samplebench.registry import ModelSpec
    from samplebench.runners import models as models_mod

    spec = ModelSpec(name=ENCODER, adapter="callable", revision="v1", args={"target": "pool_encoder:encode"})
    monkeypatch.setattr(models_mod, "resolve_spec", lambda name, registry=None: spec)
    first = build_index(pool_store, ENCODER, progress=False)
    assert first.encoded == 10
    CardStore(pool_store).write([{"task": "toy", "sample_id": "new2", "text": "steam rice"}])
    second = build_index(pool_store, ENCODER, progress=False)
    assert second.encoded == 1 and second.cards == 11 and second.version != first.version


def test_approximate_index_agrees_with_exact(tmp_path):
    from samplebench.pool.vectors import VectorIndex

    rng = np.random.default_rng(0)
    x = rng.normal(size=(3000, 32)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    exact, approx = VectorIndex.build(x), VectorIndex.build(x, exact_limit=1000)
    assert exact.exact and not approx.exact
    q = x[:20] + 0.1 * rng.normal(size=(20, 32)).astype(np.float32)
    overlap = [len(set(exact.search(v, 10)[1]) & set(approx.search(v, 10)[1])) / 10 for v in q]
    assert np.mean(overlap) >= 0.9


def test_capability_save_and_aggregate_reproducible(pool_store, bench):
    from samplebench.pool import Pool, load_capability

    r = bench("query", "sql customers", "--top-k", "3", "--save", "sql-skills")
    assert r.exit_code == 0 and "saved capability 'sql-skills'" in r.output
    cap = load_capability(pool_store, "sql-skills")
    assert cap.index_version == Pool(pool_store).version
    assert {s for _, s in cap.sample_keys()} == {"sql0", "sql1", "sql2"}
    assert cap.query["text"] == "sql customers" and cap.query["top_k"] == 3
    assert "sql-skills" in bench("pool", "capabilities").output


# -- bad input: one line, exit 2 -----------------------------------------------------------------
def _one_error(r) -> str:
    assert r.exit_code == 2, r.output
    lines = [x for x in r.output.strip().splitlines() if not x.startswith("... ")]  # progress lines (stderr)
    assert 1 <= len(lines) <= 2 and lines[0].startswith("error: ")
    assert "Traceback" not in r.output
    return lines[0]


def test_bad_input(bench, tmp_path):
    assert "no pool index yet" in _one_error(bench("query", "anything"))
    assert "no sample cards to index" in _one_error(bench("pool", "index", "--embedder", ENCODER))
    bench("results", "import", "--format", "samples", _cards(tmp_path / "cards.jsonl"))
    _measurements(ResultStore(), skip=("sql0", "sql1", "sql2"))
    bench("pool", "index", "--embedder", ENCODER, "--no-progress")
    assert "query is empty" in _one_error(bench("query", "   "))
    assert "query is empty" in _one_error(bench("query"))
    assert "unknown field 'colour'" in _one_error(bench("query", "sql", "--where", "colour=red"))
    assert "FIELD=VALUE" in _one_error(bench("query", "sql", "--where", "colour"))
    assert "not valid" in _one_error(bench("query", "sql", "--save", "../x"))
    r = bench("query", "sql customers", "--top-k", "3", "--where", "dataset=sql", "--json")
    assert json.loads(r.output)["ranking"] is None  # matched, but nothing measured: said, not ranked
    bench("query", "sql customers", "--top-k", "3", "--where", "dataset=sql", "--save", "unmeasured")
    from samplebench.pool import Pool, load_capability

    with pytest.raises(SampleBenchError, match="has measurements"):
        Pool(ResultStore()).rank(load_capability(ResultStore(), "unmeasured").sample_keys())


# -- real data: AlpacaEval 1.0 -------------------------------------------------------------------
def test_alpacaeval_import_index_query(bench, shared_data):
    d = shared_data / "alpacaeval"
    assert bench("results", "import", "--format", "parquet", d / "alpaca-eval-1_measurements.parquet").exit_code == 0
    r = bench("results", "import", "--format", "samples", d / "alpaca-eval-1_samples.jsonl")
    assert "imported 805 sample cards" in r.output
    r = bench("pool", "index", "--no-progress")
    assert r.exit_code == 0, r.output
    from samplebench.aggregators import kendall_tau
    from samplebench.pool import Pool

    pool = Pool(ResultStore())
    res = pool.query("cooking recipes", top_k=30)
    assert len(res.samples) == 30 and res.measured_samples == 30
    texts = " ".join(s.snippet.lower() for s in res.samples[:10])
    assert sum(w in texts for w in ("recipe", "cook", "dish", "bake", "food")) >= 3
    assert len(res.ranking["models"]) == 52 and -1 <= res.tau_vs_global <= 1
    koala = pool.search("cooking recipes", top_k=5, where={"dataset": "koala"})
    assert all(s.metadata["dataset"] == "koala" for s in koala) and len(koala) == 5
    # the whole-pool PL ranking agrees with the official leaderboard's win rates
    import csv

    with open(d / "alpaca-eval-1_official_leaderboard.csv", encoding="utf-8") as fh:
        board = {r["model"]: float(r["win_rate"]) for r in csv.DictReader(fh)}
    glob = pool.global_ranking()
    from samplebench.aggregators import RankedModel, Ranking

    official = Ranking(method="official", models=[
        RankedModel(model=m, score=s, rank=1 + sum(v > s for v in board.values())) for m, s in board.items()])
    assert kendall_tau(glob, official) > 0.85
    assert pq.read_table(next((ResultStore().root / "cards").glob("*.parquet"))).num_rows == 805


def test_capability_selection_for_the_selection_layer(pool_store, bench):
    from samplebench.pool.capabilities import capability_selection

    bench("query", "sql customers", "--top-k", "3", "--save", "sql-skills")
    assert {t: sorted(v) for t, v in capability_selection(pool_store, capability="sql-skills").items()} == {
        "toy": ["sql0", "sql1", "sql2"]}
    by_query = capability_selection(pool_store, query={"text": "python", "top_k": 3})
    assert sorted(by_query["toy"]) == ["code0", "code1", "code2"]
    with pytest.raises(SampleBenchError, match="unknown field"):
        capability_selection(pool_store, query={"text": "python", "k": 3})
    with pytest.raises(SampleBenchError, match="no capability named"):
        capability_selection(pool_store, capability="nope")


def test_aggregate_capability_ranks_exactly_the_saved_samples(pool_store, bench):
    """`bench aggregate --capability NAME` reads only the capability's samples (selection's
    sample_ids hook) and ranks them as the query itself did."""
    from samplebench.pool import Pool, load_capability

    bench("query", "sql customers", "--top-k", "3", "--save", "sql-skills")
    r = bench("aggregate", "--capability", "sql-skills", "--json")
    assert r.exit_code == 0, r.output
    got = json.loads(r.output)
    cap = load_capability(pool_store, "sql-skills")
    want = Pool(pool_store).rank(cap.sample_keys())[0]
    assert [m["model"] for m in got["models"]] == [m["model"] for m in want["models"]]
    assert {m["n_samples"] for m in got["models"]} <= {len(cap.samples)}
    whole = json.loads(bench("aggregate", "--json").output)
    assert max(m["n_samples"] for m in whole["models"]) > len(cap.samples)
    assert "no capability named" in _one_error(bench("aggregate", "--capability", "nope"))


# -- leaderboards from a capability or a query (real data: AlpacaEval 1.0) ------------------------
@pytest.fixture(scope="module")
def alpaca_store(tmp_path_factory):
    """AlpacaEval 1.0 measurements and cards imported and indexed with the real MiniLM, once per
    module; each test works on a copy (`alpaca`)."""
    from click.testing import CliRunner

    from samplebench.cli import cli

    d = SHARED_ALPACA
    if not d.is_dir():
        pytest.skip(f"real data folder {d} is absent")
    root = tmp_path_factory.mktemp("alpaca")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SAMPLEBENCH_HOME", str(root / "home"))
        mp.setenv("HF_HUB_OFFLINE", "1")
        run = CliRunner()
        store = root / "store"
        for args in (["results", "import", "--format", "parquet", d / "alpaca-eval-1_measurements.parquet"],
                     ["results", "import", "--format", "samples", d / "alpaca-eval-1_samples.jsonl"],
                     ["pool", "index", "--no-progress"]):
            r = run.invoke(cli, [*map(str, args), "--store", str(store)], catch_exceptions=False)
            assert r.exit_code == 0, r.output
    return store


@pytest.fixture
def alpaca(alpaca_store, tmp_path, home):
    import shutil

    store = tmp_path / "store"
    shutil.copytree(alpaca_store, store)
    return store


def _spec(path: Path, selection: str) -> Path:
    path.write_text(f"name: cap-board\ntitle: Capability board\nselection: {selection}\n"
                    "aggregator: plackett-luce\n", encoding="utf-8")
    return path


def test_leaderboard_from_a_saved_capability(alpaca, bench, tmp_path):
    """`selection: {capability: NAME}` ranks exactly the capability's samples, as `bench aggregate
    --capability` and the query itself do, and the card records the query, index and count."""
    from samplebench.pool import Pool, load_capability

    s = ("--store", alpaca)
    r = bench("query", "cooking recipes", "--top-k", "40", "--save", "cooking", *s)
    assert r.exit_code == 0, r.output
    cap = load_capability(alpaca, "cooking")
    r = bench("leaderboard", "build", _spec(tmp_path / "b.yaml", "{capability: cooking}"), "--out", tmp_path / "out", *s)
    assert r.exit_code == 0, r.output
    doc = json.loads((tmp_path / "out" / "leaderboard.json").read_text())
    assert doc["n_samples_selected"] == 40 and len(doc["rows"]) == 52
    used = pq.read_table(tmp_path / "out" / "samples" / "alpaca-eval-1.parquet")
    assert set(used["sample_id"].to_pylist()) == {sid for _, sid in cap.sample_keys()}
    card = (tmp_path / "out" / "README.md").read_text()
    assert "capability 'cooking'" in card and "'cooking recipes'" in card and cap.index_version in card
    assert "40 samples selected" in card
    agg = json.loads(bench("aggregate", "--capability", "cooking", "--json", *s).output)
    by_model = {m["model"]: m["score"] for m in agg["models"]}
    assert {x["model"]: x["score"] for x in doc["rows"]} == pytest.approx(by_model, abs=1e-9)
    query = Pool(alpaca).rank(cap.sample_keys())[0]
    assert [m["model"] for m in query["models"]] == [x["model"] for x in doc["rows"]]


def test_leaderboard_from_a_query_is_reproducible(alpaca, bench, tmp_path):
    from samplebench.pool import Pool

    spec = _spec(tmp_path / "q.yaml", "{query: {text: write a poem, top_k: 25, where: {dataset: vicuna}}}")
    for out in ("a", "b"):
        r = bench("leaderboard", "build", spec, "--out", tmp_path / out, "--store", alpaca)
        assert r.exit_code == 0, r.output
    for f in ("leaderboard.json", "README.md", "index.html", "leaderboard.parquet"):
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes(), f
    doc = json.loads((tmp_path / "a" / "leaderboard.json").read_text())
    want = Pool(alpaca).search("write a poem", top_k=25, where={"dataset": "vicuna"})
    assert doc["n_samples_selected"] == len(want) == 25
    card = (tmp_path / "a" / "README.md").read_text()
    assert "the capability query 'write a poem' (top_k 25" in card and Pool(alpaca).version in card
    assert "25 samples selected" in card and "where {'dataset': 'vicuna'}" in card


def test_leaderboard_pool_selection_errors(alpaca, bench, tmp_path):
    s = ("--store", alpaca)
    bad = _spec(tmp_path / "bad.yaml", "{capability: nope}")
    line = _one_error(bench("leaderboard", "build", bad, "--out", tmp_path / "o", *s))
    assert "selection.capability: no capability named 'nope'" in line
    both = _spec(tmp_path / "both.yaml", "{capability: x, query: {text: poems}}")
    assert "capability or query" in _one_error(bench("leaderboard", "build", both, "--out", tmp_path / "o", *s))
    empty = _spec(tmp_path / "empty.yaml", "{query: {text: '  '}}")
    assert "query text is empty" in _one_error(bench("leaderboard", "build", empty, "--out", tmp_path / "o", *s))
    typo = _spec(tmp_path / "typo.yaml", "{query: {text: poems, k: 3}}")
    assert "k" in _one_error(bench("leaderboard", "build", typo, "--out", tmp_path / "o", *s))
    wrong_task = _spec(tmp_path / "wt.yaml", "{tasks: [other], query: {text: poems}}")
    assert "none of them holds a sample" in _one_error(bench("leaderboard", "build", wrong_task, "--out",
                                                             tmp_path / "o", *s))
    # a store with measurements but no pool index
    bare = tmp_path / "bare"
    assert bench("results", "import", "--format", "parquet", SHARED_ALPACA / "alpaca-eval-1_measurements.parquet",
                 "--store", bare).exit_code == 0
    q = _spec(tmp_path / "q.yaml", "{query: {text: poems}}")
    line = _one_error(bench("leaderboard", "build", q, "--out", tmp_path / "o", "--store", bare))
    assert "selection.query" in line and "no pool index yet" in line
    assert not (tmp_path / "o").exists()


def test_capability_without_measurements_is_one_line_exit_2(bench, tmp_path):
    """A capability whose samples have no measurements: `bench aggregate --capability` and a
    leaderboard built from it say so in one line and exit 2."""
    bench("results", "import", "--format", "samples", _cards(tmp_path / "cards.jsonl"))
    _measurements(ResultStore(), skip=("sql0", "sql1", "sql2"))
    bench("pool", "index", "--embedder", ENCODER, "--no-progress")
    assert bench("query", "sql customers", "--top-k", "3", "--where", "dataset=sql", "--save", "unmeasured").exit_code == 0
    line = _one_error(bench("aggregate", "--capability", "unmeasured"))
    assert "measurement" in line
    spec = _spec(tmp_path / "u.yaml", "{capability: unmeasured}")
    line = _one_error(bench("leaderboard", "build", spec, "--out", tmp_path / "o"))
    assert "matches no measurement" in line
