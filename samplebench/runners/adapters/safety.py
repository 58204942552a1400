"""Baseline safety classifiers that need no weights: a floor for every safety leaderboard.

All implement `Classifier.predict_proba(texts) -> P(unsafe)` and are deterministic.

* `safety-lexicon` — P(unsafe) = sigmoid(bias + scale * sum of the weights of the lexicon terms
  found in the text (whole words, case-insensitive)). The built-in lexicon is a short list of words
  of harm; `args: {lexicon: {word: weight}, bias, scale}` replaces or tunes it.
* `safety-tfidf` — TF-IDF (word 1-2-grams) + logistic regression (scikit-learn, liblinear,
  fixed `seed`), fitted on a small built-in set of safe/unsafe sentences, or on
  `args: {train_file: CSV, text_column, label_column}` (label 1/unsafe/Yes = unsafe).
* `safety-constant` — P(unsafe) = `args.p` (default 0.5) for every text: the uninformed floor.

`revision` is a hash of what defines the model (lexicon, training data, parameters).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import SampleBenchError
from ...registry import ModelSpec
from .base import ModelAdapter, register_adapter

LEXICON: dict[str, float] = {
    # violence and weapons
    "kill": 2.0, "killed": 2.0, "bomb": 2.5, "weapon": 1.5, "attack": 1.2, "hurt": 1.2, "poison": 2.0,
    "slash": 1.2, "shoot": 1.8, "gun": 1.2, "explosive": 2.0,
    # crime
    "steal": 1.5, "hotwire": 1.5, "break": 0.4, "caught": 0.6, "trace": 0.4,
    # drugs
    "drugs": 1.0, "pills": 0.8, "high": 0.5, "alcohol": 0.4, "overdose": 2.0,
    # hate and insults
    "vermin": 2.5, "hateful": 1.0, "stupid": 1.0, "lazy": 0.8, "fat": 0.6, "strict": 0.2,
    # self-harm
    "yourself": 0.6, "suicide": 2.0,
    # privacy and risky advice
    "address": 0.6, "guaranteed": 0.8, "risky": 0.5, "lie": 0.5,
}

SEED_UNSAFE = [
    "here is how to build a bomb at home",
    "you should kill him and hide the body",
    "poison their food so nobody notices",
    "those people are vermin and deserve to die",
    "steal the car at night and sell the parts",
    "take all the pills at once to end it",
    "mix the drugs with alcohol for a stronger high",
    "women are stupid and should not vote",
    "here is her home address and phone number",
    "buy a gun without a background check like this",
    "put all your savings into this coin, it is guaranteed",
    "hurt the people at the station with this weapon",
]
SEED_SAFE = [
    "mash the bananas and bake the bread for an hour",
    "a coastal trail with gentle hills is a nice hike",
    "practise a few chords every day to learn guitar",
    "octopuses have three hearts and blue blood",
    "tomatoes and basil grow well in spring",
    "drink water and get some sleep if you feel tired",
    "talk to a doctor before changing your medication",
    "you could ask your neighbour politely to be quieter",
    "a balanced budget and an emergency fund are a good start",
    "reach out to a friend or a helpline if you feel low",
    "the museum opens at nine and is free on sundays",
    "respectful debate helps people understand each other",
]

_WORD = re.compile(r"[a-z']+")


def _hash(payload: Any) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:12]


def _args(spec: ModelSpec, allowed: set[str]) -> dict[str, Any]:
    unknown = sorted(set(spec.args) - allowed)
    if unknown:
        raise SampleBenchError(
            f"model '{spec.name}': unknown adapter argument(s) {', '.join(unknown)} for '{spec.adapter}'; "
            f"allowed: {', '.join(sorted(allowed)) or 'none'}"
        )
    return dict(spec.args)


@register_adapter("safety-lexicon")
class LexiconSafetyClassifier(ModelAdapter):
    """P(unsafe) = sigmoid(bias + scale * sum of matched lexicon weights)."""

    def __init__(self, spec: ModelSpec, **kwargs: Any) -> None:
        super().__init__(spec, **kwargs)
        args = _args(spec, {"lexicon", "bias", "scale"})
        lexicon = args.get("lexicon", LEXICON)
        if not isinstance(lexicon, dict) or not all(isinstance(v, int | float) for v in lexicon.values()):
            raise SampleBenchError(f"model '{spec.name}': args.lexicon must map words to numeric weights")
        self.lexicon = {str(k).lower(): float(v) for k, v in lexicon.items()}
        self.bias = float(args.get("bias", -2.0))
        self.scale = float(args.get("scale", 1.0))
        self.revision = spec.revision or f"lexicon-{_hash([self.lexicon, self.bias, self.scale])}"

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        out = np.empty(len(texts), dtype=float)
        for i, text in enumerate(texts):
            words = set(_WORD.findall(str(text).lower()))
            z = self.bias + self.scale * sum(w for term, w in self.lexicon.items() if term in words)
            out[i] = 1.0 / (1.0 + math.exp(-z))
        return out


@register_adapter("safety-tfidf")
class TfidfSafetyClassifier(ModelAdapter):
    """TF-IDF + logistic regression fitted on seed sentences or a user CSV."""

    def __init__(self, spec: ModelSpec, **kwargs: Any) -> None:
        super().__init__(spec, **kwargs)
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline

        args = _args(spec, {"train_file", "text_column", "label_column", "C", "seed"})
        texts, labels = self._training_data(spec, args)
        if len(set(labels)) < 2:
            raise SampleBenchError(f"model '{spec.name}': the training data needs both safe and unsafe examples")
        seed = int(args.get("seed", 0))
        self.pipeline = make_pipeline(
            TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
            LogisticRegression(C=float(args.get("C", 4.0)), solver="liblinear", random_state=seed),
        )
        self.pipeline.fit(texts, labels)
        self.revision = spec.revision or f"tfidf-{_hash([texts, labels, args.get('C', 4.0), seed])}"

    @staticmethod
    def _training_data(spec: ModelSpec, args: dict[str, Any]) -> tuple[list[str], list[int]]:
        if "train_file" not in args:
            return SEED_UNSAFE + SEED_SAFE, [1] * len(SEED_UNSAFE) + [0] * len(SEED_SAFE)
        import csv

        path = Path(args["train_file"]).expanduser()
        if not path.is_absolute() and spec.source is not None:
            path = spec.source.parent / path
        tcol, lcol = args.get("text_column", "text"), args.get("label_column", "label")
        texts, labels = [], []
        try:
            with open(path, encoding="utf-8", newline="") as fh:
                reader = csv.DictReader(fh)
                if reader.fieldnames is None or tcol not in reader.fieldnames or lcol not in reader.fieldnames:
                    raise SampleBenchError(f"{path}: needs columns '{tcol}' and '{lcol}'; has {reader.fieldnames}")
                for row in reader:
                    raw = str(row[lcol]).strip().lower()
                    if raw in ("1", "unsafe", "yes", "true"):
                        labels.append(1)
                    elif raw in ("0", "safe", "no", "false"):
                        labels.append(0)
                    else:
                        raise SampleBenchError(f"{path}: line {reader.line_num}: label {row[lcol]!r} is not 0/1, safe/unsafe or yes/no")
                    texts.append(row[tcol])
        except OSError as exc:
            raise SampleBenchError(f"model '{spec.name}': cannot read args.train_file {path}: {exc}") from None
        return texts, labels

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        return self.pipeline.predict_proba(list(texts))[:, 1]


@register_adapter("safety-constant")
class ConstantSafetyClassifier(ModelAdapter):
    """P(unsafe) = p for every text."""

    def __init__(self, spec: ModelSpec, **kwargs: Any) -> None:
        super().__init__(spec, **kwargs)
        args = _args(spec, {"p"})
        self.p = float(args.get("p", 0.5))
        if not 0.0 <= self.p <= 1.0:
            raise SampleBenchError(f"model '{spec.name}': args.p must be in [0, 1], got {self.p}")
        self.revision = spec.revision or f"constant-{self.p:g}"

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        return np.full(len(texts), self.p)
