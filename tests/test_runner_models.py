"""Naming models: registry, aliases, callables; `bench models list|show`."""

from __future__ import annotations

import numpy as np
import pytest

from samplebench.errors import SampleBenchError
from samplebench.results import ResultStore
from samplebench.runners import load_model, resolve_spec

MODULE = '''
import numpy as np

def embed(texts):
    return np.array([[len(t), t.count(" ") + 1.0, sum(map(ord, t)) % 97] for t in texts], dtype=float)

class Model:
    def __init__(self, scale=1.0):
        self.scale = scale

    def encode(self, texts, batch_size=32):
        return embed(texts) * self.scale

def make(scale=1.0):
    return Model(scale)

NOT_CALLABLE = 3
'''


@pytest.fixture
def user_module(tmp_path, monkeypatch):
    (tmp_path / "my_embedders.py").write_text(MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    return "my_embedders"


def test_resolution_order():
    assert resolve_spec("tfidf").name == "baseline/tfidf"
    assert resolve_spec("minilm").adapter == "sentence_transformers"
    assert resolve_spec("openai:text-embedding-3-small@http://127.0.0.1:9/v1").args == {
        "model": "text-embedding-3-small", "base_url": "http://127.0.0.1:9/v1"}
    assert resolve_spec("pkg.mod:fn").adapter == "callable"
    with pytest.raises(SampleBenchError, match="closest: baseline/bm25"):
        resolve_spec("baseline/bm2")


def test_callable_encoder_and_factory(user_module, home):
    enc = load_model(f"{user_module}:embed")
    np.testing.assert_array_equal(enc.encode(["a b"]), [[3, 2, (97 + 32 + 98) % 97]])
    from samplebench.registry import ModelSpec

    fac = load_model(ModelSpec(name="scaled", adapter="callable",
                               args={"target": f"{user_module}:make", "mode": "factory", "kwargs": {"scale": 2.0}}))
    np.testing.assert_array_equal(fac.encode(["a b"]), 2 * enc.encode(["a b"]))
    with pytest.raises(SampleBenchError, match="not callable"):
        load_model(f"{user_module}:NOT_CALLABLE")
    with pytest.raises(SampleBenchError, match="has no attribute"):
        load_model(f"{user_module}:missing")


def test_cli_evaluates_a_callable(user_module, bench, home):
    res = bench("evaluate", f"callable:{user_module}:embed", "--tasks", "bundled-sts", "--limit", "10", "--quiet")
    assert res.exit_code == 0, res.output
    assert ResultStore(home / "store").scan(models=[f"callable:{user_module}:embed"]).num_rows == 10


def test_cli_models_list_and_show(bench, home):
    res = bench("models", "list")
    assert res.exit_code == 0
    for name in ("sentence-transformers/all-MiniLM-L6-v2", "baseline/tfidf", "baseline/bm25", "baseline/random"):
        assert name in res.output
    assert "openai" in res.output and "transformers_causal_lm" in res.output
    show = bench("models", "show", "bm25")
    assert show.exit_code == 0 and "adapter: bm25" in show.output and "revision: bm25-v1-" in show.output
    assert bench("models", "show", "nope").exit_code == 2


@pytest.mark.parametrize(
    ("name", "adapter", "args"),
    [
        ("images:/data/run-1", "images", {"path": "/data/run-1"}),
        ("diffusers:./tiny-pipe", "diffusers", {"model": "./tiny-pipe"}),
        ("openai-images:dall-e-3@http://127.0.0.1:9/v1", "openai-images", {"model": "dall-e-3", "base_url": "http://127.0.0.1:9/v1"}),
        ("openai:emb@http://127.0.0.1:9/v1", "openai", {"model": "emb", "base_url": "http://127.0.0.1:9/v1"}),
        ("hf-causal:./lm", "transformers_causal_lm", {"model": "./lm"}),
    ],
)
def test_uri_names_resolve_without_a_registered_spec(home, name, adapter, args):
    from samplebench.runners.models import resolve_spec

    spec = resolve_spec(name)
    assert (spec.adapter, spec.args) == (adapter, args)


def test_builtin_safety_baselines_are_registered(home):
    from samplebench.registry import ModelRegistry

    names = ModelRegistry().names()
    assert {"baseline/safety-lexicon", "baseline/safety-tfidf", "baseline/safety-constant"} <= set(names)
