"""Leaderboards through the selection layer: literal labels, legible plots at 400+ models,
all-or-nothing publishing, partial coverage on the page."""

from __future__ import annotations

import struct

import pytest

from samplebench.leaderboards import build_leaderboard
from samplebench.leaderboards.simulate import simulate_store
from samplebench.registry.leaderboard_spec import leaderboard_spec_from_dict
from samplebench.results import ResultStore


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_dollar_signs_in_model_names_are_literal_labels(tmp_path):
    store = ResultStore(tmp_path / "store")
    names = ["org/$\\notacommand$", "x$1$-and-$2$", "under_score^caret", "plain"]
    rows = [{"model": m, "task": "t", "sample_id": f"s{i}", "metric": "acc", "value": float((i + j) % 4 > j % 2)}
            for i in range(30) for j, m in enumerate(names)]
    store.append(rows)
    spec = leaderboard_spec_from_dict({"name": "dollars", "title": "Price $5 board", "aggregator": "mean"})
    b = build_leaderboard(spec, store, tmp_path / "out")
    assert set(b.table["model"].to_pylist()) == set(names)
    assert (tmp_path / "out" / "ranking.png").stat().st_size > 0


def test_plot_stays_legible_with_400_models(tmp_path):
    store = ResultStore(tmp_path / "store")
    simulate_store(store, n_models=420, n_tasks=3, n_samples=12, seed=1)
    spec = leaderboard_spec_from_dict({"name": "many", "title": "Many", "aggregator": "mean", "top_n_plot": 420})
    b = build_leaderboard(spec, store, tmp_path / "out")
    assert b.table.num_rows >= 400
    _, height = _png_size((tmp_path / "out" / "ranking.png").read_bytes())
    assert height >= 0.2 * b.table.num_rows * 100  # at least a fifth of an inch per model row at 100 dpi


def test_a_failed_build_leaves_the_output_folder_as_it_was(tmp_path, monkeypatch):
    store = ResultStore(tmp_path / "store")
    simulate_store(store, n_models=6, n_tasks=2, n_samples=20, seed=2)
    out = tmp_path / "out"
    build_leaderboard(leaderboard_spec_from_dict({"name": "b", "title": "B", "aggregator": "mean"}), store, out)
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    from samplebench.leaderboards import plots

    def broken(build, **kw):
        raise RuntimeError("plot failed")

    monkeypatch.setattr(plots, "ranking_png", broken)
    spec = leaderboard_spec_from_dict({"name": "b", "title": "B2", "aggregator": "borda", "also_show": ["mean"]})
    with pytest.raises(RuntimeError, match="plot failed"):
        build_leaderboard(spec, store, out)
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.staging")]
    monkeypatch.undo()
    fresh = tmp_path / "fresh"
    with monkeypatch.context() as m:
        m.setattr(plots, "ranking_png", broken)
        with pytest.raises(RuntimeError):
            build_leaderboard(spec, store, fresh)
    assert not fresh.exists()


def test_page_makes_partial_coverage_obvious(tmp_path):
    store = ResultStore(tmp_path / "store")
    truth = simulate_store(store, n_models=6, n_tasks=4, n_samples=20, task_coverage=0.6, seed=3)
    b = build_leaderboard(leaderboard_spec_from_dict({"name": "p", "title": "P", "aggregator": "mean"}), store,
                          tmp_path / "out")
    partial = sum(c < 1.0 for c in b.table["coverage"].to_pylist())
    assert partial and truth
    page = (tmp_path / "out" / "index.html").read_text()
    assert f"{partial} of {b.table.num_rows} models were measured on only part of the selection" in page
    assert page.count('<tr class="partial-row">') == partial
    assert f" / {len(b.coverage_tasks)}</td>" in page
