"""`generation`: free-form answers compared with a reference.

Per-sample metrics (SQuAD-style normalisation: lower case, no punctuation or articles, single spaces):

* `exact_match` = 1 if the normalised first generation equals the normalised reference;
* `token_f1` = F1 of the bag of normalised tokens of generation and reference;
* `contains` = 1 if the normalised reference appears in the normalised generation.

Generations without a reference column record only `length` (characters of the generation).
The (first) generation is kept in `prediction`.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._data import load_split, require_columns, row_ids
from .base import Evaluator, SampleResult, register_evaluator

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = str.maketrans("", "", string.punctuation)


def normalise(text: str) -> str:
    return " ".join(_ARTICLES.sub(" ", text.lower().translate(_PUNCT)).split())


def token_f1(prediction: str, reference: str) -> float:
    p, r = normalise(prediction).split(), normalise(reference).split()
    if not p or not r:
        return float(p == r)
    common = sum((Counter(p) & Counter(r)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(p), common / len(r)
    return 2 * precision * recall / (precision + recall)


@dataclass
class GenerationData:
    ids: list[str]
    prompts: list[str]
    references: list[str] | None


@register_evaluator
class GenerationEvaluator(Evaluator):
    type = "generation"
    known_metrics = ("exact_match", "token_f1", "contains", "length")
    options_defaults = {"eval_split": "test", "max_new_tokens": 32, "chunk": 32, "stop": None}

    def load(self) -> GenerationData:
        split = load_split(self.spec, self.option("eval_split"))
        c = require_columns(self.spec, split, ["prompt", "reference"])
        refs = [str(v) for v in split[c["reference"]]] if "reference" in c else None
        return GenerationData(row_ids(self.spec, split), [str(p) for p in split[c["prompt"]]], refs)

    def sample_ids(self, data: GenerationData) -> list[str]:
        return data.ids

    def restrict(self, data: GenerationData, sample_ids: Sequence[str]) -> GenerationData:
        keep = set(sample_ids)
        r = [i for i, s in enumerate(data.ids) if s in keep]
        return GenerationData([data.ids[i] for i in r], [data.prompts[i] for i in r],
                              None if data.references is None else [data.references[i] for i in r])

    def _score(self, text: str, ref: str | None) -> dict[str, float]:
        out = {"length": float(len(text))}
        if ref is not None:
            out["exact_match"] = float(normalise(text) == normalise(ref))
            out["token_f1"] = token_f1(text, ref)
            out["contains"] = float(normalise(ref) in normalise(text))
        return out

    def evaluate(self, model: Any, data: GenerationData, sample_ids: Iterable[str] | None = None) -> Iterator[SampleResult]:
        wanted = None if sample_ids is None else set(sample_ids)
        rows = [i for i, s in enumerate(data.ids) if wanted is None or s in wanted]
        chunk, max_new = int(self.option("chunk")), int(self.option("max_new_tokens"))
        stop = self.option("stop")
        collected: dict[str, list[float]] = {}
        for start in range(0, len(rows), chunk):
            part = rows[start:start + chunk]
            outs: dict[int, str] = {}
            errors: dict[int, str] = {}
            try:
                gens = model.generate([data.prompts[i] for i in part], max_new_tokens=max_new, n=1)
                outs = {i: (g[0] if g else "") for i, g in zip(part, gens, strict=True)}
            except Exception as exc:  # noqa: BLE001 - retry one by one to isolate the failure
                for i in part:
                    if getattr(exc, "retry_items", True) is False:
                        errors[i] = f"{type(exc).__name__}: {str(exc)[:300]}"
                        continue
                    try:
                        g = model.generate([data.prompts[i]], max_new_tokens=max_new, n=1)[0]
                        outs[i] = g[0] if g else ""
                    except Exception as exc2:  # noqa: BLE001
                        errors[i] = f"{type(exc2).__name__}: {str(exc2)[:300]}"
            for i in part:
                if i in errors:
                    for m in self.metric_names:
                        yield SampleResult(data.ids[i], m, None, error=errors[i])
                    continue
                text = outs[i]
                if stop:
                    text = text.split(stop)[0]
                scores = self._score(text, None if data.references is None else data.references[i])
                for m in self.metric_names:
                    if m in scores:
                        collected.setdefault(m, []).append(scores[m])
                        yield SampleResult(data.ids[i], m, scores[m], prediction=text[:500])
                    else:
                        yield SampleResult(data.ids[i], m, None, error="no reference column for this metric")
        self.task_scores = {m: float(np.mean(v)) for m, v in collected.items()}
