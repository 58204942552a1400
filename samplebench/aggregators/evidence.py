"""Evidence: per-sample partial orders (ballots) plus explicit pairwise judgements, as flat arrays.

A *ballot* is one voter's partial order. By default each sample (one `(task, metric, sample_id,
group)` cell set) is a voter: the models measured on it are ordered by value, best first, and
models with equal values share a *level* (a tie). Direction comes from the metric's
`higher_is_better`, so `-value` is used for lower-is-better metrics; scales of different metrics
never mix (each ballot holds one metric of one task).

Storage is CSR-like and vectorised (no Python object per sample):

* `offsets[s]:offsets[s+1]` are the members of ballot `s`, sorted by level (0 = best);
* `member_model[i]` the model index, `member_level[i]` its level inside the ballot (dense rank),
  `member_value[i]` the raw measured value;
* `sample_task`, `sample_metric`, `sample_group` index `tasks`, `metrics`, `groups` (-1 = none).

Ballots are built chunk by chunk (one task of the store, one shard, one block of a simulation) by
`EvidenceBuilder`, which keeps only these compact arrays: the sufficient statistics for every
method here are functions of the ballots, so a store bigger than memory reduces to int32 arrays
of one entry per measurement, and the chunks can be built in parallel (e.g. on Ray) and
concatenated.

Explicit pairwise judgements (arena battles, LLM-as-judge) live in `pair_a`, `pair_b`,
`pair_outcome` (1 = a won, 0 = b won, 0.5 = tie) and `pair_task`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pyarrow as pa

from .._arrow import numpy_values
from ..errors import SampleBenchError

_EMPTY_I = np.zeros(0, np.int32)
_EMPTY_F = np.zeros(0, np.float64)


@dataclass
class Evidence:
    """Ballots and pairwise judgements over `models` (see the module docstring for the layout)."""

    models: list[str]
    offsets: np.ndarray = field(default_factory=lambda: np.zeros(1, np.int64))
    member_model: np.ndarray = field(default_factory=lambda: _EMPTY_I)
    member_level: np.ndarray = field(default_factory=lambda: _EMPTY_I)
    member_value: np.ndarray = field(default_factory=lambda: _EMPTY_F)
    sample_task: np.ndarray = field(default_factory=lambda: _EMPTY_I)
    sample_metric: np.ndarray = field(default_factory=lambda: _EMPTY_I)
    sample_group: np.ndarray = field(default_factory=lambda: _EMPTY_I)
    tasks: list[str] = field(default_factory=list)
    metrics: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    higher_is_better: dict[tuple[str, str], bool] = field(default_factory=dict)
    pair_a: np.ndarray = field(default_factory=lambda: _EMPTY_I)
    pair_b: np.ndarray = field(default_factory=lambda: _EMPTY_I)
    pair_outcome: np.ndarray = field(default_factory=lambda: _EMPTY_F)
    pair_task: np.ndarray = field(default_factory=lambda: _EMPTY_I)
    notes: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    # -- sizes -------------------------------------------------------------------------------
    @property
    def n_models(self) -> int:
        return len(self.models)

    @property
    def n_samples(self) -> int:
        return len(self.offsets) - 1

    @property
    def n_measurements(self) -> int:
        return int(self.member_model.size)

    @property
    def n_pairs(self) -> int:
        return int(self.pair_a.size)

    def sizes(self) -> np.ndarray:
        """Members per ballot."""
        return np.diff(self.offsets)

    def largest_ballot(self) -> int:
        """Members of the largest ballot (0 without ballots)."""
        return int(self.sizes().max()) if self.n_samples else 0

    def member_sample(self) -> np.ndarray:
        """Ballot index of every member."""
        return np.repeat(np.arange(self.n_samples, dtype=np.int64), self.sizes())

    def n_levels(self) -> np.ndarray:
        """Distinct levels per ballot (1 for an all-tied or single-member ballot)."""
        if self.n_samples == 0:
            return np.zeros(0, np.int64)
        last = self.offsets[1:] - 1
        out = np.zeros(self.n_samples, np.int64)
        nonempty = self.sizes() > 0
        out[nonempty] = self.member_level[last[nonempty]].astype(np.int64) + 1
        return out

    def oriented_values(self) -> np.ndarray:
        """`member_value` flipped for lower-is-better metrics, so higher is always better."""
        sign = self.sample_sign()
        return self.member_value * np.repeat(sign, self.sizes())

    def sample_sign(self) -> np.ndarray:
        signs = np.array(
            [1.0 if self.higher_is_better.get((t, m), True) else -1.0 for t in self.tasks for m in self.metrics]
        ).reshape(max(len(self.tasks), 1), max(len(self.metrics), 1)) if self.tasks and self.metrics else None
        if signs is None or self.n_samples == 0:
            return np.ones(self.n_samples)
        return signs[self.sample_task, self.sample_metric]

    # -- per-model counts --------------------------------------------------------------------
    def samples_per_model(self) -> np.ndarray:
        """Ballots each model appears in plus explicit judgements it took part in."""
        return self._memberships()[0] + self._pair_counts()

    def comparisons_per_model(self) -> np.ndarray:
        """Pairs each model takes part in: co-members of its ballots plus explicit battles."""
        return self._memberships()[1] + self._pair_counts()

    def model_counts(self) -> tuple[np.ndarray, np.ndarray]:
        """(`samples_per_model()`, `comparisons_per_model()`) in one pass over the members."""
        n_in, others = self._memberships()
        pairs = self._pair_counts()
        return n_in + pairs, others + pairs

    def _memberships(self) -> tuple[np.ndarray, np.ndarray]:
        """(ballots each model is in, co-members summed over them)."""
        from . import compiled

        if compiled.wanted(self.n_measurements):
            return compiled.call("membership_counts", self.offsets, self.member_model, self.n_models)
        sizes = self.sizes()
        n_in = np.bincount(self.member_model, minlength=self.n_models)
        others = np.bincount(self.member_model, weights=np.repeat(sizes - 1, sizes), minlength=self.n_models)
        return n_in.astype(np.int64), others.astype(np.int64)

    def _pair_counts(self) -> np.ndarray:
        n = self.n_models
        return (np.bincount(self.pair_a, minlength=n) + np.bincount(self.pair_b, minlength=n)).astype(np.int64)

    # -- subsets -----------------------------------------------------------------------------
    def take_samples(self, idx: np.ndarray, *, keep_pairs: np.ndarray | None = None) -> Evidence:
        """A new Evidence with ballots `idx` (repeats allowed: bootstrap) and pairs `keep_pairs`."""
        idx = np.asarray(idx, np.int64)
        sizes = self.sizes()[idx]
        starts = self.offsets[:-1][idx]
        offsets = np.zeros(idx.size + 1, np.int64)
        np.cumsum(sizes, out=offsets[1:])
        gather = np.repeat(starts - offsets[:-1], sizes) + np.arange(offsets[-1], dtype=np.int64)
        pairs = np.arange(self.n_pairs) if keep_pairs is None else np.asarray(keep_pairs, np.int64)
        return replace(
            self,
            offsets=offsets,
            member_model=self.member_model[gather],
            member_level=self.member_level[gather],
            member_value=self.member_value[gather],
            sample_task=self.sample_task[idx],
            sample_metric=self.sample_metric[idx],
            sample_group=self.sample_group[idx],
            pair_a=self.pair_a[pairs],
            pair_b=self.pair_b[pairs],
            pair_outcome=self.pair_outcome[pairs],
            pair_task=self.pair_task[pairs],
            notes=list(self.notes),
        )

    def select_tasks(self, task_idx: Iterable[int]) -> Evidence:
        keep = np.asarray(list(task_idx), np.int64)
        return self.take_samples(
            np.flatnonzero(np.isin(self.sample_task, keep)), keep_pairs=np.flatnonzero(np.isin(self.pair_task, keep))
        )

    def select_groups(self, group_idx: Iterable[int]) -> Evidence:
        keep = np.asarray(list(group_idx), np.int64)
        return self.take_samples(np.flatnonzero(np.isin(self.sample_group, keep)), keep_pairs=np.zeros(0, np.int64))

    def restrict_models(self, keep: Sequence[str]) -> Evidence:
        """Drop every model not in `keep` (ballots are re-levelled; empty ballots removed)."""
        index = {m: i for i, m in enumerate(self.models)}
        mask_models = np.zeros(self.n_models, bool)
        mask_models[[index[m] for m in keep if m in index]] = True
        new_index = np.full(self.n_models, -1, np.int64)
        kept = np.flatnonzero(mask_models)
        new_index[kept] = np.arange(kept.size)
        b = EvidenceBuilder([self.models[i] for i in kept], tasks=self.tasks, metrics=self.metrics, groups=self.groups,
                            higher_is_better=self.higher_is_better)
        ms = self.member_sample()
        sel = mask_models[self.member_model]
        b.add_ballots(ms[sel], new_index[self.member_model[sel]], self.member_value[sel],
                      oriented=self.oriented_values()[sel], sample_task=self.sample_task,
                      sample_metric=self.sample_metric, sample_group=self.sample_group)
        psel = mask_models[self.pair_a] & mask_models[self.pair_b]
        b.add_pairs(new_index[self.pair_a[psel]], new_index[self.pair_b[psel]], self.pair_outcome[psel],
                    self.pair_task[psel])
        out = b.build()
        out.notes = list(self.notes)
        return out

    def summary(self) -> dict[str, Any]:
        return {
            "models": self.n_models,
            "tasks": len(self.tasks),
            "ballots": self.n_samples,
            "measurements": self.n_measurements,
            "pairwise_judgements": self.n_pairs,
        }


def _densify(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`np.unique(codes, return_inverse=True)`, in O(n) with a bincount when the integer codes
    span a range not much larger than their number (dictionary codes of a store scan)."""
    codes = np.asarray(codes)
    if codes.size and codes.dtype.kind in "iu":
        lo, hi = int(codes.min()), int(codes.max())
        if lo >= 0 and hi < 4 * codes.size + 1024:
            present = np.bincount(codes, minlength=hi + 1) > 0
            if lo == 0 and present.all():  # already dense: no copy
                return np.arange(hi + 1), codes
            remap = np.cumsum(present) - 1
            return np.flatnonzero(present), remap[codes]
    return np.unique(codes, return_inverse=True)


def group_order(code: np.ndarray) -> np.ndarray:
    """The stable permutation that groups `code` (non-negative integers below 2**31): one
    `np.sort` of `code << b | position` (b = bits of the length), several times faster than a
    stable argsort, whose ties the position breaks. Larger inputs: a stable argsort."""
    n = code.size
    bits = max(int(n).bit_length(), 1)
    top = int(code.max()) if n else 0
    if n == 0 or top.bit_length() + bits > 62:
        return np.argsort(code, kind="stable")
    key = code.astype(np.int64) << bits
    key |= np.arange(n, dtype=np.int64)
    key.sort()
    key &= (1 << bits) - 1
    return key


def _sort_within(starts: np.ndarray, key: np.ndarray) -> np.ndarray:
    """For members grouped by ballot (`starts`: ballot offsets), the stable permutation that
    sorts each ballot by `key` descending. Ballots of one size are stacked as the rows of a
    matrix and sorted row by row (`np.argsort(axis=1)`): no global sort, no Python loop over
    ballots, no padding; blocks of rows bound the memory."""
    counts = np.diff(starts)
    out = np.empty(key.size, np.int64)
    by_size = np.argsort(counts, kind="stable")
    sizes = counts[by_size]
    edges = np.r_[0, np.flatnonzero(sizes[1:] != sizes[:-1]) + 1, sizes.size]
    for lo, hi in zip(edges[:-1].tolist(), edges[1:].tolist(), strict=True):
        w = int(sizes[lo])
        if w == 0:
            continue
        step = max(1, (1 << 22) // w)
        cols = np.arange(w)
        for a in range(lo, hi, step):
            st = starts[by_size[a:min(a + step, hi)]]
            src = st[:, None] + cols[None, :]
            if w == 1:
                out[src] = src
                continue
            k = key[src]
            np.negative(k, out=k)
            by_row = np.argsort(k, axis=1, kind="stable")
            by_row += st[:, None]
            out[src] = by_row
    return out


def _width(size: np.ndarray) -> np.ndarray:
    """Padded width for ballots of `size` members: the size itself up to 16, then rounded up to
    8 widths per doubling (padding at most 1/8 of a row)."""
    size = np.asarray(size, np.int64)
    step = np.maximum(1, 1 << np.maximum(np.frexp(np.maximum(size, 1).astype(np.float64))[1] - 4, 0))
    return -(-size // step) * step


def ballot_levels(starts: np.ndarray, oriented: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For members grouped by ballot (`starts`: ballot offsets), `(within, level)`: the stable
    permutation that sorts each ballot by value, best first (tied members keep their order),
    and each member's dense level in that order (0 = best; equal values share a level). In
    numpy by padded rows of similar size (`_sort_within`), for large inputs by a compiled kernel."""
    from . import compiled

    if compiled.wanted(oriented.size):
        return compiled.call("segment_levels", starts, np.ascontiguousarray(oriented, np.float64))
    within = _sort_within(starts, oriented)
    v = oriented[within]
    new_level = np.ones(v.size, bool)
    np.not_equal(v[1:], v[:-1], out=new_level[1:])
    del v
    counts = np.diff(starts)
    filled = counts > 0
    firsts = starts[:-1][filled]
    new_level[firsts] = True
    level = np.cumsum(new_level, dtype=np.int32)  # levels numbered across ballots, then made per ballot
    level -= np.repeat(level[firsts], counts[filled])
    return within, level


def rank_levels(sample_code: np.ndarray, oriented: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sort members by (sample, value desc) and give each its dense level inside the sample.

    `sample_code` holds dense codes 0..n-1. Returns `(order, sample_sorted, level)`; `order` is
    the permutation applied to the inputs, stable (tied members keep their input order). Equal
    values share a level (a tie). Members not already grouped by sample are grouped first
    (`group_order`), then each ballot is sorted on its own (`ballot_levels`).
    """
    sample_code = np.asarray(sample_code)
    if sample_code.size == 0:
        return np.zeros(0, np.int64), sample_code, np.zeros(0, np.int32)
    by_sample = None if not np.any(sample_code[1:] < sample_code[:-1]) else group_order(sample_code)
    s = sample_code if by_sample is None else sample_code[by_sample]
    starts = np.zeros(int(s[-1]) + 2, np.int64)
    np.cumsum(np.bincount(s), out=starts[1:])
    within, level = ballot_levels(starts, oriented if by_sample is None else oriented[by_sample])
    return (within if by_sample is None else by_sample[within]), s, level


class EvidenceBuilder:
    """Accumulates ballots chunk by chunk and concatenates them once in `build()`.

    A chunk must contain every measurement of the samples it mentions (a sample never spans two
    chunks): one task of a store, one block of samples of a simulation.
    """

    def __init__(self, models: Sequence[str] = (), *, tasks: Sequence[str] = (), metrics: Sequence[str] = (),
                 groups: Sequence[str] = (), higher_is_better: dict[tuple[str, str], bool] | None = None) -> None:
        self.models = list(models)
        self.tasks = list(tasks)
        self.metrics = list(metrics)
        self.groups = list(groups)
        self._mi = {m: i for i, m in enumerate(self.models)}
        self._ti = {t: i for i, t in enumerate(self.tasks)}
        self._ki = {m: i for i, m in enumerate(self.metrics)}
        self._gi = {g: i for i, g in enumerate(self.groups)}
        self.higher_is_better = dict(higher_is_better or {})
        self._chunks: list[tuple[np.ndarray, ...]] = []
        self._pairs: list[tuple[np.ndarray, ...]] = []
        self._n_samples = 0
        self.notes: list[str] = []

    # -- vocabularies ------------------------------------------------------------------------
    def model_index(self, name: str) -> int:
        if name not in self._mi:
            self._mi[name] = len(self.models)
            self.models.append(name)
        return self._mi[name]

    def _index(self, vocab: dict[str, int], names: list[str], name: str) -> int:
        if name not in vocab:
            vocab[name] = len(names)
            names.append(name)
        return vocab[name]

    def task_index(self, name: str) -> int:
        return self._index(self._ti, self.tasks, name)

    def metric_index(self, name: str) -> int:
        return self._index(self._ki, self.metrics, name)

    def group_index(self, name: str) -> int:
        return self._index(self._gi, self.groups, name)

    # -- adding data -------------------------------------------------------------------------
    def add_ballots(
        self,
        sample_code: np.ndarray,
        model_code: np.ndarray,
        value: np.ndarray,
        *,
        oriented: np.ndarray | None = None,
        sample_task: np.ndarray | int = 0,
        sample_metric: np.ndarray | int = 0,
        sample_group: np.ndarray | int = -1,
    ) -> int:
        """Add measurements given as parallel arrays; `sample_code` is local to this chunk.

        `oriented` (default `value`) is what is ranked, higher = better. `sample_task` etc. are a
        scalar or an array indexed by `sample_code`. Returns the number of ballots added.
        """
        sample_code = np.asarray(sample_code)

        def per_sample(x: np.ndarray | int):
            return x if np.isscalar(x) else np.asarray(x, np.int32)

        attrs = [per_sample(sample_task), per_sample(sample_metric), per_sample(sample_group)]
        return self._add_rows(sample_code, model_code, value, oriented, attrs, by_code=True)

    def _add_rows(self, key: np.ndarray, model_code: np.ndarray, value: np.ndarray, oriented: np.ndarray | None,
                  attrs: list, *, by_code: bool = False) -> int:
        """Add rows whose equal `key`s form one ballot; `attrs` = [task, metric, group], each a
        scalar or an array per row (`by_code`: per key value); the list is emptied once read so
        the per-row arrays can go before the sort. Grouped input (non-decreasing keys: a file or
        shard written sample by sample) is neither re-coded nor re-ordered."""
        value = np.asarray(value, np.float64)
        oriented = value if oriented is None else np.asarray(oriented, np.float64)
        ok = ~np.isnan(oriented)
        if not ok.all():
            key, model_code, value, oriented = key[ok], np.asarray(model_code)[ok], value[ok], oriented[ok]
            if not by_code:
                attrs[:] = [a if np.isscalar(a) else a[ok] for a in attrs]
        del ok
        n = key.size
        if n == 0:
            attrs.clear()
            return 0
        if not np.any(key[1:] < key[:-1]):  # grouped: each ballot is one run, in key order
            perm = None
            change = np.ones(n, bool)
            np.not_equal(key[1:], key[:-1], out=change[1:])
            first = np.flatnonzero(change)
            del change
            starts = np.append(first, n)
        else:
            uniq, dense = _densify(key)
            perm = group_order(dense)
            starts = np.zeros(uniq.size + 1, np.int64)
            np.cumsum(np.bincount(dense, minlength=uniq.size), out=starts[1:])
            del uniq, dense
            first = perm[starts[:-1]]  # a row of each ballot
        where = key[first] if by_code else first
        ballot_attrs = [a if np.isscalar(a) else a[where] for a in attrs]
        attrs.clear()
        within, level = ballot_levels(starts, oriented if perm is None else oriented[perm])
        order = within if perm is None else perm[within]
        del within, perm
        return self._append(np.diff(starts), np.asarray(model_code, np.int32)[order], level, value[order],
                            *ballot_attrs)

    def add_matrix(self, values: np.ndarray, *, higher_is_better: bool = True, sample_task: int = 0,
                   sample_metric: int = 0) -> int:
        """Add the ballots of a (samples x models) array, NaN = not measured, columns in model
        order (simulations, ONEBench-style matrices); a large one in one compiled pass with no
        long table."""
        from . import compiled

        values = np.ascontiguousarray(values, np.float64)
        rows = values[:: max(values.shape[0] // 4096, 1)]  # the share measured, from <= ~4k rows
        if not compiled.wanted(int(values.size * (1.0 - float(np.isnan(rows).mean())) if rows.size else 0)):
            s, m = np.nonzero(~np.isnan(values))
            v = values[s, m]
            return self.add_ballots(s, m, v, oriented=v if higher_is_better else -v, sample_task=sample_task,
                                    sample_metric=sample_metric)
        counts, model, level, value = compiled.call("dense_ballots", values, 1.0 if higher_is_better else -1.0)
        counts = counts[counts > 0]  # a row with no measurement is no ballot
        return self._append(counts, model, level, value, sample_task, sample_metric, -1)

    def _append(self, counts: np.ndarray, model: np.ndarray, level: np.ndarray, value: np.ndarray,
                task: np.ndarray | int, metric: np.ndarray | int, group: np.ndarray | int) -> int:
        """Append one chunk of ballots, members already ordered and levelled within each ballot."""
        n = counts.size

        def per_sample(x: np.ndarray | int) -> np.ndarray:
            return np.full(n, x, np.int32) if np.isscalar(x) else np.asarray(x, np.int32)

        self._chunks.append((counts.astype(np.int64), model, level, value, per_sample(task), per_sample(metric),
                             per_sample(group)))
        self._n_samples += n
        return n

    def add_pairs(self, a: np.ndarray, b: np.ndarray, outcome: np.ndarray, task: np.ndarray | int = 0) -> None:
        a = np.asarray(a, np.int32)
        if a.size == 0:
            return
        task_arr = np.full(a.size, task, np.int32) if np.isscalar(task) else np.asarray(task, np.int32)
        self._pairs.append((a, np.asarray(b, np.int32), np.asarray(outcome, np.float64), task_arr))

    def add_table(self, table: pa.Table, *, where: str = "input") -> int:
        """Add canonical measurement rows (model, task, sample_id, metric, value[, group]).

        Rows without a value (errors) are skipped and counted in `notes`. Directions come from
        `higher_is_better[(task, metric)]` (default: higher is better).
        """
        for col in ("model", "task", "sample_id", "metric", "value"):
            if col not in table.column_names:
                raise SampleBenchError(f"{where}: missing column '{col}'; measurements need model, task, sample_id, "
                                       "metric, value")
        n_err = table["value"].null_count
        if n_err:
            import pyarrow.compute as pc  # only here: its import costs ~50 ms

            self.notes.append(f"{where}: {n_err} measurement(s) without a value (errors) were left out")
            valid = pc.is_valid(table["value"])
            kept = set(pc.unique(table.filter(valid)["model"].cast(pa.string())).to_pylist())
            only_errors = sorted(set(pc.unique(table["model"].cast(pa.string())).to_pylist()) - kept - {None})
            for name in only_errors:  # kept in the vocabulary, so the fit names them as left out
                self.model_index(name)
            if only_errors:
                self.notes.append(f"{where}: model(s) with no value at all (every measurement an error): "
                                  f"{', '.join(only_errors)}")
            table = table.filter(valid)
        if table.num_rows == 0:
            return 0
        # Lean on purpose (a 50M-row file): int32 codes, the ballot key built in place, and every
        # per-row array released as soon as it is used.
        model = _codes(table["model"], self.model_index)
        task, task_own, n_t = _both_codes(table["task"], self.task_index, scalar_ok=True)
        metric, metric_own, n_k = _both_codes(table["metric"], self.metric_index, scalar_ok=True)
        if "group" in table.column_names:
            group, group_own, n_g = _both_codes(table["group"], self.group_index, null=-1, scalar_ok=True)
        else:
            group, group_own, n_g = None, None, 1
        # one ballot per (sample, task, metric, group), ordered by the table's own codes: the
        # order of ballots depends on this table only, not on the tables added before it. A
        # column with one value (one task, one metric) adds nothing to the key.
        key = _sample_codes(table["sample_id"])
        for own, n_own in ((task_own, n_t), (metric_own, n_k), (group_own, n_g)):
            if own is not None and own.size and int(own.min()) != int(own.max()):
                if key.dtype != np.int64 or not key.flags.writeable:
                    key = key.astype(np.int64)
                key *= n_own
                key += own
        del task_own, metric_own, group_own
        value = np.asarray(numpy_values(table["value"]), np.float64)
        sign_tk = np.array([[1.0 if self.higher_is_better.get((t, m), True) else -1.0 for m in self.metrics]
                            for t in self.tasks])
        oriented = value if (sign_tk == 1.0).all() else value * sign_tk[task, metric]
        attrs = [task, metric, -1 if group is None else group]
        del task, metric, group
        return self._add_rows(key, model, value, oriented, attrs)

    def add_pairwise_table(self, table: pa.Table) -> int:
        """Add canonical pairwise rows (task, model_a, model_b, winner in a|b|tie)."""
        if table.num_rows == 0:
            return 0
        a = _codes(table["model_a"], self.model_index)
        b = _codes(table["model_b"], self.model_index)
        task = _codes(table["task"], self.task_index)
        winner = np.asarray(table["winner"].cast(pa.string()).to_pylist(), dtype=object)
        outcome = np.where(winner == "a", 1.0, np.where(winner == "b", 0.0, 0.5))
        self.add_pairs(a, b, outcome, task)
        return table.num_rows

    def build(self) -> Evidence:
        """Concatenate the chunks (which are released: a builder builds once)."""
        if len(self._chunks) == 1:  # one chunk (a matrix, one task): its arrays as they are
            counts, mm, lv, vv, st, sm, sg = self._chunks.pop()
        elif self._chunks:
            cols = list(zip(*self._chunks, strict=True))
            self._chunks = []
            counts, mm, lv, vv, st, sm, sg = (np.concatenate(cols.pop(0)) for _ in range(7))
        else:
            counts, mm, lv, vv = np.zeros(0, np.int64), _EMPTY_I, _EMPTY_I, _EMPTY_F
            st = sm = sg = _EMPTY_I
        offsets = np.zeros(counts.size + 1, np.int64)
        np.cumsum(counts, out=offsets[1:])
        if self._pairs:
            pa_, pb_, po_, pt_ = (np.concatenate(parts) for parts in zip(*self._pairs, strict=True))
        else:
            pa_, pb_, po_, pt_ = _EMPTY_I, _EMPTY_I, _EMPTY_F, _EMPTY_I
        return Evidence(
            models=list(self.models), offsets=offsets, member_model=mm, member_level=lv, member_value=vv,
            sample_task=st, sample_metric=sm, sample_group=sg, tasks=list(self.tasks), metrics=list(self.metrics),
            groups=list(self.groups), higher_is_better=dict(self.higher_is_better),
            pair_a=pa_, pair_b=pb_, pair_outcome=po_, pair_task=pt_, notes=list(self.notes),
        )


def _sample_codes(col: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Integer codes of the sample ids (read-only): a dictionary column's own codes (its chunks'
    dictionaries unified, no string copied), else those of a fresh encoding (order of first
    appearance)."""
    if isinstance(col, pa.ChunkedArray) and pa.types.is_dictionary(col.type):
        col = col.unify_dictionaries().combine_chunks() if col.num_chunks != 1 else col.chunk(0)
    if not pa.types.is_dictionary(col.type):
        import pyarrow.compute as pc

        col = pc.dictionary_encode(col.cast(pa.string()))
        if isinstance(col, pa.ChunkedArray):
            col = col.combine_chunks()
    if col.indices.null_count:
        raise SampleBenchError("a measurement has an empty sample_id")
    return numpy_values(col.indices)  # read-only


def _codes(col: pa.ChunkedArray | pa.Array, index_of, null: int | None = None) -> np.ndarray:
    """Map a (possibly dictionary-encoded) string column to integer codes via `index_of(name)`."""
    return _both_codes(col, index_of, null)[0]


def _single_value(col: pa.ChunkedArray | pa.Array) -> str | None:
    """The one value of a dictionary-encoded column without nulls whose every chunk's dictionary
    holds that one value, else None (undecided: the caller reads the codes)."""
    chunks = col.chunks if isinstance(col, pa.ChunkedArray) else [col]
    if not chunks or not pa.types.is_dictionary(col.type) or col.null_count:
        return None
    values = {v for c in chunks for v in c.dictionary.to_pylist()}
    return str(values.pop()) if len(values) == 1 and all(len(c.dictionary) == 1 for c in chunks) else None


def _both_codes(col: pa.ChunkedArray | pa.Array, index_of, null: int | None = None, *, scalar_ok: bool = False
                ) -> tuple[np.ndarray, np.ndarray | None, int]:
    """(codes from `index_of(name)`, the table's own codes, how many own codes there can be).

    The own codes (dictionary indices; a null gets the last one) depend on this column alone,
    not on what a builder has seen before: ballots ordered by them come out the same whether a
    table is built alone or after others. With `scalar_ok`, a column holding one value and no
    null (one task, one metric) comes back as (its code, None, 1): no array over the rows."""
    single = _single_value(col) if scalar_ok else None
    if single is not None:
        return np.int32(index_of(single)), None, 1
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
    if not pa.types.is_dictionary(col.type):
        col = col.dictionary_encode()
    dictionary = col.dictionary.to_pylist()
    idx = col.indices
    if idx.null_count and null is None:
        raise SampleBenchError("a key column (model/task/metric) has an empty value")
    codes = numpy_values(idx, null=len(dictionary)).astype(np.int32, copy=False)
    used = np.bincount(codes, minlength=len(dictionary) + 1) > 0  # a shard's dictionary may hold more
    lookup = np.array([index_of(str(v)) if v is not None and used[i] else -1 for i, v in enumerate(dictionary)]
                      + [-1], np.int32)
    return lookup[codes], codes, len(dictionary) + 1


def evidence_from_matrix(values: np.ndarray, models: Sequence[str] | None = None, *, task: str = "task",
                         metric: str = "score", higher_is_better: bool = True) -> Evidence:
    """Ballots from a (samples x models) array with NaN for missing measurements (simulations)."""
    values = np.asarray(values, np.float64)
    n_s, n_m = values.shape
    models = list(models) if models is not None else [f"m{i:03d}" for i in range(n_m)]
    b = EvidenceBuilder(models, tasks=[task], metrics=[metric], higher_is_better={(task, metric): higher_is_better})
    b.add_matrix(values, higher_is_better=higher_is_better)
    return b.build()


def merge_evidence(parts: Sequence[Evidence], models: Sequence[str] = ()) -> Evidence:
    """Concatenate separately built Evidence (in order) into one, with one vocabulary of models,
    tasks, metrics and groups in order of first appearance: what one EvidenceBuilder fed the
    same tables in the same order builds. `models` fixes the first model indices."""
    b = EvidenceBuilder(models)
    for p in parts:
        to_model = np.array([b.model_index(m) for m in p.models] or [0], np.int32)
        to_task = np.array([b.task_index(t) for t in p.tasks] or [0], np.int32)
        to_metric = np.array([b.metric_index(m) for m in p.metrics] or [0], np.int32)
        to_group = np.array([b.group_index(g) for g in p.groups] + [-1], np.int32)  # -1 (no group) stays -1
        if p.n_samples:
            b._append(p.sizes(), to_model[p.member_model], p.member_level, p.member_value, to_task[p.sample_task],
                      to_metric[p.sample_metric], to_group[p.sample_group])
        if p.n_pairs:
            b.add_pairs(to_model[p.pair_a], to_model[p.pair_b], p.pair_outcome, to_task[p.pair_task])
        b.higher_is_better.update(p.higher_is_better)
        b.notes.extend(p.notes)
    return b.build()
