"""DICES-style tasks at the size of the real files (generated data in the published layouts).

Side by side on the same data in the same run:
* `load_dices` (CSV parse with line numbers + row checks + ground truth per item, group and
  2-way intersection) against `pandas.read_csv` of the same file (parse only: the floor);
* `krippendorff_alpha_nominal` against the `krippendorff` package (PyPI, peer) on the same
  ratings, which must give the same alpha;
* (slow) the whole path at DICES-990 size: load, diagnostics, and evaluation of the lexicon
  baseline over every item and group.

Run: pytest benchmarks/bench_dices.py -m "slow or not slow" -s
"""

from __future__ import annotations

import time

import numpy as np
import pytest
import yaml
from timing import best_of

from samplebench.registry import ModelSpec, TaskSpec, load_spec
from samplebench.tasks.dices_data import VOTES, load_dices
from samplebench.tasks.dices_generate import write_dices_csv
from samplebench.tasks.dices_metrics import krippendorff_alpha_nominal

SIZES = {"350": dict(n_items=350, n_raters=123), "990": dict(n_items=990, n_raters=173, raters_per_item=73)}
DEMOGRAPHICS = {"350": ["rater_gender", "rater_race", "rater_age", "rater_education"],
                "990": ["rater_gender", "rater_locale", "rater_race", "rater_age", "rater_education"]}


def _spec(folder, layout: str) -> TaskSpec:
    write_dices_csv(folder / f"d{layout}.csv", layout, seed=0, **SIZES[layout])
    data = {
        "name": f"gen-{layout}", "version": "1", "description": "generated", "type": "safety_rating",
        "dataset": {"path": f"./d{layout}.csv"},
        "columns": {"item_id": "item_id", "rater_id": "rater_id", "vote": "Q_overall", "context": "context",
                    "response": "response"},
        "raters": {"demographics": DEMOGRAPHICS[layout], "min_group_size": 5, "aggregation": "majority_ignore_unsure"},
        "metrics": [{"name": "agreement", "kind": "binary", "higher_is_better": True},
                    {"name": "cross_entropy", "kind": "continuous", "higher_is_better": False},
                    {"name": "brier", "kind": "continuous", "higher_is_better": False}],
        "main_metric": "cross_entropy",
    }
    (folder / f"gen-{layout}.yaml").write_text(yaml.safe_dump(data))
    return load_spec(TaskSpec, folder / f"gen-{layout}.yaml")


@pytest.fixture(scope="module")
def spec350(tmp_path_factory) -> TaskSpec:
    return _spec(tmp_path_factory.mktemp("dices350"), "350")


def test_load_350_size_beside_pandas(benchmark, spec350):
    import pandas as pd

    data = benchmark.pedantic(lambda: load_dices(spec350), rounds=3, iterations=1)
    ours = benchmark.stats.stats.min
    assert len(data.votes) == 350 * 123 and data.malformed.n_malformed == 0
    peer = best_of(lambda: pd.read_csv(spec350.resolved_dataset_path()))
    benchmark.extra_info.update(load_s=ours, pandas_read_csv_s=peer, ratio=ours / peer, truth_rows=len(data.truth))
    print(f"\nDICES-350 size ({len(data.votes):,} ratings, {len(data.truth):,} ground-truth rows): load_dices "
          f"{ours:.2f} s, pandas.read_csv {peer:.2f} s, ratio {ours / peer:.1f}")
    assert ours < 30


def test_alpha_beside_krippendorff_package(benchmark, spec350):
    kd = pytest.importorskip("krippendorff")
    votes = load_dices(spec350).votes
    units = votes["item_id"].astype("category").cat.codes.to_numpy()
    values = votes["vote"].map({v: i for i, v in enumerate(VOTES)}).to_numpy()
    raters = votes["rater_id"].astype("category").cat.codes.to_numpy()
    matrix = np.full((raters.max() + 1, units.max() + 1), np.nan)
    matrix[raters, units] = values
    ours_value = benchmark.pedantic(lambda: krippendorff_alpha_nominal(units, values), rounds=5, iterations=1)
    ours = benchmark.stats.stats.min
    peer = best_of(lambda: kd.alpha(reliability_data=matrix, level_of_measurement="nominal"))
    peer_value = kd.alpha(reliability_data=matrix, level_of_measurement="nominal")
    assert ours_value == pytest.approx(peer_value, abs=1e-10)
    benchmark.extra_info.update(alpha=ours_value, ours_s=ours, krippendorff_s=peer, ratio=ours / peer)
    print(f"\nalpha over {len(votes):,} ratings = {ours_value:.4f}: samplebench {ours * 1e3:.1f} ms, "
          f"krippendorff {peer * 1e3:.1f} ms, ratio {ours / peer:.2f}")


@pytest.mark.slow
def test_whole_path_at_990_size(tmp_path):
    from samplebench.runners.adapters import adapter_class
    from samplebench.tasks.base import evaluator_for
    from samplebench.tasks.dices_diagnostics import diagnose

    spec = _spec(tmp_path, "990")
    t0 = time.perf_counter()
    ev = evaluator_for(spec)
    data = ev.load()
    t1 = time.perf_counter()
    diag = diagnose(data, spec.name)
    t2 = time.perf_counter()
    model = adapter_class("safety-lexicon")(ModelSpec(name="lex", adapter="safety-lexicon"))
    results = list(ev.evaluate(model, data))
    t3 = time.perf_counter()
    assert len(results) == 3 * len(data.truth) and diag.contested
    print(f"\nDICES-990 size ({len(data.votes):,} ratings): load {t1 - t0:.2f} s, diagnostics {t2 - t1:.2f} s, "
          f"evaluate {len(results):,} rows {t3 - t2:.2f} s")
