"""`ranking.png`: scores with confidence intervals, and a sparsity map of what was measured.

Left: the top `spec.top_n_plot` models, best at the top, each a point at its score with a
horizontal bar from `ci_low` to `ci_high` (the method's interval). Right: a models x tasks map,
each cell the fraction of the task's selected samples on which the model has a value (white =
never measured), rows in leaderboard order. Matplotlib's object API is used (no pyplot state),
and the PNG carries no Software or date chunk, so the same build gives the same bytes.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .build import LeaderboardBuild


def ranking_png(build: LeaderboardBuild, *, dpi: int = 100) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    table = build.table
    models = table["model"].to_pylist()
    score = np.asarray(table["score"].to_numpy(zero_copy_only=False), float)
    lo = np.asarray(table["ci_low"].to_numpy(zero_copy_only=False), float)
    hi = np.asarray(table["ci_high"].to_numpy(zero_copy_only=False), float)
    n_top = min(build.spec.top_n_plot, len(models))
    height = max(3.0, min(0.28 * max(n_top, 10), 14.0))
    fig = Figure(figsize=(13, height), dpi=dpi)
    FigureCanvasAgg(fig)
    ax, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [3, 2]})

    y = np.arange(n_top)
    s, l_, h_ = score[:n_top], lo[:n_top], hi[:n_top]
    has_ci = ~(np.isnan(l_) | np.isnan(h_))
    if has_ci.any():
        ax.hlines(y[has_ci], l_[has_ci], h_[has_ci], color="#7aa6d6", linewidth=3, label="confidence interval")
    ax.plot(s, y, "o", color="#1f4e8c", markersize=4, label="score")
    ax.set_yticks(y)
    ax.set_yticklabels([_short(m) for m in models[:n_top]], fontsize=7 if n_top > 25 else 9)
    ax.invert_yaxis()
    scale = build.ranking.score_scale or "score"
    ax.set_xlabel(f"{build.ranking.method} ({scale})")
    more = f" (top {n_top} of {len(models)})" if n_top < len(models) else ""
    ax.set_title(f"{build.spec.title}: ranking{more}", fontsize=11)
    ax.grid(axis="x", alpha=0.3)
    if has_ci.any():
        ax.legend(loc="lower right", fontsize=8)

    cov = build.coverage if build.coverage.size else np.zeros((len(models), 1))
    masked = np.ma.masked_where(cov <= 0, cov)
    cmap = _cmap()
    im = ax2.imshow(masked, aspect="auto", interpolation="nearest", cmap=cmap, vmin=0.0, vmax=1.0)
    tasks = build.coverage_tasks
    if len(tasks) <= 40:
        ax2.set_xticks(np.arange(len(tasks)))
        ax2.set_xticklabels([_short(t, 18) for t in tasks], rotation=90, fontsize=6 if len(tasks) > 20 else 8)
    else:
        ax2.set_xticks([])
        ax2.set_xlabel(f"{len(tasks)} tasks")
    if len(models) <= 60:
        ax2.set_yticks(np.arange(len(models)))
        ax2.set_yticklabels([_short(m) for m in models], fontsize=6 if len(models) > 25 else 8)
    else:
        ax2.set_ylabel(f"{len(models)} models, leaderboard order")
        ax2.set_yticks([])
    measured = float((cov > 0).mean()) if cov.size else 0.0
    ax2.set_title(f"measured (model x task): {measured:.0%} of cells", fontsize=11)
    fig.colorbar(im, ax=ax2, fraction=0.046, pad=0.02, label="fraction of samples measured")
    fig.subplots_adjust(left=0.13, right=0.92, bottom=max(0.12, 1.1 / height), top=1 - 0.45 / height, wspace=0.3)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    return buf.getvalue()


def _cmap():
    from matplotlib import colormaps

    return colormaps["viridis"].with_extremes(bad="white")


def _short(name: str, n: int = 32) -> str:
    return name if len(name) <= n else "…" + name[-(n - 1):]
