"""When the compiled kernels (`kernels.py`, numba) run, and the lock they run under.

The kernels cost a fixed start-up once per process: importing numba and loading the compiled
code from numba's on-disk cache, ~1 s (on the first run after an install they are compiled
first, ~20 s, and `call` says so on stderr). They save ~0.2 µs per measurement and fit (2M
measurements: 0.1 s instead of 0.55 s for ballots + a Plackett-Luce fit), so in the fresh
process a user's `bench aggregate` runs in they pay off from a few million measurements on:
they run from `MIN_MEASUREMENTS` (4M; at 2M a whole `bench aggregate --input` took 2.7-3.8 s
on the numpy paths against 4.2-7.2 s with the kernels, alternating runs on a loaded 2-core
machine); smaller
evidence takes the numpy paths, which compute the same quantities: the same ballots exactly,
likelihoods within ~1e-12 (tests/test_kernels.py). Where strengths spread over tens of
log-units the kernels are the more accurate ones (they sum within each ballot; the numpy pass
differences one global cumulative sum), and a small fit whose strengths spread that far
switches to the kernel pass (`plackett_luce.Objective._numpy_imprecise`). Both rules depend
only on the input and the iterate, so a given input always takes the same path.
"""

from __future__ import annotations

import sys
import threading

MIN_MEASUREMENTS = 4_000_000
_LOCK = threading.Lock()
_ANNOUNCED = False


def wanted(n_measurements: int) -> bool:
    return n_measurements >= MIN_MEASUREMENTS


def call(name: str, *args):
    """Run kernel `name` under a process-wide lock. Each kernel already uses every core, and
    numba's fallback threading layer (workqueue, where neither OpenMP nor TBB is present) aborts
    the process when two Python threads enter parallel code at once (bootstrap with n_jobs > 1)."""
    from . import kernels

    kernel = getattr(kernels, name)
    with _LOCK:
        _announce_compilation(kernel)
        return kernel(*args)


def _announce_compilation(kernel) -> None:
    """Say once per process, on stderr, when a kernel is about to be compiled: it has no compiled
    copy in this process nor a valid one in numba's on-disk cache (the first run after an install,
    or after the kernels changed). Reads numba's cache index; if that ever fails, says nothing."""
    global _ANNOUNCED
    if _ANNOUNCED or kernel.signatures:
        return
    try:
        cached = bool(kernel._cache._cache_file._load_index())
    except Exception:  # a numba version with another cache layout: no message rather than a wrong one
        return
    if not cached:
        _ANNOUNCED = True
        print("compiling kernels, once per install, ~20 s", file=sys.stderr, flush=True)
