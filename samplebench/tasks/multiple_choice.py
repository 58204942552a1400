"""`multiple_choice`: pick the answer whose continuation the language model finds most likely.

For each question the model scores every choice as `loglikelihood(context, " " + choice)` with
context = "[<context>\\n]Question: <question>\\nAnswer:". Per-sample metrics:

* `accuracy` = 1 if argmax_c log p(c | context) is the gold choice, else 0;
* `accuracy_norm` = the same with log p divided by the choice's length in characters (lm-eval's
  `acc_norm`), which removes the bias towards short answers.

`answer` is the index of the gold choice, or its text. The chosen choice index is kept in `prediction`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import SampleBenchError
from ._data import load_split, require_columns, row_ids
from .base import Evaluator, SampleResult, register_evaluator


@dataclass
class MCData:
    ids: list[str]
    contexts: list[str]
    choices: list[list[str]]
    answers: list[int]


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:300]}" if text else type(exc).__name__


@register_evaluator
class MultipleChoiceEvaluator(Evaluator):
    type = "multiple_choice"
    known_metrics = ("accuracy", "accuracy_norm")
    options_defaults = {"eval_split": "test", "chunk": 64}

    def load(self) -> MCData:
        split = load_split(self.spec, self.option("eval_split"))
        c = require_columns(self.spec, split, ["question", "choices", "answer", "context"])
        ids = row_ids(self.spec, split)
        ctx = split[c["context"]] if "context" in c else [None] * len(split)
        contexts, choices, answers = [], [], []
        for i, (q, ch, a, x) in enumerate(zip(split[c["question"]], split[c["choices"]], split[c["answer"]], ctx, strict=True)):
            ch = [str(v) for v in (ch if isinstance(ch, list) else str(ch).split("|"))]
            if isinstance(a, str) and not a.strip().lstrip("-").isdigit():
                if a not in ch:
                    raise SampleBenchError(f"task '{self.spec.name}': sample {ids[i]}: answer '{a}' is not a choice")
                a = ch.index(a)
            a = int(a)
            if not 0 <= a < len(ch):
                raise SampleBenchError(f"task '{self.spec.name}': sample {ids[i]}: answer index {a} out of range")
            contexts.append((f"{x}\n" if x else "") + f"Question: {q}\nAnswer:")
            choices.append(ch)
            answers.append(a)
        return MCData(ids, contexts, choices, answers)

    def sample_ids(self, data: MCData) -> list[str]:
        return data.ids

    def restrict(self, data: MCData, sample_ids: Sequence[str]) -> MCData:
        keep = set(sample_ids)
        r = [i for i, s in enumerate(data.ids) if s in keep]
        return MCData([data.ids[i] for i in r], [data.contexts[i] for i in r], [data.choices[i] for i in r],
                      [data.answers[i] for i in r])

    def evaluate(self, model: Any, data: MCData, sample_ids: Iterable[str] | None = None) -> Iterator[SampleResult]:
        wanted = None if sample_ids is None else set(sample_ids)
        rows = [i for i, s in enumerate(data.ids) if wanted is None or s in wanted]
        chunk = int(self.option("chunk"))
        accs, norms = [], []
        for start in range(0, len(rows), chunk):
            part = rows[start:start + chunk]
            reqs = [(data.contexts[i], " " + c) for i in part for c in data.choices[i]]
            try:
                scores = [float(v) for v in model.loglikelihood(reqs)]
                errors: dict[int, str] = {}
            except Exception as exc:  # noqa: BLE001 - retry sample by sample to isolate the failure
                if getattr(exc, "retry_items", True) is False:
                    errors = {i: _short(exc) for i in part}
                    scores = []
                else:
                    scores, errors = self._one_by_one(model, data, part)
            k = 0
            for i in part:
                n = len(data.choices[i])
                if i in errors:
                    for m in self.metric_names:
                        yield SampleResult(data.ids[i], m, None, error=errors[i])
                    k += n if scores else 0
                    continue
                s = np.asarray(scores[k:k + n])
                k += n
                if not np.isfinite(s).all():
                    for m in self.metric_names:
                        yield SampleResult(data.ids[i], m, None, error="non-finite log-likelihood")
                    continue
                pick = int(np.argmax(s))
                pick_norm = int(np.argmax(s / np.array([max(len(c), 1) for c in data.choices[i]])))
                acc, norm = float(pick == data.answers[i]), float(pick_norm == data.answers[i])
                accs.append(acc)
                norms.append(norm)
                if "accuracy" in self.metric_names:
                    yield SampleResult(data.ids[i], "accuracy", acc, prediction=str(pick))
                if "accuracy_norm" in self.metric_names:
                    yield SampleResult(data.ids[i], "accuracy_norm", norm, prediction=str(pick_norm))
        self.task_scores = {"accuracy": float(np.mean(accs)), "accuracy_norm": float(np.mean(norms))} if accs else {}

    def _one_by_one(self, model: Any, data: MCData, part: list[int]) -> tuple[list[float], dict[int, str]]:
        scores: list[float] = []
        errors: dict[int, str] = {}
        for i in part:
            try:
                scores.extend(float(v) for v in model.loglikelihood([(data.contexts[i], " " + c) for c in data.choices[i]]))
            except Exception as exc:  # noqa: BLE001
                errors[i] = _short(exc)
                scores.extend([float("nan")] * len(data.choices[i]))
        return scores, errors
