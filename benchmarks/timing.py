"""Timing helper shared by the benchmarks that compare against a peer outside pytest-benchmark."""

from __future__ import annotations

import time
from collections.abc import Callable


def best_of(fn: Callable[[], object], rounds: int = 3) -> float:
    """The fastest of `rounds` wall-clock runs of `fn()`, in seconds (least disturbed by other load)."""
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best
