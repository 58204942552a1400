"""`ranking.png`: scores with confidence intervals, and a sparsity map of what was measured.

Left: the top `spec.top_n_plot` models (default 40; set it to the number of models to show all),
best at the top, each a point at its score with a horizontal bar from `ci_low` to `ci_high` (the
method's interval). Right, on the same rows: a models x tasks map, each cell the fraction of the
task's selected samples on which the model has a value (white = never measured); its title
counts the complete models among all ranked ones.

Legible at any number of models:

* every model name is written whole, at `LABEL_PT` points, and the figure is made as wide as the
  widest name needs, so no name is cut or leaves the figure; task names below the map likewise
  (up to `MAX_TASK_LABELS` tasks; more are counted in the axis label instead);
* each row gets `ROW_IN` inches (about twice the text height), so 400 names never overlap;
* a model measured on only part of the selection has its name and point in `PARTIAL_COLOR` with
  a `◐` after its name, and the title says how many of the shown models are partial;
* when fewer rows are shown than models are ranked, the title says which: "top N of M".

Labels are literal text (a `$` in a model name is not math). Matplotlib's object API is used (no
pyplot state), and the PNG carries no Software or date chunk, so the same build gives the same
bytes. `ranking_figure` returns the figure itself (for tests and notebooks).
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from .build import LeaderboardBuild

LABEL_PT = 8.0  # model names
TASK_PT = 7.0  # task names under the map
ROW_IN = 0.2  # inches per model row (8 pt text is ~0.11 in high)
MAX_TASK_LABELS = 80
PARTIAL_COLOR = "#b35900"
PARTIAL_MARK = " ◐"
_PLOT_IN = 9.0  # width of the two panels, without the names
_PAD_IN = 0.25


def ranking_png(build: LeaderboardBuild, *, dpi: int = 100) -> bytes:
    """The PNG bytes. Labels are literal text (`$`, `_`, `^` in model names are not math)."""
    from matplotlib import rc_context

    with rc_context({"text.parse_math": False, "text.usetex": False}):
        fig = ranking_figure(build, dpi=dpi)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    return buf.getvalue()


def ranking_figure(build: LeaderboardBuild, *, dpi: int = 100) -> Figure:
    """The figure, laid out (see the module docstring)."""
    from matplotlib import rc_context
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    with rc_context({"text.parse_math": False, "text.usetex": False}):
        table = build.table
        models = table["model"].to_pylist()
        score = np.asarray(table["score"].to_numpy(zero_copy_only=False), float)
        lo = np.asarray(table["ci_low"].to_numpy(zero_copy_only=False), float)
        hi = np.asarray(table["ci_high"].to_numpy(zero_copy_only=False), float)
        cov_col = table["coverage"].to_pylist() if "coverage" in table.column_names else [None] * len(models)
        n_top = min(build.spec.top_n_plot, len(models))
        partial = np.array([c is not None and c < 1.0 for c in cov_col[:n_top]], bool)
        names = [m + (PARTIAL_MARK if p else "") for m, p in zip(models[:n_top], partial, strict=True)]
        tasks = build.coverage_tasks
        task_labels = list(tasks) if len(tasks) <= MAX_TASK_LABELS else []

        names_in = _text_width_in(names, LABEL_PT, dpi)
        tasks_in = _text_width_in(task_labels, TASK_PT, dpi) if task_labels else 0.3
        top_in, bottom_in = 1.0, max(0.9, tasks_in + 0.5)
        width = names_in + _PAD_IN + _PLOT_IN
        height = ROW_IN * max(n_top, 10) + top_in + bottom_in
        fig = Figure(figsize=(width, height), dpi=dpi)
        FigureCanvasAgg(fig)
        ax, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [3, 2]})

        y = np.arange(n_top)
        s, l_, h_ = score[:n_top], lo[:n_top], hi[:n_top]
        has_ci = ~(np.isnan(l_) | np.isnan(h_))
        if has_ci.any():
            ax.hlines(y[has_ci], l_[has_ci], h_[has_ci], color="#7aa6d6", linewidth=3, label="confidence interval")
        ax.plot(s[~partial], y[~partial], "o", color="#1f4e8c", markersize=4, label="score")
        if partial.any():
            ax.plot(s[partial], y[partial], "o", color=PARTIAL_COLOR, markersize=4,
                    label=f"score, part of the selection measured ({PARTIAL_MARK.strip()})")
        ax.set_yticks(y)
        ax.set_yticklabels(names, fontsize=LABEL_PT)
        for label, p in zip(ax.get_yticklabels(), partial, strict=True):
            if p:
                label.set_color(PARTIAL_COLOR)
        ax.set_ylim(n_top - 0.5, -0.5)
        scale = build.ranking.score_scale or "score"
        ax.set_xlabel(f"{build.ranking.method} ({scale})")
        shown = f"top {n_top} of {len(models)} models (all in the table)" if n_top < len(models) else \
            f"all {len(models)} models"
        ax.set_title(f"{build.spec.title}: ranking, {shown}\n{int(partial.sum())} shown measured on only part of "
                     "the selection", fontsize=10, loc="left")
        ax.grid(axis="x", alpha=0.3)
        if has_ci.any() or partial.any():
            ax.legend(loc="lower right", fontsize=8)

        # the same rows as the ranking, so each model's coverage sits beside its score
        full = build.coverage if build.coverage.size else np.zeros((len(models), 1))
        cov = full[:n_top]
        masked = np.ma.masked_where(cov <= 0, cov)
        im = ax2.imshow(masked, aspect="auto", interpolation="nearest", cmap=_cmap(), vmin=0.0, vmax=1.0)
        if task_labels:
            ax2.set_xticks(np.arange(len(tasks)))
            ax2.set_xticklabels(task_labels, rotation=90, fontsize=TASK_PT)
        else:
            ax2.set_xticks([])
            ax2.set_xlabel(f"{len(tasks)} tasks")
        ax2.set_yticks(y)
        ax2.set_yticklabels([])
        complete = int((full >= 1.0).all(axis=1).sum()) if full.size else 0
        ax2.set_title(f"measured share of each task's samples\n{complete} of {len(models)} models complete\n"
                      f"{float((full > 0).mean()) if full.size else 0.0:.0%} of model x task cells measured",
                      fontsize=9)
        # a colour bar at most 3 in tall at the top of the map, not lost in the middle of a tall figure
        rows_in = ROW_IN * max(n_top, 10)
        part = min(1.0, 3.0 / rows_in)
        cax = ax2.inset_axes((1.04, 1.0 - part, 0.05, part))
        fig.colorbar(im, cax=cax, label="share of the task's samples measured")
        fig.subplots_adjust(left=(names_in + _PAD_IN) / width, right=1 - 1.0 / width, bottom=bottom_in / height,
                            top=1 - top_in / height, wspace=0.08)
    return fig


def _text_width_in(texts: list[str], points: float, dpi: int) -> float:
    """Width in inches of the widest of `texts` at `points` in the default font (as drawn)."""
    if not texts:
        return 0.0
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.font_manager import FontProperties

    renderer = RendererAgg(1, 1, dpi)
    prop = FontProperties(size=points)
    widest = max(renderer.get_text_width_height_descent(t, prop, ismath=False)[0] for t in texts)
    return widest / dpi


def _cmap():
    from matplotlib import colormaps

    return colormaps["viridis"].with_extremes(bad="white")
