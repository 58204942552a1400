"""Plackett-Luce (rank-ordered logit) on per-sample partial orders with ties, vectorised.

Model. Model i has strength w_i = exp(theta_i). A ballot with tie groups G_1 > G_2 > ... > G_K
(best first) is read as K-1 successive choices: at stage k the models still in play are the
*risk set* R_k = G_k ∪ ... ∪ G_K, and every member of G_k is chosen from R_k:

    P(ballot) = prod_{k<K} prod_{i in G_k} w_i / (sum_{j in R_k} w_j)^{|G_k|}

Tie model: this is Breslow's treatment of ties in the Cox partial likelihood, of which
rank-ordered logit is a special case (Allison & Christakis 1994). We use it because (1) it is
symmetric in the tied models — no arbitrary tie-breaking, and no extra tie parameter that would
have to be shared across binary, continuous and ordinal metrics whose tie rates differ wildly;
(2) it keeps the log-likelihood concave, so the fit has one optimum and MM/quasi-Newton
converge; (3) its sufficient statistics are per-level sums, so one likelihood/gradient pass is
a few cumulative sums inside each ballot: O(#measurements) per iteration, no per-pair expansion. A binary sample (correct > incorrect) then says "each correct model was
chosen from all models measured on it". The worst group G_K is not a choice and contributes
nothing; a ballot with one level (everyone tied) carries no information. (Alternatives: the
Davidson-Luce model adds a tie-propensity parameter; Efron's approximation is slightly closer
to the exact marginal likelihood but is not a product of choice probabilities.)

Log-likelihood and gradient (W_i = number of stage memberships of i as a chooser, m_k = |G_k|):

    l(theta) = sum_i W_i theta_i - sum_k m_k log S_k - alpha/2 |theta|^2,  S_k = sum_{j in R_k} w_j
    dl/dtheta_i = W_i - w_i sum_{k: i in R_k} m_k / S_k - alpha theta_i

The L2 term (`alpha`, a Gaussian prior of precision alpha) makes the optimum finite when some
model never loses or never wins.

Direction (`direction`): classic PL reads a ballot best-first (`"forward"`). With
`"both"` (the default) it is also read worst-first — the bottom group is "chosen" as worst
from everyone with strengths 1/w_i, and so on upwards — and the two log-likelihoods are added
(a composite likelihood). Forward-only PL over-weights the top of every ballot: the first
choice is made among all r models, the last among two; when the noise is not Gumbel (real
scores rarely are) that asymmetry costs accuracy. Reading both ways treats top and bottom
alike, and is what makes PL match or beat ONEBench's all-pairs pipeline on its own simulation
(see tests/test_aggregators_sim.py). Because the two readings reuse the same data, its
intervals use the sandwich (Godambe) covariance H^-1 J H^-1, with J the sum over ballots of
the outer products of each ballot's score; forward-only uses the inverse observed information.

Fitting: diagonal-Newton steps accelerated by SQUAREM (L-BFGS if they stall) on the concave
objective, warm-started from a fit on every 10th ballot when there are many. Each evaluation is
one pass over the ballots: `Blocks` below in numpy (ballots of similar size stacked as matrices,
each reading's cumulative sums run down whole rows), or for large evidence one compiled pass
that reads both directions (`kernels.pl_pass`); both are tested against `Stages`, the flat
readable reference. The observed Fisher information is

    I = sum_k m_k (diag(p_k) - p_k p_k^T) + alpha Id,   p_k = w restricted to R_k / S_k

computed exactly (sparse stage x model matrix, chunked), used for Wald intervals on
`theta_i - mean(theta)`. Its cost is the number of (stage, risk-set member) entries, sum over
ballots of |ballot| x levels: quadratic in ballot size (~1e9 entries for 50M measurements in
ballots of ~45 models with mostly distinct values).

Diagonal intervals (`PLFit.variance_diagonal`, what `fit(ci="auto")` uses): only the diagonal of the information,

    I_ii = w_i sum_{k: i in R_k} m_k / S_k  -  w_i^2 sum_{k: i in R_k} m_k / S_k^2  (+ alpha),

which costs two within-ballot cumulative sums per reading (O(#measurements), like one gradient
pass), and Var(theta_i) ~= 1 / I_ii (forward) or J_ii / H_ii^2 (both readings: the diagonal of
the sandwich, J_ii = sum over ballots of the squared score of model i). This treats every
other strength as known. For a positive semi-definite information restricted to the sum-zero
others known. Without the gauge, (I^-1)_ii >= 1 / I_ii (co-members' uncertainty widens the
exact interval); projecting on theta - mean(theta) then removes the common shift. Both effects
are O(1 / number of distinct opponents) when ballots mix many models (each model meets hundreds
of others in the 1,000-model benchmarks); they are not a bound for sparse designs where a model
meets few opponents (use ci="fisher" or a bootstrap there). tests/test_aggregators_sim.py checks, on seeded
medium-size data, that diagonal half-widths are within a few percent of the exact ones and
that their coverage stays near nominal.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .evidence import Evidence, _width


@dataclass
class Stages:
    """The per-level structure of the informative ballots (those with at least two levels).

    Levels are numbered globally; a ballot's levels are `first..last`, best first. The same
    arrays serve both readings: best-first (risk set of level k = levels k..last, a suffix sum)
    and worst-first (risk set = levels first..k, a prefix sum), so reading both ways costs no
    extra memory.
    """

    n_models: int
    member_model: np.ndarray  # intp, model of each member of the informative ballots
    member_glevel: np.ndarray  # int64 global level index of each member (non-decreasing)
    level_first: np.ndarray  # global index of the first level of the level's ballot
    level_last: np.ndarray  # ... and of its last level
    level_m: np.ndarray  # members at the level (float)
    ballot_sizes: np.ndarray  # members per informative ballot
    wins: np.ndarray  # per model: times chosen best-first (member of a non-last level)
    wins_rev: np.ndarray  # per model: times chosen worst-first (member of a non-first level)
    n_stage_members: float
    n_stage_members_rev: float
    reverse: bool = False  # a reversed copy built for the information matrix (see `reversed_copy`)

    @classmethod
    def from_evidence(cls, ev: Evidence, *, reverse: bool = False) -> Stages:
        """Stages of the informative ballots; `reverse` builds the worst-first copy explicitly."""
        nlev = ev.n_levels()
        informative = nlev >= 2
        # A one-level ballot (single member, or everyone tied) contributes nothing: its only level
        # is both first and last, so it is no choice in either reading. Dropping such ballots
        # costs a copy of everything, worth it only when they hold a large share of the members.
        sizes = ev.sizes()
        if not informative.all() and (sizes[~informative].sum() > 0.2 * ev.n_measurements or (sizes == 0).any()):
            ev = ev.take_samples(np.flatnonzero(informative), keep_pairs=np.zeros(0, np.int64))
            nlev = nlev[informative]
        member_level = ev.member_level
        if reverse:
            member_level = (np.repeat(nlev, ev.sizes()) - 1 - member_level).astype(np.int32)
        level_off = np.zeros(nlev.size + 1, np.int64)
        np.cumsum(nlev, out=level_off[1:])
        n_levels = int(level_off[-1])
        sizes = ev.sizes()
        g = np.repeat(level_off[:-1], sizes)
        g += member_level
        idx_t = np.intp  # gathers and bincounts are fastest on platform ints
        first = np.repeat(level_off[:-1].astype(idx_t), nlev)
        last = np.repeat((level_off[1:] - 1).astype(idx_t), nlev)
        m = np.bincount(g, minlength=n_levels).astype(np.float64)
        n = ev.n_models
        # platform-int model indices: bincount converts int32 input to intp on every call (a
        # copy per pass), which makes it ~2x slower than on intp indices
        mm = ev.member_model.astype(np.intp)
        # levels are dense ranks 0..nlev-1 inside each ballot: compare, do not gather
        not_last = member_level != np.repeat((nlev - 1).astype(member_level.dtype), sizes)
        not_first = member_level != 0
        wins = np.bincount(mm[not_last], minlength=n).astype(np.float64)
        wins_rev = np.bincount(mm[not_first], minlength=n).astype(np.float64)
        del not_last, not_first
        top_m = m[level_off[:-1]].sum()
        bottom_m = m[level_off[1:] - 1].sum()
        total = float(m.sum())
        return cls(n, mm, g, first, last, m, sizes, wins, wins_rev, total - bottom_m, total - top_m, reverse)

    def reversed_copy(self, ev: Evidence) -> Stages:
        return Stages.from_evidence(ev, reverse=True)

    @property
    def chooser(self) -> np.ndarray:
        return self.member_glevel != self.level_last[self.member_glevel]

    @property
    def member_ballot(self) -> np.ndarray:
        return np.repeat(np.arange(self.ballot_sizes.size, dtype=np.int64), self.ballot_sizes)

    @property
    def level_stage(self) -> np.ndarray:
        return np.arange(self.level_m.size) != self.level_last

    def member_scores(self, theta: np.ndarray) -> np.ndarray:
        """Each member's term of its ballot's score vector: 1[chosen] - w_i sum_{k: i in R_k} m_k/S_k."""
        _, _, P = self.loglik_grad(theta, 0.0)
        e = np.exp(theta - (float(theta.max()) if theta.size else 0.0))
        return self.chooser.astype(np.float64) - e[self.member_model] * P[self.member_glevel]

    def _level_sums(self, theta: np.ndarray) -> tuple[np.ndarray, float, np.ndarray]:
        top = float(theta.max()) if theta.size else 0.0
        e = np.exp(theta - top)
        return np.bincount(self.member_glevel, weights=e[self.member_model], minlength=self.level_m.size), top, e

    def loglik_grad(self, theta: np.ndarray, alpha: float) -> tuple[float, np.ndarray, np.ndarray]:
        """Best-first reading: (log-likelihood incl. the L2 term, gradient, per-level P).

        One pass = two gathers, two bincounts and two cumsums over the members/levels.
        """
        level_sum, top, e = self._level_sums(theta)
        S = np.cumsum(level_sum)
        S_last = S[self.level_last]
        np.subtract(S_last, S, out=S)
        S += level_sum  # S_k = sum of w over levels k..last of the ballot
        del S_last, level_sum
        m = self._stage_mass(forward=True)  # level_m, 0 at the last level (not a choice)
        c = m / S
        logS = np.log(S, out=S)
        ll = float(self.wins @ theta - (m @ logS) - top * self.n_stage_members - 0.5 * alpha * theta @ theta)
        del logS, S
        P = np.cumsum(c)
        P -= c
        base = P[self.level_first]
        np.subtract(P, base, out=P)
        del base
        P += c  # P_k = sum of c over levels first..k of the ballot
        denom = np.bincount(self.member_model, weights=P[self.member_glevel], minlength=self.n_models)
        grad = self.wins - e * denom - alpha * theta
        return ll, grad, P

    def loglik_grad_rev(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        """Worst-first reading with strengths exp(theta) (pass theta = -strength): the bottom level
        is chosen from all, then the next one up from the rest, ... (log-likelihood, gradient)."""
        level_sum, top, e = self._level_sums(theta)
        S = np.cumsum(level_sum)
        base = S[self.level_first]
        base -= level_sum[self.level_first]
        np.subtract(S, base, out=S)  # S'_k = sum of w over levels first..k
        del base, level_sum
        m = self._stage_mass(forward=False)  # level_m, 0 at the top level (not a choice upwards)
        c = m / S
        logS = np.log(S, out=S)
        ll = float(self.wins_rev @ theta - (m @ logS) - top * self.n_stage_members_rev)
        del logS, S
        P = np.cumsum(c)
        P_last = P[self.level_last]
        np.subtract(P_last, P, out=P)
        P += c  # P'_k = sum of c over levels k..last
        del P_last
        denom = np.bincount(self.member_model, weights=P[self.member_glevel], minlength=self.n_models)
        return ll, self.wins_rev - e * denom

    def _stage_mass(self, forward: bool) -> np.ndarray:
        """level_m with the levels that choose nothing in that reading set to 0 (cached)."""
        key = "_mass_fwd" if forward else "_mass_rev"
        if getattr(self, key, None) is None:
            m = self.level_m.copy()
            m[self._last_levels() if forward else self._first_levels()] = 0.0
            setattr(self, key, m)
        return getattr(self, key)

    def _last_levels(self) -> np.ndarray:
        if getattr(self, "_lasts", None) is None:
            self._lasts = np.flatnonzero(np.r_[self.level_first[1:] != self.level_first[:-1], True])
        return self._lasts

    def _first_levels(self) -> np.ndarray:
        if getattr(self, "_firsts", None) is None:
            self._firsts = np.flatnonzero(np.r_[True, self.level_first[1:] != self.level_first[:-1]])
        return self._firsts


class Blocks:
    """The informative ballots laid out for the numpy passes: ballots of similar size stacked as
    the columns of one matrix (`width` rows, best member first, padding below with the dummy
    model `n_models`, whose strength is 0).

    Why this layout: a pass is a few cumulative sums inside every ballot. Down the rows of a
    block they are `width` vectorised additions of whole rows (every ballot of the block at
    once), each sum stays inside its ballot (no differences of a global cumulative sum, so no
    cancellation between ballots), and the matrices are reused by every evaluation. On 2M
    measurements one evaluation of both readings takes ~15 ms, a quarter of the flat `Stages`
    passes (which remain the readable reference).

    Per block: `model` (width x ballots, intp), `mass_fwd` (a level's size on its first row
    unless it is its ballot's last level: the stages of the best-first reading), `mass_rev` (a
    level's size on its last row unless it is the first level: the worst-first stages) and `pad`
    (1 on padding rows, None without padding); `choosers` marks who chooses in each reading.
    """

    def __init__(self, ev: Evidence, stride: int = 1) -> None:
        n = ev.n_models
        self.n_models = n
        if stride > 1:
            ev = ev.take_samples(np.arange(0, ev.n_samples, stride), keep_pairs=np.zeros(0, np.int64))
        self.evidence = ev
        sizes = ev.sizes()
        informative = sizes >= 2
        informative[informative] = ev.member_level[ev.offsets[1:][informative] - 1] > 0  # >= 2 levels
        width = _width(sizes)
        self.wins = np.zeros(n)
        self.wins_rev = np.zeros(n)
        self.blocks: list[tuple[np.ndarray, ...]] = []
        self.choosers: list[tuple[np.ndarray, np.ndarray]] = []  # per block: chooses best-first, worst-first
        for w in np.unique(width[informative]).tolist():
            cols = np.flatnonzero(informative & (width == w))
            model, mass_fwd, mass_rev, choosers, pad = self._block(cols, w)
            self.wins += np.bincount(model.ravel(), weights=choosers[0].ravel(), minlength=n + 1)[:n]
            self.wins_rev += np.bincount(model.ravel(), weights=choosers[1].ravel(), minlength=n + 1)[:n]
            self.blocks.append((model, mass_fwd, mass_rev, pad))
            self.choosers.append(choosers)
        self.n_stage = float(self.wins.sum())
        self.n_stage_rev = float(self.wins_rev.sum())
        self._biggest = max((b[0].size for b in self.blocks), default=0)
        self._buf: list[np.ndarray] | None = None

    def _block(self, cols: np.ndarray, w: int):
        """(model, mass_fwd, mass_rev, (chooser_fwd, chooser_rev), pad) of the block of ballots
        `cols` and width w, computed inside the block from the members' levels (no array over
        all members: a fresh page costs more than the arithmetic on it)."""
        ev, n = self.evidence, self.n_models
        rows = np.arange(w)[:, None]
        sizes = ev.offsets[cols + 1] - ev.offsets[cols]
        idx = ev.offsets[cols][None, :] + rows
        valid = None if int(sizes.min()) == w else rows < sizes[None, :]
        if valid is not None:
            idx[~valid] = 0
        model = np.take(ev.member_model, idx).astype(np.intp)
        level = np.take(ev.member_level, idx)
        if valid is not None:
            model[~valid] = n
            level[~valid] = -1  # padding: a level of its own below the ballot
        start = np.ones(level.shape, bool)  # first row of its level
        np.not_equal(level[1:], level[:-1], out=start[1:])
        ch_fwd = level != level[sizes - 1, np.arange(cols.size)][None, :]  # not in the ballot's last level
        ch_rev = level > 0  # not in its first level
        if valid is not None:
            ch_fwd &= valid
        if bool(start[:-1].all()):  # no ties: every row is a level of its own
            mass_fwd, mass_rev = ch_fwd.astype(np.float64), ch_rev.astype(np.float64)
        else:
            next_start = np.full(level.shape, w)  # row where the next level starts
            prev_start = np.zeros(level.shape, np.int64)  # row where this level starts
            for r in range(w - 2, -1, -1):
                np.copyto(next_start[r], np.where(start[r + 1], r + 1, next_start[r + 1]))
            for r in range(1, w):
                np.copyto(prev_start[r], np.where(start[r], r, prev_start[r - 1]))
            end = np.ones(level.shape, bool)  # last row of its level
            end[:-1] = start[1:]
            mass_fwd = np.where(start & ch_fwd, next_start - rows, 0).astype(np.float64)
            mass_rev = np.where(end & ch_rev, rows - prev_start + 1, 0).astype(np.float64)
        pad = None if valid is None else (~valid).astype(np.float64)
        return model, mass_fwd, mass_rev, (ch_fwd, ch_rev), pad

    def _buffers(self, shape: tuple[int, int]) -> list[np.ndarray]:
        if self._buf is None:  # made on first use, reused by every pass
            self._buf = [np.empty(self._biggest) for _ in range(3)]
        k = shape[0] * shape[1]
        return [b[:k].reshape(shape) for b in self._buf]

    @staticmethod
    def _down(x: np.ndarray, out: np.ndarray) -> np.ndarray:
        """Cumulative sums down the rows (each column on its own): out[r] = x[0] + ... + x[r]."""
        np.copyto(out[0], x[0])
        for r in range(1, x.shape[0]):
            np.add(out[r - 1], x[r], out=out[r])
        return out

    @staticmethod
    def _up(x: np.ndarray, out: np.ndarray) -> np.ndarray:
        """Cumulative sums up the rows: out[r] = x[r] + ... + x[last]."""
        np.copyto(out[-1], x[-1])
        for r in range(x.shape[0] - 2, -1, -1):
            np.add(out[r + 1], x[r], out=out[r])
        return out

    def evaluate(self, x: np.ndarray, both: bool) -> tuple[float, np.ndarray, np.ndarray]:
        """Log-likelihood (no prior), gradient and diagonal of the information of the best-first
        (+ worst-first when `both`) readings at strengths exp(x).

        Best-first, per column: S = sums up the rows of w (the risk set of the level starting
        there), c = mass_fwd / S, P = sums of c down the rows (stages whose risk set holds the
        row), D_i = sum of P over i's members; l = wins.x - sum mass_fwd log S, dl/dx = wins - w D.
        Worst-first: the same with w' = exp(-x), sums down for S and up for P."""
        n = self.n_models
        e, top, e_r, top_r = _strengths(x)
        ll_f, D = self._reading(np.append(e, 0.0), True)
        ll = float(self.wins @ x) - top * self.n_stage - ll_f
        eD = e * D[:n]
        grad = self.wins - eD
        diag = eD.copy()
        if both:
            ll_r, D_r = self._reading(np.append(e_r, 0.0), False)
            ll += float(self.wins_rev @ -x) - top_r * self.n_stage_rev - ll_r
            erD = e_r * D_r[:n]
            grad -= self.wins_rev - erD
            diag += erD
        return ll, grad, diag

    def _reading(self, e: np.ndarray, forward: bool) -> tuple[float, np.ndarray]:
        """(sum of mass log S, D) of one reading (`evaluate`), with strengths `e` (0 appended for
        the padding model)."""
        n = self.n_models
        total = 0.0
        D = np.zeros(n + 1)
        for model, mass_fwd, mass_rev, pad in self.blocks:
            w, S, c = self._buffers(model.shape)
            np.take(e, model, out=w)
            if forward:
                self._up(w, S)
                if pad is not None:
                    S += pad  # padding rows: an empty risk set, read as 1 (their mass is 0)
            else:
                self._down(w, S)
            mass = mass_fwd if forward else mass_rev
            np.divide(mass, S, out=c)
            np.log(S, out=S)
            np.multiply(S, mass, out=S)
            total += float(S.sum())  # not np.vdot: a BLAS call, whose threads cost more than the sum
            P = self._down(c, c) if forward else self._up(c, c)
            D += np.bincount(model.ravel(), weights=P.ravel(), minlength=n + 1)
        return total, D

    def diagonal(self, x: np.ndarray, both: bool) -> tuple[np.ndarray, np.ndarray]:
        """(diagonal of the information H without the prior, diagonal of J) at strengths exp(x),
        as `PLFit.diagonal_terms` defines them: with P1 = sums of mass/S and P2 = sums of
        mass/S^2 over the stages holding a row, H_ii = sum over i's members of w P1 - w^2 P2, and
        each member's score term is 1[it chooses] - w P1 (minus for the worst-first reading)."""
        n = self.n_models
        e, _, e_r, _ = _strengths(x)
        e, e_r = np.append(e, 0.0), np.append(e_r, 0.0)
        H = np.zeros(n + 1)
        J = np.zeros(n + 1)
        for k, (model, mass_fwd, mass_rev, pad) in enumerate(self.blocks):
            flat = model.ravel()
            w, S, c = self._buffers(model.shape)
            score = np.zeros(model.shape)
            for forward in ((True, False) if both else (True,)):
                np.take(e if forward else e_r, model, out=w)
                if forward:
                    self._up(w, S)
                    if pad is not None:
                        S += pad
                else:
                    self._down(w, S)
                np.divide(mass_fwd if forward else mass_rev, S, out=c)
                np.divide(c, S, out=S)  # mass / S^2
                P2 = self._down(S, S) if forward else self._up(S, S)
                P1 = self._down(c, c) if forward else self._up(c, c)
                np.multiply(w, P1, out=P1)  # w P1
                np.multiply(w, w, out=w)
                np.multiply(w, P2, out=P2)  # w^2 P2
                term = self.choosers[k][0 if forward else 1] - P1
                score += term if forward else -term
                H += np.bincount(flat, weights=(P1 - P2).ravel(), minlength=n + 1)
            J += np.bincount(flat, weights=(score * score).ravel(), minlength=n + 1)
        return H[:n], J[:n]


def fisher_exact(st: Stages, theta: np.ndarray, alpha: float) -> np.ndarray:
    """Observed information, processing whole ballots per chunk so no stage row is split."""
    import scipy.sparse as sp

    n = st.n_models
    top = float(theta.max()) if theta.size else 0.0
    e = np.exp(theta - top)
    level_sum = np.bincount(st.member_glevel, weights=e[st.member_model], minlength=st.level_m.size)
    csum = np.cumsum(level_sum)
    S = csum[st.level_last] - (csum - level_sum)
    c = np.zeros_like(S)
    c[st.level_stage] = st.level_m[st.level_stage] / S[st.level_stage]
    cc = np.cumsum(c)
    P = cc - (cc[st.level_first] - c[st.level_first])
    H = np.diag(e * np.bincount(st.member_model, weights=P[st.member_glevel], minlength=n))
    g = st.member_glevel
    hi = np.minimum(g, st.level_last[g] - 1)
    lo = st.level_first[g]
    cnt = np.maximum(hi - lo + 1, 0)
    # chunk boundaries at ballot starts (a member whose level is its ballot's first level and
    # that is the first member of that level)
    ballot_start = np.flatnonzero(np.r_[True, lo[1:] != lo[:-1]])
    cum = np.concatenate([[0], np.cumsum(cnt)])
    target = 8_000_000
    i = 0
    while i < ballot_start.size:
        a = ballot_start[i]
        j = int(np.searchsorted(cum[ballot_start], cum[a] + target, side="right"))
        j = min(max(j, i + 1), ballot_start.size)
        b = ballot_start[j] if j < ballot_start.size else g.size
        sl = slice(a, b)
        cc_ = cnt[sl]
        tot = int(cc_.sum())
        if tot:
            rows = np.repeat(lo[sl], cc_) + (np.arange(tot) - np.repeat(np.cumsum(cc_) - cc_, cc_))
            cols = np.repeat(st.member_model[sl], cc_)
            vals = np.repeat(e[st.member_model[sl]], cc_) / S[rows]
            urows, rows_d = np.unique(rows, return_inverse=True)
            Q = sp.csr_matrix((vals * np.sqrt(st.level_m[rows]), (rows_d, cols)), shape=(urows.size, n))
            H -= (Q.T @ Q).toarray()
        i = j
    return H + alpha * np.eye(n)


@dataclass
class PLFit:
    theta: np.ndarray
    loglik: float
    iterations: int
    converged: bool
    grad_norm: float
    direction: str
    alpha: float
    evidence: Evidence
    reference: Stages | None = None  # numpy stages of the evidence (exact information), built on use
    blocks: Blocks | None = None  # the numpy passes' layout a small fit ran on (diagonal intervals), else built on use
    wins: np.ndarray | None = None  # per model: stage memberships as a chooser, best-first
    losses: np.ndarray | None = None  # ... worst-first (chosen as worst: a loss)

    @property
    def parts(self) -> list[tuple[Stages, float]]:
        """(stages, sign) of each reading: best-first (+1) and, for `both`, worst-first (-1) on
        the same arrays."""
        if self.reference is None:
            self.reference = Stages.from_evidence(self.evidence)
        st = self.reference
        return [(st, 1.0), (st, -1.0)] if self.direction == "both" else [(st, 1.0)]

    @property
    def stages(self) -> Stages:
        return self.parts[0][0]

    def _explicit_parts(self) -> list[tuple[Stages, float]]:
        """The readings as separate Stages objects (the worst-first one built explicitly)."""
        out = [(self.parts[0][0], 1.0)]
        if len(self.parts) == 2:
            out.append((Stages.from_evidence(self.evidence, reverse=True), -1.0))
        return out

    def hessian(self) -> np.ndarray:
        """Observed information of the (composite) log-likelihood incl. the prior."""
        H = sum(fisher_exact(st, sign * self.theta, 0.0) for st, sign in self._explicit_parts())
        return H + self.alpha * np.eye(self.theta.size)

    def diagonal_terms(self) -> tuple[np.ndarray, np.ndarray]:
        """(diagonal of the observed information H without the prior, diagonal of J), O(#members).

        Per reading (best-first on theta, worst-first on -theta) and member i at level l:
        H_ii += w_i P1_l - w_i^2 P2_l with P1_l = sum of m_k/S_k and P2_l = sum of m_k/S_k^2 over
        the stages whose risk set holds level l; the member's score term is 1[i chooses] - w_i P1_l
        (its sign flips for the worst-first reading). J_ii = sum over ballots of (sum of both
        readings' terms of i)^2. Large evidence: one compiled pass (`kernels.pl_diagonal`).
        """
        from . import compiled

        if compiled.wanted(self.evidence.n_measurements):
            e, _, e_r, _ = _strengths(self.theta)
            ev = self.evidence
            return compiled.call("pl_diagonal", ev.offsets, ev.member_model, ev.member_level, e, e_r,
                                 self.direction == "both", ev.largest_ballot())
        if self.blocks is None:
            self.blocks = Blocks(self.evidence)
        return self.blocks.diagonal(self.theta, self.direction == "both")

    def variance_diagonal(self) -> np.ndarray:
        """Diagonal approximation of `covariance()`, one variance per model (module docstring):
        1/H_ii (forward) or J_ii/H_ii^2 (both readings), H including the prior, and never below
        1/H_ii. The floor matters where J, estimated from a model's own ballots, collapses: a
        model seen on a handful of samples, or one that never lost or never won, whose strength
        runs towards the prior's bound, where J_ii and H_ii vanish together and J_ii/H_ii^2 would
        claim certainty (a newcomer measured once, ahead of everyone, would rank first 1-1).
        1/H_ii is the model-based variance of the pooled readings: at most the sandwich's when the
        two readings agree, as they do on informative data. Models without data keep 1/alpha
        (NaN when alpha = 0)."""
        H, Jd = self.diagonal_terms()
        act = H > 1e-300
        var = np.full(H.size, 1.0 / self.alpha if self.alpha > 0 else np.nan)
        Hp = H[act] + self.alpha
        var[act] = 1.0 / Hp if self.direction == "forward" else np.maximum(Jd[act] / Hp**2, 1.0 / Hp)
        return var

    def choices(self) -> tuple[np.ndarray, np.ndarray]:
        """(times each model was chosen best-first, times chosen worst-first): 0 = never won / never lost."""
        return self.wins, self.losses

    def covariance(self) -> np.ndarray:
        """Inverse information (forward only) or the sandwich H^-1 J H^-1 (both directions), each
        variance at least the model-based 1/H_ii.

        Inverted on the models that have data (the others keep variance 1/alpha, or NaN); with
        alpha = 0 the gauge is fixed by inverting H + 11^T/k, which equals the pseudo-inverse plus
        11^T/k and so gives the same covariance of theta - mean(theta).
        """
        import scipy.sparse as sp

        if self.stages.member_model.size == 0:  # no ballot with two levels: the prior alone
            return np.diag(np.full(self.theta.size, 1.0 / self.alpha if self.alpha > 0 else np.nan))
        H = self.hessian()
        n = H.shape[0]
        act = np.flatnonzero(np.diag(H) > self.alpha * (1 + 1e-9) + 1e-300)
        k = act.size
        Ha = H[np.ix_(act, act)]
        ones = np.full((k, k), 1.0 / k) if k else np.zeros((0, 0))
        try:
            Hinv_a = np.linalg.inv(Ha + ones) - (ones if self.alpha == 0 else 0.0)
        except np.linalg.LinAlgError:
            Hinv_a = np.linalg.pinv(Ha, hermitian=True)
        out = np.full((n, n), 0.0)
        np.fill_diagonal(out, 1.0 / self.alpha if self.alpha > 0 else np.nan)
        if len(self.parts) == 1:
            out[np.ix_(act, act)] = Hinv_a
            return out
        st0 = self.parts[0][0]
        vals = sum(sign * st.member_scores(sign * self.theta) for st, sign in self._explicit_parts())
        G = sp.csr_matrix((vals, (st0.member_ballot, st0.member_model)),
                          shape=(int(st0.member_ballot.max()) + 1 if st0.member_ballot.size else 0, n))
        J = (G.T @ G).toarray()[np.ix_(act, act)]
        sandwich = Hinv_a @ J @ Hinv_a
        # never below the model-based 1/H_ii (see `variance_diagonal`): a PSD diagonal added where
        # the sandwich's J collapses (a model on a handful of samples, one that never lost or won)
        short = np.clip(1.0 / np.diag(Ha) - np.diag(sandwich), 0, None)
        out[np.ix_(act, act)] = sandwich + np.diag(short)
        return out


def _strengths(x: np.ndarray) -> tuple[np.ndarray, float, np.ndarray, float]:
    """(w = exp(x - max x), max x, w' = exp(-x - max(-x)), max(-x)): both readings' strengths,
    scaled so the largest is 1."""
    top, top_r = float(x.max()), float((-x).max())
    return np.exp(x - top), top, np.exp(-x - top_r), top_r


DIRECTIONS = ("both", "forward")
_TRACE: list | None = None  # set to a list to record per-fit iteration counts (benchmarks)
WARM_START_MIN_BALLOTS = 20_000  # fit every 10th ballot first when there are at least this many


class Objective:
    """Penalised (composite) PL log-likelihood over every `stride`-th ballot, with its gradient
    and the diagonal of the information.

    With e = exp(x - max x) and D_i = sum of P over the memberships of i (`kernels.pl_pass`):
    best-first l = wins @ x - sum_k m_k log S_k, dl/dx = wins - e D, diagonal e D; worst-first
    the same on -x (its gradient enters with a minus sign). Large evidence is evaluated by the
    compiled kernel in one pass over the ballots for both readings, smaller evidence by the
    numpy `Blocks` passes (`compiled.py` says where the line is).
    """

    def __init__(self, ev: Evidence, direction: str, stride: int = 1) -> None:
        from . import compiled

        self.ev, self.both, self.stride = ev, direction == "both", stride
        self.compiled = compiled.wanted(ev.n_measurements)  # of all the evidence: the stride is the warm start's
        self.max_size = ev.largest_ballot()
        if self.compiled:
            self.wins, self.wins_rev = compiled.call("pl_counts", ev.offsets, ev.member_model, ev.member_level,
                                                     ev.n_models, stride)
        else:
            self.blocks = Blocks(ev, stride)
            self.wins, self.wins_rev = self.blocks.wins, self.blocks.wins_rev
        self.n_stage, self.n_stage_rev = float(self.wins.sum()), float(self.wins_rev.sum())
        self.scale = max(self.n_stage + (self.n_stage_rev if self.both else 0.0), 1.0)

    def __call__(self, x: np.ndarray, alpha: float) -> tuple[float, np.ndarray, np.ndarray]:
        if self.compiled or self._far_apart(x):
            ll, grad, diag = self._compiled(x)
        else:
            ll, grad, diag = self.blocks.evaluate(x, self.both)
        return ll - 0.5 * alpha * float(x @ x), grad - alpha * x, diag + alpha

    @staticmethod
    def _far_apart(x: np.ndarray) -> bool:
        """Strengths more than 30 log-units apart (a model that never loses, a weak prior) go to
        the compiled pass, which keeps each ballot's likelihood as a product of risk-set sums
        and takes its logs stage by stage when that product leaves the floating-point range.
        (The numpy passes sum inside each ballot, so closer strengths lose nothing to them.)"""
        return (float(x.max() - x.min()) if x.size else 0.0) > 30

    def _compiled(self, x: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        from . import compiled

        e, top, e_r, top_r = _strengths(x)
        ev = self.ev
        D, D_r, log_f, log_r = compiled.call("pl_pass", ev.offsets, ev.member_model, ev.member_level, e, e_r,
                                             self.both, self.stride, self.max_size)
        ll = float(self.wins @ x) - log_f - top * self.n_stage
        grad = self.wins - e * D
        diag = e * D
        if self.both:
            ll += float(self.wins_rev @ -x) - log_r - top_r * self.n_stage_rev
            grad -= self.wins_rev - e_r * D_r
            diag += e_r * D_r
        return ll, grad, diag


def _newton_diag(f: Objective, x0: np.ndarray, alpha: float, tol: float, max_iter: int
                 ) -> tuple[np.ndarray, int, bool, float, float]:
    """Diagonal-Newton ascent theta += grad / diag(I) (a relaxed MM step), accelerated by SQUAREM.

    The plain step converges linearly, fast when every ballot compares many models (the
    information is then close to diagonal up to the gauge). SQUAREM (Varadhan & Roland 2008)
    extrapolates along two successive steps, x - 2a r + a^2 v, and keeps the extrapolation only
    if it does not lower the objective (otherwise the second plain step). Returns
    converged=False when progress stalls, and the caller continues with L-BFGS.
    """

    def center(v: np.ndarray) -> np.ndarray:
        return v - v.mean()

    def plain(x: np.ndarray, ll: float, g: np.ndarray, d: np.ndarray):
        step = g / np.maximum(d, 1e-300)
        t = 1.0
        while True:
            xn = center(x + t * step)
            lln, gn_, dn = f(xn, alpha)
            if lln >= ll - 1e-13 * abs(ll) or t < 1e-3:
                return xn, lln, gn_, dn
            t *= 0.5

    def norm(g: np.ndarray) -> float:
        return float(np.abs(g).max()) / f.scale

    x = center(x0)
    ll, g, d = f(x, alpha)
    slow = 0
    it = 0
    while it < max_iter:
        gn = norm(g)
        if gn < tol:
            return x, it, True, ll, gn
        x1, ll1, g1, d1 = plain(x, ll, g, d)
        it += 1
        if norm(g1) < tol:
            return x1, it, True, ll1, norm(g1)
        x2 = center(x1 + g1 / np.maximum(d1, 1e-300))
        r = x1 - x
        v = x2 - 2 * x1 + x
        nv = float(np.linalg.norm(v))
        xs, (lls, gs, ds) = x2, (None, None, None)
        if nv > 0:
            a_ = min(-float(np.linalg.norm(r)) / nv, -1.0)
            xe = center(x - 2 * a_ * r + a_ * a_ * v)
            lle, ge, de = f(xe, alpha)
            if np.isfinite(lle) and lle >= ll1:
                xs, (lls, gs, ds) = xe, (lle, ge, de)
        if lls is None:
            lls, gs, ds = f(xs, alpha)
        it += 1
        slow = slow + 1 if norm(gs) > 0.5 * gn else 0
        x, ll, g, d = xs, lls, gs, ds
        if slow >= 3:
            return x, it, False, ll, norm(g)
    return x, it, norm(g) < tol, ll, norm(g)


def _maximise(f: Objective, x0: np.ndarray, alpha: float, tol: float, max_iter: int
              ) -> tuple[np.ndarray, int, float, float]:
    """Diagonal Newton, then L-BFGS if it stalls: (theta with mean 0, iterations, loglik, gradient norm)."""
    x, iters, ok, ll, gnorm = _newton_diag(f, x0, alpha, tol, max_iter)
    if _TRACE is not None:
        _TRACE.append({"stride": f.stride, "members": f.ev.n_measurements // f.stride, "newton_iterations": iters,
                       "converged": ok})
    if not ok:
        from scipy.optimize import minimize  # only when Newton stalls (its import costs ~0.1 s)

        def negative(v: np.ndarray) -> tuple[float, np.ndarray]:
            ll, grad, _ = f(v, alpha)
            return -ll / f.scale, -grad / f.scale

        res = minimize(negative, x, jac=True, method="L-BFGS-B",
                       options={"maxiter": max_iter, "gtol": tol, "ftol": 1e-15, "maxcor": 20})
        iters += int(res.nit)
        x = res.x - res.x.mean()
        ll, grad, _ = f(x, alpha)
        gnorm = float(np.abs(grad).max() / f.scale)
    return x - x.mean(), iters, ll, gnorm


def fit_pl(ev: Evidence, *, alpha: float = 0.01, tol: float = 1e-7, max_iter: int = 1000,
           init: np.ndarray | None = None, warm_start: bool = True, direction: str = "both") -> PLFit:
    """Maximise the penalised PL log-likelihood (module docstring); returns theta (mean zero).

    Diagonal-Newton iterations (each one compiled pass over the ballots, both readings at once),
    L-BFGS if they stall. With many ballots the fit starts from a fit on every 10th ballot
    (prior alpha/10, tolerance 10x looser), which reads the same arrays with a stride.
    """
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}, got {direction!r}")
    n = ev.n_models
    x0 = np.zeros(n) if init is None else np.asarray(init, np.float64).copy()
    f = Objective(ev, direction)
    if f.n_stage == 0:
        return PLFit(np.zeros(n), 0.0, 0, True, 0.0, direction, alpha, ev, wins=f.wins, losses=f.wins_rev)
    iters = 0
    if init is None and warm_start and ev.n_samples >= WARM_START_MIN_BALLOTS:
        x0, iters, _, _ = _maximise(Objective(ev, direction, stride=10), x0, alpha / 10, tol * 10, max_iter)
    theta, it, ll, gnorm = _maximise(f, x0, alpha, tol, max_iter)
    return PLFit(theta, ll, iters + it, gnorm < 10 * tol, gnorm, direction, alpha, ev,
                 blocks=None if f.compiled else f.blocks, wins=f.wins, losses=f.wins_rev)  # the intervals reuse the fit's blocks
