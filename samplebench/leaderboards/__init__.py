"""Leaderboard specs -> tables, plots, a static page and a dataset card; publishing to the Hub.

    from samplebench.leaderboards import build_leaderboard, push_leaderboard
    build = build_leaderboard("board.yaml", store="~/.cache/samplebench/store", out="board/")
    build.table                      # pyarrow Table: rank, model, score, CI, coverage, per-task, other ranks
    _, result = push_leaderboard("board.yaml", "org/board")   # one Hub commit, none if unchanged

Heavy modules (matplotlib, huggingface_hub) load only when used.
"""

from __future__ import annotations

from .._lazy import lazy_exports
from ..registry.leaderboard_spec import LeaderboardSpec, load_leaderboard_spec

_LAZY = {
    "build_leaderboard": "build",
    "assemble": "build",
    "LeaderboardBuild": "build",
    "push_leaderboard": "publish",
    "push_folder": "publish",
    "PushFailed": "publish",
    "PushResult": "publish",
    "simulate_store": "simulate",
}

__all__ = ["LeaderboardSpec", "load_leaderboard_spec", *sorted(_LAZY)]
__getattr__, __dir__ = lazy_exports(__name__, globals(), _LAZY)
