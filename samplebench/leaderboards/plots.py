"""`ranking.png`: scores with confidence intervals, and a sparsity map of what was measured.

Left: the top `spec.top_n_plot` models, best at the top, each a point at its score with a
horizontal bar from `ci_low` to `ci_high` (the method's interval). Right, on the same rows: a
models x tasks map, each cell the fraction of the task's selected samples on which the model has
a value (white = never measured); its title counts the complete models among all ranked ones.
The figure grows with the number of rows (about a quarter inch each), so 400 models stay
legible when `top_n_plot` asks for them. Labels are literal text (a `$` in a model name is not
math). Matplotlib's object API is used (no pyplot state), and the PNG carries no Software or
date chunk, so the same build gives the same bytes.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .build import LeaderboardBuild


def ranking_png(build: LeaderboardBuild, *, dpi: int = 100) -> bytes:
    """The PNG bytes. Labels are literal text (`$`, `_`, `^` in model names are not math)."""
    from matplotlib import rc_context

    with rc_context({"text.parse_math": False, "text.usetex": False}):
        return _ranking_png(build, dpi)


def _ranking_png(build: LeaderboardBuild, dpi: int) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    table = build.table
    models = table["model"].to_pylist()
    score = np.asarray(table["score"].to_numpy(zero_copy_only=False), float)
    lo = np.asarray(table["ci_low"].to_numpy(zero_copy_only=False), float)
    hi = np.asarray(table["ci_high"].to_numpy(zero_copy_only=False), float)
    n_top = min(build.spec.top_n_plot, len(models))
    height = max(3.0, 0.24 * max(n_top, 10) + 1.6)  # ~0.24 in per row: names stay legible at any n
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
    ax.set_yticklabels([_short(m) for m in models[:n_top]], fontsize=8)
    ax.set_ylim(n_top - 0.5, -0.5)
    scale = build.ranking.score_scale or "score"
    ax.set_xlabel(f"{build.ranking.method} ({scale})")
    more = f" (top {n_top} of {len(models)})" if n_top < len(models) else ""
    ax.set_title(f"{build.spec.title}: ranking{more}", fontsize=11)
    ax.grid(axis="x", alpha=0.3)
    if has_ci.any():
        ax.legend(loc="lower right", fontsize=8)

    # the same rows as the ranking, so each model's coverage sits beside its score
    full = build.coverage if build.coverage.size else np.zeros((len(models), 1))
    cov = full[:n_top]
    masked = np.ma.masked_where(cov <= 0, cov)
    im = ax2.imshow(masked, aspect="auto", interpolation="nearest", cmap=_cmap(), vmin=0.0, vmax=1.0)
    tasks = build.coverage_tasks
    if len(tasks) <= 80:
        ax2.set_xticks(np.arange(len(tasks)))
        ax2.set_xticklabels([_short(t, 24) for t in tasks], rotation=90, fontsize=6 if len(tasks) > 30 else 8)
    else:
        ax2.set_xticks([])
        ax2.set_xlabel(f"{len(tasks)} tasks")
    ax2.set_yticks(y)
    ax2.set_yticklabels([])
    complete = int((full >= 1.0).all(axis=1).sum()) if full.size else 0
    ax2.set_title(f"measured share of each task's samples\n{complete} of {len(models)} models complete, "
                  f"{float((full > 0).mean()) if full.size else 0.0:.0%} of model x task cells measured", fontsize=10)
    fig.colorbar(im, ax=ax2, fraction=0.046, pad=0.02, label="fraction of the task's samples measured")
    bottom_in = 1.6 if len(tasks) <= 80 else 0.6
    fig.subplots_adjust(left=0.25, right=0.92, bottom=min(0.45, bottom_in / height), top=1 - 0.6 / height, wspace=0.08)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    return buf.getvalue()


def _cmap():
    from matplotlib import colormaps

    return colormaps["viridis"].with_extremes(bad="white")


def _short(name: str, n: int = 44) -> str:
    return name if len(name) <= n else "…" + name[-(n - 1):]
