"""Where samplebench keeps its state.

`$SAMPLEBENCH_HOME` (default `~/.cache/samplebench`) holds `tasks/` and `models/` (user specs)
and `store/` (the results store). Every CLI verb that touches one of them takes an override.
"""

from __future__ import annotations

import os
from pathlib import Path


def home() -> Path:
    env = os.environ.get("SAMPLEBENCH_HOME")
    return Path(env).expanduser() if env else Path("~/.cache/samplebench").expanduser()


def default_store() -> Path:
    return home() / "store"


def user_tasks_dir() -> Path:
    return home() / "tasks"


def user_models_dir() -> Path:
    return home() / "models"
