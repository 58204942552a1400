"""When the compiled kernels (`kernels.py`, numba) run, and the lock they run under.

The kernels cost a fixed start-up once per process: importing numba and loading the compiled
code from numba's on-disk cache, ~1 s (on the first run after an install they are compiled
first, ~20 s, and `call` says so on stderr). They save ~0.1 us per measurement and pass over the
numpy paths (ballots sorted in rows of one size, Plackett-Luce passes on `plackett_luce.Blocks`),
so in the fresh process a user's `bench aggregate` runs in they pay off only on large evidence:
they run from `MIN_MEASUREMENTS` (16M). Measured on a loaded 2-core machine, the whole
`bench aggregate --input` with the default intervals: 10M measurements 3.6-4.7 s on the numpy
paths against 4.1-9.6 s with the kernels, 20M 6.1-6.6 s against 6.2-6.3 s (and 2.4 GB against
1.6 GB peak); 2M 0.9 s against 2.1 s. Smaller evidence takes the numpy paths, which compute the
same quantities: the same ballots exactly, likelihoods within ~1e-12 (tests/test_kernels.py).
Strengths more than 30 log-units apart switch a small fit to the kernel pass, which handles
risk-set products beyond the floating-point range (`plackett_luce.Objective._far_apart`). Both
rules depend only on the input and the iterate, so a given input always takes the same path.
"""

from __future__ import annotations

import sys
import threading

MIN_MEASUREMENTS = 16_000_000
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
