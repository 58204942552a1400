"""A tiny deterministic text encoder for pool tests: hashed bag of lower-cased words (512 dims).

Registered as `callable:pool_encoder:encode`; texts sharing words get similar vectors.
"""

from __future__ import annotations

import hashlib
import re

import numpy as np


def encode(texts: list[str]) -> np.ndarray:
    out = np.zeros((len(texts), 512), np.float32)
    for i, text in enumerate(texts):
        for word in re.findall(r"[a-z]+", text.lower()):
            out[i, int(hashlib.md5(word.encode()).hexdigest(), 16) % 512] += 1.0
    out[:, 0] += 0.01  # no all-zero vector
    return out
