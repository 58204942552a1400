"""`--verify JUDGE`: a judge model checks that each retrieved sample really tests the capability.

The judge is any registered generative model (`generate`), e.g. `openai:MODEL@URL` for an
OpenAI-compatible endpoint or `hf-causal:FOLDER`. For each sample it is asked, once and
deterministically (the adapter's temperature), the question in `PROMPT`; a sample is kept when
the answer's first word is "yes". The verdicts are reported with the samples, so a rejected
sample is visible, not silently gone.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..errors import SampleBenchError

PROMPT = (
    "You review the samples of a benchmark.\n"
    "Capability: {capability}\n\n"
    "Sample:\n{text}\n\n"
    "Does this sample test that capability? Answer with one word: yes or no."
)
_FIRST_WORD = re.compile(r"[a-z]+")


def load_judge(name: str):
    from ..runners.models import load_model

    judge = load_model(name)
    if not hasattr(judge, "generate"):
        raise SampleBenchError(f"judge '{name}' cannot generate text",
                               hint="use a generative model, e.g. openai:MODEL@URL or hf-causal:FOLDER")
    return judge


def judge_samples(judge, capability: str, texts: Sequence[str]) -> list[bool]:
    """True for each text the judge says tests `capability`."""
    prompts = [PROMPT.format(capability=capability, text=t) for t in texts]
    answers = judge.generate(prompts, max_new_tokens=4, n=1)
    out = []
    for a in answers:
        words = _FIRST_WORD.findall((a[0] if a else "").lower())
        out.append(bool(words) and words[0] == "yes")
    return out
