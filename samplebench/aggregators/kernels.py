"""Compiled inner loops (numba): building ballots, and the Plackett-Luce likelihood pass and
diagonal information.

Why compiled code here: both loops walk every measurement once per call, and their work per
ballot is tiny (a sort of ~20 values; a few cumulative sums over its levels). In numpy each
step is a separate full-length array operation — the ballot sort alone is a global sort or a
padded per-row sort, and one likelihood pass is ~15 full-length temporaries — so memory
traffic, not arithmetic, sets the time. Here each ballot is processed while it sits in cache:
at 2M measurements (100 models x 100,000 samples) one pass reading both directions takes ~6 ms
on 2 cores instead of ~65 ms, and the ballots are sorted by per-ballot insertion sorts.

Used only on large inputs (`compiled.py` says when and why). Determinism: work is split into
a number of chunks that depends only on the data (never on the thread count), each chunk
accumulates into its own row, and rows are summed in order, so the results are bit-identical
on 1 or 16 threads. Compiled functions are cached on disk (`cache=True`), so only the first
use after an install pays the compilation.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

_CHUNK_MEMBERS = 65_536  # target measurements per parallel chunk


@nb.njit(cache=True, inline="always")
def _chunking(offsets: np.ndarray, stride: int) -> tuple[int, int]:
    """(ballots read: every `stride`-th, parallel chunks of ~_CHUNK_MEMBERS measurements)."""
    n_ballots = (offsets.size - 1 + stride - 1) // stride
    return n_ballots, max(min(offsets[-1] // stride // _CHUNK_MEMBERS, n_ballots), 1)


@nb.njit(cache=True, inline="always")
def _ballot(offsets: np.ndarray, member_level: np.ndarray, b: int) -> tuple[int, int, int]:
    """(first member, end, number of levels) of ballot b; fewer than 2 levels: no choice in it."""
    lo = offsets[b]
    hi = offsets[b + 1]
    return lo, hi, (member_level[hi - 1] + 1 if hi - lo >= 2 else 1)


@nb.njit(cache=True, inline="always")
def _level_sums(lo: int, hi: int, nl: int, member_model: np.ndarray, member_level: np.ndarray, e: np.ndarray,
                e_rev: np.ndarray, ls: np.ndarray, lr: np.ndarray, ms: np.ndarray) -> None:
    """Per level of one ballot: sum of w (ls), of w' (lr) and the number of members (ms)."""
    for k in range(nl):
        ls[k] = 0.0
        lr[k] = 0.0
        ms[k] = 0.0
    for i in range(lo, hi):
        k = member_level[i]
        mdl = member_model[i]
        ls[k] += e[mdl]
        lr[k] += e_rev[mdl]
        ms[k] += 1.0


# -- ballots -----------------------------------------------------------------------------------
@nb.njit(cache=True, inline="always")
def _sort_desc(vals: np.ndarray, idx: np.ndarray, lo: int, hi: int) -> None:
    """Stable sort of idx[lo:hi] (and vals with it) by vals descending: insertion sort for
    ballot-sized runs, merge sort (numpy's stable argsort) beyond."""
    n = hi - lo
    if n <= 48:
        for i in range(lo + 1, hi):
            v = vals[i]
            j = idx[i]
            k = i - 1
            while k >= lo and vals[k] < v:
                vals[k + 1] = vals[k]
                idx[k + 1] = idx[k]
                k -= 1
            vals[k + 1] = v
            idx[k + 1] = j
    else:
        o = np.argsort(-vals[lo:hi], kind="mergesort")
        v2 = vals[lo:hi][o]
        i2 = idx[lo:hi][o]
        vals[lo:hi] = v2
        idx[lo:hi] = i2


@nb.njit(cache=True, parallel=True)
def segment_levels(starts: np.ndarray, oriented: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Members grouped by ballot (`starts[s]:starts[s+1]`): the permutation that orders each
    ballot by `oriented` descending (stable), and each member's dense level (0 = best; equal
    values share a level)."""
    n = oriented.size
    order = np.empty(n, np.int64)
    level = np.empty(n, np.int32)
    vals = np.empty(n, np.float64)
    n_ballots, n_chunks = _chunking(starts, 1)
    for c in nb.prange(n_chunks):
        b0 = c * n_ballots // n_chunks
        b1 = (c + 1) * n_ballots // n_chunks
        for b in range(b0, b1):
            lo = starts[b]
            hi = starts[b + 1]
            for i in range(lo, hi):
                order[i] = i
                vals[i] = oriented[i]
            _sort_desc(vals, order, lo, hi)
            lev = 0
            for i in range(lo, hi):
                if i > lo and vals[i] != vals[i - 1]:
                    lev += 1
                level[i] = lev
    return order, level


@nb.njit(cache=True, parallel=True)
def dense_ballots(values: np.ndarray, sign: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Ballots of a (samples x models) matrix, NaN = not measured: (counts per row, model,
    level, value) with each row's members ordered by `sign * value` descending."""
    n_s, n_m = values.shape
    counts = np.zeros(n_s, np.int64)
    for s in nb.prange(n_s):
        k = 0
        for j in range(n_m):
            if not math.isnan(values[s, j]):
                k += 1
        counts[s] = k
    starts = np.zeros(n_s + 1, np.int64)
    for s in range(n_s):
        starts[s + 1] = starts[s] + counts[s]
    n = starts[n_s]
    model = np.empty(n, np.int32)
    level = np.empty(n, np.int32)
    value = np.empty(n, np.float64)
    _, n_chunks = _chunking(starts, 1)
    for c in nb.prange(n_chunks):
        vals = np.empty(n_m + 1, np.float64)
        idx = np.empty(n_m + 1, np.int64)
        for s in range(c * n_s // n_chunks, (c + 1) * n_s // n_chunks):
            k = 0
            for j in range(n_m):  # branch-free compaction: write always, advance past measured cells
                v = values[s, j]
                vals[k] = sign * v
                idx[k] = j
                k += not math.isnan(v)
            _sort_desc(vals, idx, 0, k)
            lo = starts[s]
            lev = 0
            for i in range(k):
                if i > 0 and vals[i] != vals[i - 1]:
                    lev += 1
                model[lo + i] = idx[i]
                level[lo + i] = lev
                value[lo + i] = values[s, idx[i]]
    return counts, model, level, value


@nb.njit(cache=True, parallel=True)
def membership_counts(offsets: np.ndarray, member_model: np.ndarray, n_models: int) -> tuple[np.ndarray, np.ndarray]:
    """Per model: ballots it is a member of, and co-members summed over those ballots."""
    n_ballots, n_chunks = _chunking(offsets, 1)
    acc = np.zeros((n_chunks, 2, n_models), np.int64)
    for c in nb.prange(n_chunks):
        for b in range(c * n_ballots // n_chunks, (c + 1) * n_ballots // n_chunks):
            others = offsets[b + 1] - offsets[b] - 1
            for i in range(offsets[b], offsets[b + 1]):
                acc[c, 0, member_model[i]] += 1
                acc[c, 1, member_model[i]] += others
    out = np.zeros((2, n_models), np.int64)
    for c in range(n_chunks):
        out += acc[c]
    return out[0], out[1]


# -- Plackett-Luce -----------------------------------------------------------------------------
@nb.njit(cache=True, parallel=True)
def pl_counts(offsets: np.ndarray, member_model: np.ndarray, member_level: np.ndarray, n_models: int,
              stride: int) -> tuple[np.ndarray, np.ndarray]:
    """Per model, over every `stride`-th ballot with >= 2 levels: times chosen best-first (a
    member of a non-last level) and worst-first (a member of a non-first level)."""
    n_ballots, n_chunks = _chunking(offsets, stride)
    acc = np.zeros((n_chunks, 2, n_models))
    for c in nb.prange(n_chunks):
        for j in range(c * n_ballots // n_chunks, (c + 1) * n_ballots // n_chunks):
            lo, hi, nl = _ballot(offsets, member_level, j * stride)
            last = nl - 1
            for i in range(lo, hi):
                lv = member_level[i]
                if lv != last:
                    acc[c, 0, member_model[i]] += 1.0
                if lv != 0:
                    acc[c, 1, member_model[i]] += 1.0
    out = np.zeros((2, n_models))
    for c in range(n_chunks):
        out += acc[c]
    return out[0], out[1]


@nb.njit(cache=True, inline="always")
def _add_log(S: float, m: float, prod: float, logacc: float) -> tuple[float, float]:
    """Accumulate m * log(S) with one log per ~hundreds of stages: multiply into `prod` while it
    stays far from under/overflow."""
    if m != 1.0 or S < 1e-100 or S > 1e100:
        return prod, logacc + m * math.log(S)
    prod *= S
    if prod < 1e-200 or prod > 1e200:
        return 1.0, logacc + math.log(prod)
    return prod, logacc


@nb.njit(cache=True, inline="always")
def _add_ballot_log(prod: float, lo: int, hi: int, n: int, member_model: np.ndarray, w: np.ndarray,
                    worst_first: bool, run: float, logacc: float) -> tuple[float, float]:
    """Add log(prod) of one untied ballot's risk-set sums; when the product left the safe range
    (tiny strengths), recompute the sum of logs stage by stage."""
    if prod > 1e-100 and prod < 1e100:
        return _add_log(prod, 1.0, run, logacc)
    S = 0.0
    acc = 0.0
    for k in range(n):
        S += w[member_model[lo + k] if worst_first else member_model[hi - 1 - k]]
        if k > 0:
            acc += math.log(S)
    return run, logacc + acc


@nb.njit(cache=True, parallel=True)
def pl_pass(offsets: np.ndarray, member_model: np.ndarray, member_level: np.ndarray, e: np.ndarray,
            e_rev: np.ndarray, both: bool, stride: int, max_size: int
            ) -> tuple[np.ndarray, np.ndarray, float, float]:
    """One likelihood pass over every `stride`-th ballot (see plackett_luce's docstring).

    Best-first, with w = e: S_k = sum of w over levels k..last, c_k = m_k / S_k for the choice
    stages k < last, and each member at level l collects P_l = sum_{k <= l} c_k. Worst-first
    (when `both`), with w = e_rev: S'_k over levels first..k, c'_k for k > first, P'_l =
    sum_{k >= l} c'_k. Returns per model D = sum of P over its memberships (the gradient is
    wins - e * D) and D' likewise, and sum_k m_k log S_k for each reading.
    """
    n_models = e.size
    n_ballots, n_chunks = _chunking(offsets, stride)
    acc_f = np.zeros((n_chunks, n_models))
    acc_r = np.zeros((n_chunks, n_models))
    logs = np.zeros((n_chunks, 2))
    for c in nb.prange(n_chunks):
        ls = np.empty(max_size)  # per-level sums of w (best-first)
        lr = np.empty(max_size)  # ... of w' (worst-first)
        ms = np.empty(max_size)  # members per level
        P = np.empty(max_size)
        Pr = np.empty(max_size)
        af = acc_f[c]
        ar = acc_r[c]
        prod_f = 1.0
        log_f = 0.0
        prod_r = 1.0
        log_r = 0.0
        for j in range(c * n_ballots // n_chunks, (c + 1) * n_ballots // n_chunks):
            lo, hi, nl = _ballot(offsets, member_level, j * stride)
            if nl < 2:
                continue
            if nl == hi - lo:  # no ties (the common case for continuous scores): member k is level k
                n = nl
                # best-first suffix sums (descending), then worst-first prefix sums fused with the
                # best-first accumulation (ascending), then the worst-first accumulation; the
                # log-terms of a ballot as one product (each S <= its ballot's size, as w <= 1)
                S = e[member_model[hi - 1]]
                prod = 1.0
                for k in range(n - 2, -1, -1):
                    S += e[member_model[lo + k]]
                    P[k] = 1.0 / S
                    prod *= S
                prod_f, log_f = _add_ballot_log(prod, lo, hi, n, member_model, e, False, prod_f, log_f)
                run = 0.0
                S = 0.0
                prod = 1.0
                for k in range(n):
                    mdl = member_model[lo + k]
                    if both:
                        S += e_rev[mdl]
                        if k > 0:
                            Pr[k] = 1.0 / S
                            prod *= S
                    if k < n - 1:
                        run += P[k]
                    af[mdl] += run
                if both:
                    prod_r, log_r = _add_ballot_log(prod, lo, hi, n, member_model, e_rev, True, prod_r, log_r)
                    run = 0.0
                    for k in range(n - 1, 0, -1):
                        run += Pr[k]
                        ar[member_model[lo + k]] += run
                    ar[member_model[lo]] += run
                continue
            if nl == 2:  # two levels (binary scores): one stage per reading, every member in it
                S = 0.0
                S_r = 0.0
                m_top = 0.0
                for i in range(lo, hi):
                    mdl = member_model[i]
                    S += e[mdl]
                    S_r += e_rev[mdl]
                    m_top += member_level[i] == 0
                c_f = m_top / S
                c_r = (hi - lo - m_top) / S_r
                prod_f, log_f = _add_log(S, m_top, prod_f, log_f)
                if both:
                    prod_r, log_r = _add_log(S_r, hi - lo - m_top, prod_r, log_r)
                for i in range(lo, hi):
                    mdl = member_model[i]
                    af[mdl] += c_f
                    ar[mdl] += c_r
                continue
            _level_sums(lo, hi, nl, member_model, member_level, e, e_rev, ls, lr, ms)
            # best-first: suffix sums S_k; stage k chooses level k from levels k..last (k < last)
            S = ls[nl - 1]
            for k in range(nl - 2, -1, -1):
                S += ls[k]
                P[k] = ms[k] / S
                prod_f, log_f = _add_log(S, ms[k], prod_f, log_f)
            run = 0.0
            for k in range(nl - 1):
                run += P[k]
                P[k] = run
            P[nl - 1] = run
            if not both:
                for i in range(lo, hi):
                    af[member_model[i]] += P[member_level[i]]
                continue
            # worst-first: prefix sums S'_k; stage k chooses level k from levels first..k (k > 0)
            S = lr[0]
            for k in range(1, nl):
                S += lr[k]
                Pr[k] = ms[k] / S
                prod_r, log_r = _add_log(S, ms[k], prod_r, log_r)
            run = 0.0
            for k in range(nl - 1, 0, -1):
                run += Pr[k]
                Pr[k] = run
            Pr[0] = run
            for i in range(lo, hi):
                k = member_level[i]
                mdl = member_model[i]
                af[mdl] += P[k]
                ar[mdl] += Pr[k]
        logs[c, 0] = log_f + math.log(prod_f)
        logs[c, 1] = log_r + math.log(prod_r)
    D = np.zeros(n_models)
    D_r = np.zeros(n_models)
    log_f = 0.0
    log_r = 0.0
    for c in range(n_chunks):
        D += acc_f[c]
        D_r += acc_r[c]
        log_f += logs[c, 0]
        log_r += logs[c, 1]
    return D, D_r, log_f, log_r


@nb.njit(cache=True, parallel=True)
def pl_diagonal(offsets: np.ndarray, member_model: np.ndarray, member_level: np.ndarray, e: np.ndarray,
                e_rev: np.ndarray, both: bool, max_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Diagonal of the PL information and of the score outer products (`PLFit.diagonal_terms`).

    Per reading and member i at level l, with the reading's S_k, c_k = m_k / S_k over its choice
    stages and P1_l = sum of c_k, P2_l = sum of c_k / S_k over the stages whose risk set holds
    level l: H_ii += w_i P1_l - w_i^2 P2_l, and the member's score term is 1[i chooses] - w_i P1_l
    (subtracted for the worst-first reading). J_ii += (sum of i's score terms in the ballot)^2.
    """
    n_models = e.size
    n_ballots, n_chunks = _chunking(offsets, 1)
    acc_h = np.zeros((n_chunks, n_models))
    acc_j = np.zeros((n_chunks, n_models))
    for c in nb.prange(n_chunks):
        ls = np.empty(max_size)
        lr = np.empty(max_size)
        ms = np.empty(max_size)
        P1 = np.empty(max_size)
        P2 = np.empty(max_size)
        R1 = np.empty(max_size)
        R2 = np.empty(max_size)
        ah = acc_h[c]
        aj = acc_j[c]
        for b in range(c * n_ballots // n_chunks, (c + 1) * n_ballots // n_chunks):
            lo, hi, nl = _ballot(offsets, member_level, b)
            if nl < 2:
                continue
            _level_sums(lo, hi, nl, member_model, member_level, e, e_rev, ls, lr, ms)
            # best-first: stages k < last, risk set levels k..last; level l is in stages 0..min(l, last-1)
            S = ls[nl - 1]
            for k in range(nl - 2, -1, -1):
                S += ls[k]
                P1[k] = ms[k] / S
                P2[k] = P1[k] / S
            run1 = 0.0
            run2 = 0.0
            for k in range(nl - 1):
                run1 += P1[k]
                run2 += P2[k]
                P1[k] = run1
                P2[k] = run2
            P1[nl - 1] = run1
            P2[nl - 1] = run2
            if both:
                # worst-first: stages k > 0, risk set levels 0..k; level l is in stages max(l, 1)..last
                S = lr[0]
                for k in range(1, nl):
                    S += lr[k]
                    R1[k] = ms[k] / S
                    R2[k] = R1[k] / S
                run1 = 0.0
                run2 = 0.0
                for k in range(nl - 1, 0, -1):
                    run1 += R1[k]
                    run2 += R2[k]
                    R1[k] = run1
                    R2[k] = run2
                R1[0] = run1
                R2[0] = run2
            for i in range(lo, hi):
                k = member_level[i]
                mdl = member_model[i]
                w = e[mdl]
                ah[mdl] += w * P1[k] - w * w * P2[k]
                score = (1.0 if k != nl - 1 else 0.0) - w * P1[k]
                if both:
                    w = e_rev[mdl]
                    ah[mdl] += w * R1[k] - w * w * R2[k]
                    score -= (1.0 if k != 0 else 0.0) - w * R1[k]
                aj[mdl] += score * score
    H = np.zeros(n_models)
    J = np.zeros(n_models)
    for c in range(n_chunks):
        H += acc_h[c]
        J += acc_j[c]
    return H, J
