"""Social-choice rules over ballots: Borda, Copeland, Schulze, ranked pairs, Kemeny-Young, MTEB Borda.

All pairwise rules start from the majority matrix `N[i, j]` = number of voters (ballots) that put
`i` strictly above `j` (`pairs.pair_counts`); a voter who measured only some models says nothing
about the others (truncated ballots), and ties say nothing either way. Each function returns one
score per model, higher = better.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np


def borda_scores(above: np.ndarray, tied: np.ndarray) -> np.ndarray:
    """Borda: each voter gives a model one point per model it ranks below it, half per tie.

    For complete strict ballots this is the classical count (n-1 points for first, ..., 0 for last).
    """
    return above.sum(axis=1) + 0.5 * tied.sum(axis=1)


def copeland_scores(above: np.ndarray) -> np.ndarray:
    """Copeland: pairwise majority wins + 1/2 per majority tie (including never-compared pairs)."""
    n = above.shape[0]
    win = (above > above.T).sum(axis=1)
    tie = (above == above.T).sum(axis=1) - 1  # minus the diagonal
    return win + 0.5 * tie if n else np.zeros(0)


def schulze_paths(above: np.ndarray, strength: str = "margin") -> np.ndarray:
    """Strongest-path strengths p[i, j] by Floyd-Warshall on the widest path.

    A link i -> j exists when a majority prefers i; its strength is the margin N_ij - N_ji
    (`strength="margin"`, as pref_voting's beat_path) or the winning votes N_ij (`"winning"`,
    Schulze's own recommendation). They agree on complete strict ballots.
    """
    if strength not in ("margin", "winning"):
        raise ValueError(f"strength must be margin or winning, got {strength!r}")
    link = above - above.T if strength == "margin" else above
    d = np.where(above > above.T, link, 0.0).astype(np.float64)
    np.fill_diagonal(d, 0.0)
    p = d.copy()
    n = p.shape[0]
    for k in range(n):
        p = np.maximum(p, np.minimum(p[:, k : k + 1], p[k : k + 1, :]))
        np.fill_diagonal(p, 0.0)
    return p


def schulze_scores(above: np.ndarray, strength: str = "margin") -> np.ndarray:
    """Schulze: (n - 1) minus the number of models that beat the model by strongest path.

    i beats j when p[i, j] > p[j, i] (a transitive relation); the Schulze winners — the models
    nobody beats — get the top score n - 1, and a model beaten by more models ranks lower.
    """
    p = schulze_paths(above, strength)
    n = p.shape[0]
    return (n - 1 - (p < p.T).sum(axis=1)).astype(np.float64)


def ranked_pairs_scores(above: np.ndarray) -> np.ndarray:
    """Ranked pairs (Tideman): lock majorities by decreasing margin unless they close a cycle.

    Equal margins are taken in index order (a fixed tie-break). Score = (n - 1) minus the number
    of models above the model in the locked graph (its ancestors): the winners are its sources.
    """
    n = above.shape[0]
    margin = above - above.T
    ii, jj = np.nonzero(margin > 0)
    order = np.lexsort((jj, ii, -margin[ii, jj]))
    reach = np.eye(n, dtype=bool)  # reach[a, b]: a reaches b in the locked graph
    for k in order:
        a, b = int(ii[k]), int(jj[k])
        if reach[b, a]:
            continue  # would create a cycle
        # lock a -> b: everything reaching a now reaches everything b reaches
        reach |= np.outer(reach[:, a], reach[b, :])
    return (n - reach.sum(axis=0)).astype(np.float64)


@dataclass
class KemenyResult:
    order: list[int]
    agreement: float
    upper_bound: float
    exact: bool
    method: str
    optimal_orders: int | None = None  # how many orders reach the optimum, when counted (exhaustive search)
    position: np.ndarray | None = None  # per candidate: the best position it holds in an optimal order


EXHAUSTIVE_LIMIT = 16  # candidates up to which every optimal order is found (2^n subsets x n: 0.3 s at 16)


def kemeny_agreement(above: np.ndarray, order: list[int]) -> float:
    """Voter-pair agreements sum_{i before j} N[i, j] of a linear order (Kemeny maximises it)."""
    pos = np.empty(len(order), np.int64)
    pos[np.asarray(order)] = np.arange(len(order))
    return float(above[pos[:, None] < pos[None, :]].sum())


def kemeny(above: np.ndarray, *, exact_limit: int = 30, time_limit: float = 60.0) -> KemenyResult:
    """Kemeny-Young: the linear order maximising agreement with the voters' pairwise preferences.

    Several orders can be optimal (always, when voters are indifferent). Every candidate gets the
    best position it holds in any optimal order (`position`), so every candidate that leads some
    optimal order is first (the winner set of pref_voting's `kemeny_young`).

    * n <= EXHAUSTIVE_LIMIT (and <= exact_limit): dynamic programming over subsets. Placing
      candidate i right below the set S of candidates already placed adds sum_{j not in S + i}
      N[i, j], so f(S + i) = max_i f(S) + gain(S, i) gives the optimum f(all), a count of the
      orders reaching it, and (with the best completion g(S)) every optimal transition S -> S + i,
      i.e. every position each candidate takes in some optimal order. O(2^n n^2).
    * n <= exact_limit: an integer programme solved by `scipy.optimize.milp` (HiGHS) over
      x_ij in {0,1} (i above j) for i < j, with the 3-cycle constraints 0 <= x_ij + x_jk - x_ik <= 1
      for i < j < k, which make x a linear order; HiGHS proves optimality (gap 0). Other optimal
      orders are not enumerated: neighbours with a zero margin (swapping them keeps the optimum)
      share a position.
    * beyond: a heuristic (Copeland/Borda start, then best-insertion local search) that reports
      the bound sum_{i<j} max(N_ij, N_ji), so the gap to the optimum is known.
    """
    n = above.shape[0]
    bound = float(np.maximum(above, above.T)[np.triu_indices(n, 1)].sum())
    if n <= 1:
        return KemenyResult(list(range(n)), 0.0, bound, True, "trivial", 1, np.zeros(n, np.int64))
    if n <= min(exact_limit, EXHAUSTIVE_LIMIT):
        return _kemeny_exhaustive(above, bound)
    if n <= exact_limit:
        res = _kemeny_milp(above, time_limit)
        if res is not None:
            res.position = _neighbour_positions(above, res.order)
            return res
    order = _kemeny_local_search(above)
    return KemenyResult(order, kemeny_agreement(above, order), bound, False, "local-search",
                        position=_neighbour_positions(above, order))


def _neighbour_positions(above: np.ndarray, order: list[int]) -> np.ndarray:
    """Positions in `order`, a run of neighbours with zero margins sharing its first position."""
    pos = np.empty(len(order), np.int64)
    head = 0
    for p, c in enumerate(order):
        if p and above[order[p - 1], c] != above[c, order[p - 1]]:
            head = p
        pos[c] = head
    return pos


def _kemeny_exhaustive(above: np.ndarray, bound: float) -> KemenyResult:
    n = above.shape[0]
    size = 1 << n
    members = (np.arange(size)[:, None] >> np.arange(n)) & 1
    # gain[S, i]: agreements won by placing i right below S (i above every candidate not yet placed)
    gain = (above.sum(axis=1) - np.diag(above))[None, :] - members @ above.T
    gain = gain.tolist()
    bits = [1 << i for i in range(n)]
    f = [-np.inf] * size
    count = [0] * size
    f[0], count[0] = 0.0, 1
    tol = 1e-9 * max(1.0, float(above.sum()))
    for S in range(size):
        fs, gs = f[S], gain[S]
        for i in range(n):
            if not S & bits[i]:
                T, v = S | bits[i], fs + gs[i]
                if v > f[T] + tol:
                    f[T], count[T] = v, count[S]
                elif v >= f[T] - tol:
                    count[T] += count[S]
    best = f[size - 1]
    g = [0.0] * size  # best completion from S
    for S in range(size - 2, -1, -1):
        gs = gain[S]
        g[S] = max(gs[i] + g[S | bits[i]] for i in range(n) if not S & bits[i])
    position = np.full(n, n, np.int64)
    for S in range(size - 1):
        if f[S] + g[S] < best - tol:
            continue  # not on an optimal order
        depth = S.bit_count()
        gs = gain[S]
        for i in range(n):
            if not S & bits[i] and depth < position[i] and f[S] + gs[i] + g[S | bits[i]] >= best - tol:
                position[i] = depth
    order, S = [], 0
    for _ in range(n):  # one optimal order: follow optimal transitions, lowest index first
        i = next(i for i in range(n) if not S & bits[i] and f[S] + gain[S][i] + g[S | bits[i]] >= best - tol)
        order.append(i)
        S |= bits[i]
    return KemenyResult(order, kemeny_agreement(above, order), kemeny_agreement(above, order), True, "exhaustive",
                        count[size - 1], position)


def _kemeny_milp(above: np.ndarray, time_limit: float) -> KemenyResult | None:
    import scipy.sparse as sp
    from scipy.optimize import Bounds, LinearConstraint, milp

    n = above.shape[0]
    iu, ju = np.triu_indices(n, 1)
    var = -np.ones((n, n), np.int64)
    var[iu, ju] = np.arange(iu.size)
    # maximise sum_{i<j} N_ij x_ij + N_ji (1 - x_ij)  ->  minimise -(N_ij - N_ji) x_ij
    c = -(above[iu, ju] - above[ju, iu])
    triples = np.array(list(itertools.combinations(range(n), 3)), np.int64).reshape(-1, 3)
    constraints = []
    if triples.size:
        t = triples.shape[0]
        rows = np.repeat(np.arange(t), 3)
        cols = np.stack([var[triples[:, 0], triples[:, 1]], var[triples[:, 1], triples[:, 2]],
                         var[triples[:, 0], triples[:, 2]]], axis=1).ravel()
        vals = np.tile([1.0, 1.0, -1.0], t)
        A = sp.csr_matrix((vals, (rows, cols)), shape=(t, iu.size))
        constraints.append(LinearConstraint(A, 0.0, 1.0))
    res = milp(c, constraints=constraints, integrality=np.ones(iu.size), bounds=Bounds(0, 1),
               options={"time_limit": time_limit, "mip_rel_gap": 0.0})
    if res.x is None:
        return None
    x = np.round(res.x).astype(int)
    beats = np.zeros((n, n), bool)
    beats[iu, ju] = x == 1
    beats[ju, iu] = x == 0
    order = [int(i) for i in np.argsort(-beats.sum(axis=1), kind="stable")]
    agreement = kemeny_agreement(above, order)
    exact = res.status == 0
    return KemenyResult(order, agreement, agreement if exact else
                        float(np.maximum(above, above.T)[iu, ju].sum()), exact, "milp")


def _kemeny_local_search(above: np.ndarray, max_rounds: int = 200) -> list[int]:
    n = above.shape[0]
    start = np.lexsort((-borda_scores(above, np.zeros_like(above)), -copeland_scores(above)))
    order = [int(i) for i in start]
    margin = above - above.T
    for _ in range(max_rounds):
        improved = False
        for pos in range(n):
            item = order[pos]
            rest = order[:pos] + order[pos + 1 :]
            # gain of placing item at each slot q of rest: sum over items before it of margin[x, item] ...
            m = margin[item, rest]  # positive: item should be above
            # agreement change relative to putting item at the very end: items after item contribute m
            suffix = np.concatenate([np.cumsum(m[::-1])[::-1], [0.0]])
            best = int(np.argmax(suffix))
            if suffix[best] > suffix[pos] + 1e-12:
                order = rest[:best] + [item] + rest[best:]
                improved = True
        if not improved:
            break
    return order


def kemeny_scores(above: np.ndarray, present: np.ndarray | None = None, **kw) -> tuple[np.ndarray, KemenyResult]:
    """Scores n - best position (n = first) over the `present` candidates (default all); absent
    ones (no data: they would make every order co-optimal) are left out and score NaN."""
    n = above.shape[0]
    idx = np.arange(n) if present is None else np.flatnonzero(present)
    res = kemeny(above[np.ix_(idx, idx)], **kw)
    res.order = [int(idx[i]) for i in res.order]
    scores = np.full(n, np.nan)
    scores[idx] = idx.size - res.position
    return scores, res


def brute_force_kemeny(above: np.ndarray) -> float:
    """Best agreement over all n! orders (for tests, n <= 8)."""
    n = above.shape[0]
    return max(kemeny_agreement(above, list(p)) for p in itertools.permutations(range(n)))


def borda_mteb_scores(task_scores: np.ndarray, n_models: int | None = None) -> np.ndarray:
    """MTEB leaderboard Borda: per task n_models - rank (rank = average rank, higher score first,
    among models with the task); a missing task gives 0 points; sum over tasks.

    `task_scores` is (tasks x models), NaN = missing; `n_models` defaults to the models with any
    score (the MTEB leaderboard passes the rows of its summary table: models with at least one
    complete task, see `aggregators.baselines.task_complete`).
    """
    from scipy.stats import rankdata

    if n_models is None:
        n_models = int((~np.all(np.isnan(task_scores), axis=0)).sum())
    points = np.zeros(task_scores.shape[1])
    for row in task_scores:
        ok = ~np.isnan(row)
        if not ok.any():
            continue
        r = rankdata(-row[ok], method="average")
        points[ok] += n_models - r
    return points
