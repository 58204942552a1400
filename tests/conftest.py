"""Shared fixtures: an isolated SAMPLEBENCH_HOME, the CLI runner, and the real data in ../shared/data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("SAMPLEBENCH_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture
def shared_data() -> Path:
    """`../shared/data`; tests that need it skip with a reason in a fresh clone that lacks it."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data folder {SHARED_DATA} is absent (it ships beside the repo, not in it)")
    return SHARED_DATA


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """A fresh SAMPLEBENCH_HOME for one test, with the Hub switched off."""
    h = tmp_path / "home"
    monkeypatch.setenv("SAMPLEBENCH_HOME", str(h))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_DISABLE_XET", "1")
    return h


@pytest.fixture
def bench(home):
    """Invoke the `bench` CLI in-process: `bench("tasks", "list")` -> click Result."""
    from samplebench.cli import cli

    runner = CliRunner()

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(cli, [str(a) for a in args], input=input, catch_exceptions=False)

    return invoke


@pytest.fixture
def mteb_store(tmp_path, shared_data):
    """The real MTEB results sample (17 models, the 41 MTEB(eng, v2) tasks) imported into a store."""
    from samplebench.results import ResultStore
    from samplebench.results.importers import IMPORTERS

    store = ResultStore(tmp_path / "store")
    IMPORTERS["mteb"](store, shared_data / "mteb" / "results-sample", use_mteb=False)
    return store
