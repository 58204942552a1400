"""`plural.kendall_tau` (written out to avoid importing scipy.stats) equals scipy's tau-b."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
from scipy.stats import kendalltau

from samplebench.aggregators.plural import kendall_tau


class _Ranks:
    """The one thing kendall_tau reads of a Ranking: model -> entry with a `.rank`."""

    def __init__(self, ranks: dict[str, float]):
        self._ranks = ranks

    def by_model(self):
        return {m: SimpleNamespace(rank=r) for m, r in self._ranks.items()}


@pytest.mark.parametrize("seed", range(200))
def test_equals_scipy_tau_b_with_ties_and_partial_overlap(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 30))
    models = [f"m{i}" for i in range(n)]
    # few distinct ranks -> many ties; each side may lack some models
    a = {m: float(rng.integers(1, 1 + int(rng.integers(1, n + 1)))) for m in models if rng.random() < 0.9}
    b = {m: float(rng.integers(1, 1 + int(rng.integers(1, n + 1)))) for m in models if rng.random() < 0.9}
    common = sorted(set(a) & set(b))
    got = kendall_tau(_Ranks(a), _Ranks(b))
    if len(common) < 2:
        assert math.isnan(got)
        return
    want = kendalltau([a[m] for m in common], [b[m] for m in common], variant="b").statistic
    if math.isnan(want):
        assert math.isnan(got)
    else:
        assert got == pytest.approx(want, abs=1e-12)
