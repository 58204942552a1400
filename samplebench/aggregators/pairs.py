"""Rank-breaking: ballots -> pairwise counts, vectorised and chunked.

For every ballot, every pair of its members is one comparison: `i` above `j` when `i`'s level is
better, a tie when the levels are equal. `pair_counts` sums them into two dense matrices

    above[i, j] = number of ballots (plus explicit judgements) where i beat j
    tied[i, j]  = number where i and j tied (symmetric)

which are the sufficient statistics of Bradley-Terry and of every pairwise social-choice rule.
Pairs are generated in chunks of at most `chunk` pairs, so memory stays bounded however many
members a ballot has.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from .evidence import Evidence


def _ballot_chunks(ev: Evidence, chunk: int) -> Iterator[tuple[int, int]]:
    sizes = ev.sizes()
    pairs = sizes * (sizes - 1) // 2
    cum = np.cumsum(pairs)
    start, done = 0, 0
    n = ev.n_samples
    while start < n:
        stop = int(np.searchsorted(cum, done + chunk, side="right"))
        stop = max(stop, start + 1)
        stop = min(stop, n)
        yield start, stop
        done = int(cum[stop - 1])
        start = stop


def iter_pairs(ev: Evidence, chunk: int = 4_000_000) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """Yield `(i, j, strict, ballot)`: member models `i` (better or equal level) and `j`, whether
    `i` is strictly above `j`, and the ballot index, for all within-ballot pairs."""
    offs = ev.offsets
    for s0, s1 in _ballot_chunks(ev, chunk):
        lo, hi = int(offs[s0]), int(offs[s1])
        if hi - lo < 2:
            continue
        pos = np.arange(lo, hi, dtype=np.int64)
        sizes = np.diff(offs[s0 : s1 + 1])
        ends = np.repeat(offs[s0 + 1 : s1 + 1], sizes)
        cnt = ends - 1 - pos
        total = int(cnt.sum())
        if total == 0:
            continue
        left = np.repeat(pos, cnt)
        starts = np.cumsum(cnt) - cnt
        right = left + 1 + (np.arange(total, dtype=np.int64) - np.repeat(starts, cnt))
        ballot = np.repeat(np.repeat(np.arange(s0, s1, dtype=np.int64), sizes), cnt)
        strict = ev.member_level[left] < ev.member_level[right]
        yield ev.member_model[left], ev.member_model[right], strict, ballot


def pair_counts(ev: Evidence, *, include_pairs: bool = True, chunk: int = 4_000_000) -> tuple[np.ndarray, np.ndarray]:
    """Dense `(above, tied)` matrices (n_models x n_models) from ballots and explicit judgements."""
    n = ev.n_models
    above = np.zeros(n * n, np.float64)
    tied = np.zeros(n * n, np.float64)
    for i, j, strict, _ in iter_pairs(ev, chunk):
        above += np.bincount(i[strict] * n + j[strict], minlength=n * n)
        t = ~strict
        tied += np.bincount(i[t] * n + j[t], minlength=n * n)
    above = above.reshape(n, n)
    tied = tied.reshape(n, n)
    tied = tied + tied.T
    if include_pairs and ev.n_pairs:
        a, b, o = ev.pair_a.astype(np.int64), ev.pair_b.astype(np.int64), ev.pair_outcome
        np.add.at(above, (a[o == 1.0], b[o == 1.0]), 1.0)
        np.add.at(above, (b[o == 0.0], a[o == 0.0]), 1.0)
        ti = o == 0.5
        np.add.at(tied, (a[ti], b[ti]), 1.0)
        np.add.at(tied, (b[ti], a[ti]), 1.0)
    return above, tied


def pair_list(ev: Evidence, *, include_pairs: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All comparisons as `(a, b, outcome)` rows (outcome 1 = a won, 0.5 = tie) for online methods."""
    parts_a, parts_b, parts_o = [], [], []
    for i, j, strict, _ in iter_pairs(ev):
        parts_a.append(i)
        parts_b.append(j)
        parts_o.append(np.where(strict, 1.0, 0.5))
    if include_pairs and ev.n_pairs:
        parts_a.append(ev.pair_a)
        parts_b.append(ev.pair_b)
        parts_o.append(ev.pair_outcome)
    if not parts_a:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    return (np.concatenate(parts_a).astype(np.int64), np.concatenate(parts_b).astype(np.int64),
            np.concatenate(parts_o))
