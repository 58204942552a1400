"""Hostile Python-callable models: sys.exit, os._exit and hangs cost their batch, never the run (issue 16.3)."""

from __future__ import annotations

import time

import numpy as np
import pytest

from samplebench.results import ResultStore
from samplebench.runners import evaluate

MODULE = '''
import os, sys, time
import numpy as np

def embed(texts):
    return np.array([[len(t), t.count(" ") + 1.0, sum(map(ord, t)) % 97] for t in texts], dtype=float)

def exits(texts):
    sys.exit(0)

def hard_exit(texts):
    os._exit(0)

def hangs(texts):
    time.sleep(3600)

def crashes_once_then_works(texts):
    flag = os.environ["FLAG_FILE"]
    if not os.path.exists(flag):
        open(flag, "w").close()
        os._exit(3)
    return embed(texts)
'''


@pytest.fixture
def hostile(tmp_path, monkeypatch):
    (tmp_path / "hostile_models.py").write_text(MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    return "hostile_models"


def _errors(home, model):
    rows = ResultStore(home / "store").scan(models=[model], columns=["value", "error"]).to_pylist()
    assert rows and all(r["value"] is None for r in rows)
    return {r["error"] for r in rows}


@pytest.mark.parametrize("fn, said", [("exits", "the model called sys.exit(0)"),
                                      ("hard_exit", "the model's process exited with status 0")])
def test_a_callable_that_exits_fails_its_samples_not_the_run(hostile, bench, home, fn, said):
    model = f"callable:{hostile}:{fn}"
    res = bench("evaluate", model, "--tasks", "bundled-sts,bundled-paraphrase", "--limit", "4", "--quiet")
    assert res.exit_code == 1, res.output
    assert "8 sample(s) failed" in res.output and "bundled-paraphrase" in res.output  # both tasks ran
    assert all(said in e for e in _errors(home, model))


def test_a_hanging_callable_times_out_per_batch(hostile, bench, home):
    model = f"callable:{hostile}:hangs"
    t0 = time.monotonic()
    res = bench("evaluate", model, "--tasks", "bundled-sts,bundled-paraphrase", "--limit", "4", "--quiet",
                "--timeout", "2")
    assert time.monotonic() - t0 < 60
    assert res.exit_code == 1, res.output
    assert "8 sample(s) failed" in res.output
    assert all("did not answer within 2 s" in e for e in _errors(home, model))


def test_the_worker_restarts_after_a_crash(hostile, home, tmp_path, monkeypatch):
    monkeypatch.setenv("FLAG_FILE", str(tmp_path / "crashed"))
    from samplebench.runners import load_model

    model = load_model(f"callable:{hostile}:crashes_once_then_works")
    with pytest.raises(RuntimeError, match="exited with status 3") as info:
        model.encode(["a b"])
    assert getattr(info.value, "retry_items", True) is False  # the batch fails as one, no text-by-text retries
    np.testing.assert_array_equal(model.encode(["a b"]), [[3, 2, (97 + 32 + 98) % 97]])  # a fresh worker
    model.close()


def test_sys_exit_in_an_in_process_model_becomes_error_rows(home, tmp_path):
    class Quitter:
        name = "quitter"

        def encode(self, texts, *, batch_size=32):
            raise SystemExit(0)

    rep = evaluate(Quitter(), ["bundled-sts"], store=tmp_path / "store", limit=3, progress=False)
    assert rep.exit_code == 1 and rep.n_errors == 3
    errors = ResultStore(tmp_path / "store").scan(columns=["error"]).column("error").to_pylist()
    assert all("sys.exit(0)" in e for e in errors)


PICKY = '''
import os
import numpy as np

BAD = set(open(os.environ["BAD_TEXTS"], encoding="utf-8").read().split("\\n"))

def picky(texts):
    if any(t in BAD for t in texts):
        raise ValueError("cannot embed this text")
    return np.array([[len(t), t.count(" ") + 1.0, sum(map(ord, t)) % 97] for t in texts], dtype=float)
'''


def test_failed_training_texts_are_counted_and_reported(bench, home, tmp_path, monkeypatch):
    """Issue 16.2: a model that fails on some training texts of a classification task is not a clean run."""
    from samplebench.registry import TaskRegistry
    from samplebench.tasks import evaluator_for
    from samplebench.tasks.classification import undersample

    spec = TaskRegistry().get("bundled-news-topics")
    ev = evaluator_for(spec)
    data = ev.load()
    test_texts = set(data.texts)
    bad = [t for i, t in enumerate(data.train_texts) if i % 5 == 0 and t not in test_texts]
    (tmp_path / "bad.txt").write_text("\n".join(bad), encoding="utf-8")
    monkeypatch.setenv("BAD_TEXTS", str(tmp_path / "bad.txt"))
    (tmp_path / "picky_model.py").write_text(PICKY)
    monkeypatch.syspath_prepend(str(tmp_path))
    idxs, used = None, set()
    for _ in range(int(ev.option("n_experiments"))):
        idxs, chosen = undersample(data.train_labels, int(ev.option("samples_per_label")), int(ev.option("seed")), idxs)
        used |= set(chosen)
    expected = len({data.train_texts[i] for i in used} & set(bad))
    assert expected > 0

    res = bench("evaluate", "callable:picky_model:picky", "--tasks", "bundled-news-topics", "--quiet")
    assert res.exit_code == 1, res.output
    assert f"{expected} training texts failed and were left out" in res.output
    assert "ValueError: cannot embed this text" in res.output
    assert "0 sample(s) failed" not in res.output and "other input(s) failed" in res.output
    rows = ResultStore(home / "store").scan(columns=["value", "error"]).to_pylist()
    assert len(rows) == len(data.ids) and all(r["error"] is None for r in rows)  # the samples themselves are fine


def test_an_in_process_model_that_hangs_times_out_once_per_run(home, tmp_path):
    """Library-style models run in this process; with --timeout a hung call becomes error rows and
    the model is not called again, so two tasks cost one time limit, not one per batch."""
    import threading

    release = threading.Event()

    class Stuck:
        name = "stuck"

        def __init__(self):
            self.calls = 0

        def encode(self, texts, *, batch_size=32):
            self.calls += 1
            release.wait(60)
            return np.zeros((len(texts), 3))

    model = Stuck()
    t0 = time.monotonic()
    try:
        rep = evaluate(model, ["bundled-sts", "bundled-paraphrase"], store=tmp_path / "store", limit=3,
                       progress=False, timeout=1.0)
    finally:
        release.set()
    assert time.monotonic() - t0 < 20
    assert rep.exit_code == 1 and rep.n_errors == 6 and model.calls == 1
    errors = ResultStore(tmp_path / "store").scan(columns=["error"]).column("error").to_pylist()
    assert all("did not answer within 1 s" in e or "not called again" in e for e in errors)
