"""The ranking plot is legible with 400+ models: properties measured on the drawn figure.

Each check would fail on an illegible plot: a name cut short or drawn outside the figure, text
below a readable size, rows whose names overlap, a model missing without a word, partial
coverage that looks like full coverage.
"""

from __future__ import annotations

import pytest

from samplebench.leaderboards import build_leaderboard
from samplebench.leaderboards.plots import LABEL_PT, PARTIAL_COLOR, PARTIAL_MARK, ranking_figure
from samplebench.leaderboards.simulate import simulate_store
from samplebench.registry.leaderboard_spec import leaderboard_spec_from_dict
from samplebench.results import ResultStore

MIN_PT = 7.0  # the floor for any label


def _drawn(build):
    fig = ranking_figure(build)
    fig.canvas.draw()
    return fig, fig.canvas.get_renderer()


def _inside(fig, renderer, texts) -> list[str]:
    """Texts whose drawn box leaves the figure."""
    box = fig.bbox
    out = []
    for t in texts:
        e = t.get_window_extent(renderer)
        if not (box.x0 - 0.5 <= e.x0 and e.x1 <= box.x1 + 0.5 and box.y0 - 0.5 <= e.y0 and e.y1 <= box.y1 + 0.5):
            out.append(t.get_text())
    return out


@pytest.fixture(scope="module")
def board_420(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("plot420")
    store = ResultStore(tmp / "store")
    simulate_store(store, n_models=420, n_tasks=30, n_samples=6, task_coverage=0.85, seed=1,
                   model_prefix="an-organisation-with-a-long-name/embedding-model-variant")
    spec = leaderboard_spec_from_dict({"name": "many", "title": "Many", "aggregator": "mean", "top_n_plot": 420})
    return build_leaderboard(spec, store, tmp / "out")


def test_every_one_of_420_models_is_named_whole_inside_the_figure(board_420):
    fig, renderer = _drawn(board_420)
    ax = fig.axes[0]
    labels = ax.get_yticklabels()
    models = board_420.table["model"].to_pylist()
    assert len(models) == 420
    assert [t.get_text().removesuffix(PARTIAL_MARK) for t in labels] == models  # all, whole, in rank order
    assert _inside(fig, renderer, labels) == []
    assert min(t.get_fontsize() for t in labels) >= MIN_PT and LABEL_PT >= MIN_PT
    boxes = sorted((t.get_window_extent(renderer) for t in labels), key=lambda e: e.y0)
    assert all(a.y1 <= b.y0 for a, b in zip(boxes, boxes[1:], strict=False)), "names of adjacent rows overlap"
    tasks = fig.axes[1].get_xticklabels()
    assert len(tasks) == 30 and _inside(fig, renderer, tasks) == []
    assert min(t.get_fontsize() for t in tasks) >= MIN_PT
    # every text of the figure (titles, axis and colour-bar labels, ticks) inside it; the titles apart
    from matplotlib.text import Text

    texts = [t for t in fig.findobj(Text) if t.get_visible() and t.get_text()]
    assert _inside(fig, renderer, texts) == []
    assert not ax.title.get_window_extent(renderer).overlaps(fig.axes[1].title.get_window_extent(renderer))


def test_partial_coverage_is_marked_on_every_partial_row(board_420):
    fig, _ = _drawn(board_420)
    coverage = board_420.table["coverage"].to_pylist()
    labels = fig.axes[0].get_yticklabels()
    partial = [c < 1.0 for c in coverage]
    assert 0 < sum(partial) < len(partial)
    for label, p in zip(labels, partial, strict=True):
        assert label.get_text().endswith(PARTIAL_MARK) == p
        assert (label.get_color() == PARTIAL_COLOR) == p
    assert f"{sum(partial)} shown measured on only part of the selection" in fig.axes[0].get_title(loc="left")


def test_fewer_rows_than_models_says_which_are_shown(tmp_path):
    store = ResultStore(tmp_path / "store")
    simulate_store(store, n_models=60, n_tasks=3, n_samples=8, seed=2)
    spec = leaderboard_spec_from_dict({"name": "top", "title": "Top", "aggregator": "mean"})  # top_n_plot 40
    b = build_leaderboard(spec, store, tmp_path / "out")
    fig, _ = _drawn(b)
    assert "top 40 of 60 models (all in the table)" in fig.axes[0].get_title(loc="left")
    assert [t.get_text().removesuffix(PARTIAL_MARK) for t in fig.axes[0].get_yticklabels()] == \
        b.table["model"].to_pylist()[:40]


def test_a_very_long_name_is_neither_cut_nor_clipped(tmp_path):
    store = ResultStore(tmp_path / "store")
    long = "org-" + "x" * 150 + "/$model$_v2"
    rows = [{"model": m, "task": "t", "sample_id": f"s{i}", "metric": "acc", "value": float((i + j) % 3 > 0)}
            for i in range(12) for j, m in enumerate([long, "short/a", "short/b"])]
    store.append(rows)
    b = build_leaderboard(leaderboard_spec_from_dict({"name": "l", "title": "L", "aggregator": "mean"}), store,
                          tmp_path / "out")
    fig, renderer = _drawn(b)
    labels = fig.axes[0].get_yticklabels()
    assert long in [t.get_text().removesuffix(PARTIAL_MARK) for t in labels]
    assert _inside(fig, renderer, labels) == []
