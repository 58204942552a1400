"""transformers causal-LM adapter on a tiny randomly initialised model built here (no download)."""

from __future__ import annotations

import json

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from samplebench.registry import ModelSpec  # noqa: E402
from samplebench.registry.registry import BUILTIN_DIR  # noqa: E402
from samplebench.results import ResultStore  # noqa: E402
from samplebench.runners import evaluate, load_model  # noqa: E402


@pytest.fixture(scope="module")
def tiny_lm(tmp_path_factory):
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    folder = tmp_path_factory.mktemp("tiny-lm")
    lines = (BUILTIN_DIR / "data" / "bundled-arithmetic-mc" / "test.jsonl").read_text(encoding="utf-8").splitlines()
    corpus = [json.loads(line)["question"] for line in lines]
    corpus += ["Question: Answer:", " ".join(str(i) for i in range(300))]
    tk = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    tk.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Whitespace()])
    tk.train_from_iterator(corpus, trainers.WordLevelTrainer(special_tokens=["[PAD]", "[UNK]", "[BOS]", "[EOS]"]))
    tok = PreTrainedTokenizerFast(tokenizer_object=tk, bos_token="[BOS]", eos_token="[EOS]", pad_token="[PAD]",
                                  unk_token="[UNK]")
    tok.save_pretrained(folder)
    torch.manual_seed(0)
    cfg = GPT2Config(vocab_size=len(tok), n_positions=256, n_embd=32, n_layer=2, n_head=2,
                     bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)
    GPT2LMHeadModel(cfg).save_pretrained(folder)
    return folder


def _manual_loglik(folder, context: str, continuation: str) -> float:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder).eval()
    ctx = [tok.bos_token_id] + tok(context, add_special_tokens=False)["input_ids"]
    whole = [tok.bos_token_id] + tok(context + continuation, add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        logp = torch.log_softmax(model(torch.tensor([whole])).logits[0].float(), -1)
    return float(sum(logp[i - 1, whole[i]] for i in range(len(ctx), len(whole))))


def test_loglikelihood_matches_a_manual_forward_pass_alone_or_batched(tiny_lm):
    lm = load_model(f"hf-causal:{tiny_lm}")
    assert lm.revision.startswith("sha256:") and not lm.loaded
    reqs = [("Question: Anna has 3 apples and gets 4 more. How many apples does Anna have now?\nAnswer:", " 7"),
            ("Question:", " Anna has 3 apples"), ("Answer:", " 12 13 14")]
    batched = lm.loglikelihood(reqs)
    single = [lm.loglikelihood([r])[0] for r in reqs]
    for (c, x), b, s in zip(reqs, batched, single, strict=True):
        assert b == pytest.approx(_manual_loglik(tiny_lm, c, x), abs=1e-4)
        assert b == pytest.approx(s, abs=1e-4)
        assert b < 0


def test_generate_returns_n_strings_per_prompt(tiny_lm):
    lm = load_model(ModelSpec(name="tiny", adapter="transformers_causal_lm", args={"model": str(tiny_lm), "batch_size": 2}))
    out = lm.generate(["Question: Anna has", "Answer:", "Question: How many apples"], max_new_tokens=3)
    assert len(out) == 3 and all(len(o) == 1 and isinstance(o[0], str) for o in out)
    greedy_again = lm.generate(["Question: Anna has"], max_new_tokens=3)
    assert greedy_again[0] == out[0]
    sampled = lm.generate(["Answer:"], max_new_tokens=2, n=3)
    assert len(sampled[0]) == 3


def test_runner_multiple_choice_and_generation(tiny_lm, home, tmp_path):
    store = ResultStore(tmp_path / "store")
    rep = evaluate(f"hf-causal:{tiny_lm}", ["bundled-arithmetic-mc", "bundled-arithmetic-qa"], store=store, limit=8,
                   progress=False)
    assert rep.exit_code == 0, [t.error for t in rep.tasks]
    mc = store.scan(tasks=["bundled-arithmetic-mc"], columns=["sample_id", "metric", "value", "prediction"]).to_pylist()
    assert len(mc) == 16 and {r["metric"] for r in mc} == {"accuracy", "accuracy_norm"}
    assert all(r["value"] in (0.0, 1.0) and r["prediction"] in "0123" for r in mc)
    qa = store.scan(tasks=["bundled-arithmetic-qa"], columns=["metric", "value"]).to_pylist()
    assert len(qa) == 8 * 3 and all(0.0 <= r["value"] <= 1.0 for r in qa)
