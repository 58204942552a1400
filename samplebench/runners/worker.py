"""A Python-callable model in a worker process: its failures, exits and hangs stay its own.

A callable model is the user's code: it may raise, hang, call `sys.exit()` or `os._exit()`, or
crash the interpreter. `WorkerModel` runs it in a child process (`python -m
samplebench.runners.worker`) and talks to it over a pipe, one call at a time:

* every call (`encode`, `generate`, `predict_proba`, ...) must answer within `timeout` seconds;
  otherwise the child is killed (by its process id) and the call raises `ModelTimeout`;
* a child that exits or dies during a call (`os._exit`, a segfault) makes it raise `ModelCrashed`
  with the exit status; `sys.exit()` inside a call is caught in the child and raised as an error;
* an exception in the model is raised in this process with the same type name and message.

These errors say `retry_items = False`, so the batch becomes error rows without retrying each
input, and the next call starts a fresh child (which imports the target and, in `factory` mode,
builds the object again, within `load_timeout`). The child ignores Ctrl-C (the parent handles it
and stops the child); its prints go to stderr, so they cannot corrupt the pipe.

Models built by the library's own adapters (sentence-transformers, transformers, diffusers, the
baselines) run in this process; with a time limit (`bench evaluate --timeout`) `CallDeadline`
runs each of their calls in a watchdog thread: a call past the limit raises `ModelTimeout`, and
since a thread cannot be stopped, the model is not called again in that run (every later batch
fails at once with the same reason).
"""

from __future__ import annotations

import functools
import os
import pickle
import signal
import subprocess
import sys
import threading
import weakref
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from ..errors import SampleBenchError


class ModelTimeout(RuntimeError):
    """A call did not answer within its time limit (the worker was stopped)."""

    retry_items = False


class ModelCrashed(RuntimeError):
    """The worker process ended during a call (exit, `os._exit`, a crash)."""

    retry_items = False


def _remote_error(kind: str, message: str, retry_items: bool) -> Exception:
    """An exception named like the model's own (`ValueError: ...`) without importing the model's module."""
    cls = type(kind, (RuntimeError,), {"retry_items": retry_items})
    return cls(message)


def _kill(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.kill()
        proc.wait()


class WorkerModel:
    """Calls `target` (`package.module:function`) in a child process; see the module docstring.

    `mode="encoder"`: the function maps texts to an (n, d) array (`call("__call__", texts)`).
    `mode="factory"`: the function returns the model object, whose methods are called by name.
    """

    def __init__(self, target: str, *, mode: str, kwargs: dict[str, Any], timeout: float, load_timeout: float) -> None:
        self.target, self.mode, self.kwargs = target, mode, dict(kwargs)
        self.timeout, self.load_timeout = float(timeout), float(load_timeout)
        self._proc: subprocess.Popen | None = None
        self._send: Connection | None = None
        self._recv: Connection | None = None
        self._finalizer: weakref.finalize | None = None

    # -- the child's lifetime --------------------------------------------------------------------
    def start(self) -> None:
        """Start a child, import the target there (and build the object in factory mode)."""
        import samplebench

        root = str(Path(samplebench.__file__).resolve().parents[1])
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([root, *filter(None, [env.get("PYTHONPATH")])])
        proc = subprocess.Popen([sys.executable, "-m", "samplebench.runners.worker"], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, env=env)
        self._proc = proc
        self._finalizer = weakref.finalize(self, _kill, proc)
        self._send = Connection(os.dup(proc.stdin.fileno()), readable=False)
        self._recv = Connection(os.dup(proc.stdout.fileno()), writable=False)
        proc.stdin.close()
        proc.stdout.close()
        init = {"target": self.target, "mode": self.mode, "kwargs": self.kwargs,
                "sys_path": [p for p in sys.path if isinstance(p, str)]}
        self._exchange(("init", init), self.load_timeout, "loading the model")

    def stop(self) -> None:
        """Stop the child (kill it by its process id) and forget it."""
        proc, self._proc = self._proc, None
        for conn in (self._send, self._recv):
            if conn is not None:
                conn.close()
        self._send = self._recv = None
        if proc is not None:
            _kill(proc)
        if self._finalizer is not None:
            self._finalizer.detach()
            self._finalizer = None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    # -- calls -----------------------------------------------------------------------------------
    def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """`method(*args, **kwargs)` on the model in the child, within `timeout` seconds."""
        if not self.running:
            self.stop()
            self.start()
        return self._exchange(("call", method, args, kwargs), self.timeout, method)

    def attribute(self, name: str) -> tuple[str, Any]:
        """('method', None), ('value', v) or ('missing', None) for an attribute of the factory's object."""
        if not self.running:
            self.stop()
            self.start()
        return self._exchange(("attr", name), self.timeout, f"reading '{name}'")

    def _exchange(self, message: tuple, limit: float, what: str) -> Any:
        assert self._send is not None and self._recv is not None and self._proc is not None
        try:
            self._send.send(message)
            ready = self._recv.poll(limit)
            reply = self._recv.recv() if ready else None
        except (EOFError, OSError, pickle.UnpicklingError):
            ready, reply = True, None
        if not ready:
            self.stop()
            raise ModelTimeout(f"the model did not answer within {limit:g} s while {what}; its process was stopped "
                               "(raise the limit with --timeout or the model's `timeout` arg)")
        if reply is None:
            proc = self._proc
            try:
                status = proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                status = None
            self.stop()
            how = (f"was killed by signal {-status}" if status is not None and status < 0
                   else f"exited with status {status}")
            raise ModelCrashed(f"the model's process {how} while {what}")
        kind, payload = reply
        if kind == "ok":
            return payload
        if kind == "user-error":
            raise SampleBenchError(payload)
        raise _remote_error(*payload)


class CallDeadline:
    """An in-process model whose protocol calls must each finish within `timeout` seconds (see module doc)."""

    METHODS = frozenset({"encode", "loglikelihood", "generate", "predict_proba", "generate_images", "image_ratings",
                         "image_labels"})

    def __init__(self, inner: Any, timeout: float) -> None:
        self.inner, self.timeout = inner, float(timeout)
        self._hung: str | None = None

    def __getattr__(self, name: str) -> Any:
        value = getattr(self.inner, name)
        if name in self.METHODS and callable(value):
            return functools.partial(self._call, name, value)
        return value

    def _call(self, name: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        if self._hung is not None:
            raise ModelTimeout(f"an earlier {self._hung} call did not finish within {self.timeout:g} s; "
                               "the model is not called again in this run")
        box: dict[str, Any] = {}

        def run() -> None:
            try:
                box["value"] = fn(*args, **kwargs)
            except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
                box["error"] = exc

        thread = threading.Thread(target=run, name=f"samplebench-{name}", daemon=True)
        thread.start()
        thread.join(self.timeout)
        if thread.is_alive():
            self._hung = name
            raise ModelTimeout(f"the model did not answer within {self.timeout:g} s while {name} "
                               "(raise the limit with --timeout)")
        if "error" in box:
            raise box["error"]
        return box["value"]


# ----------------------------------------------------------------------------------------- child


def _error_reply(exc: BaseException) -> tuple[str, Any]:
    if isinstance(exc, SystemExit):
        return "error", ("SystemExit", f"the model called sys.exit({exc.code!r})", False)
    text = str(exc).strip().splitlines()
    return "error", (type(exc).__name__, text[0][:1000] if text else "", bool(getattr(exc, "retry_items", True)))


def _serve() -> None:
    inbox = Connection(os.dup(0), writable=False)
    outbox = Connection(os.dup(1), readable=False)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)  # the model cannot read the pipe
    os.dup2(2, 1)  # nor write into it: its prints go to stderr
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    obj: Any = None
    while True:
        try:
            message = inbox.recv()
        except (EOFError, OSError):
            return  # the parent is gone
        try:
            if message[0] == "init":
                from .adapters.python_callable import resolve_target

                init = message[1]
                sys.path[:0] = [p for p in init["sys_path"] if p not in sys.path]
                fn = resolve_target(init["target"])
                obj = fn(**init["kwargs"]) if init["mode"] == "factory" else _Encoder(fn, init["kwargs"])
                reply: tuple[str, Any] = ("ok", None)
            elif message[0] == "attr":
                if not hasattr(obj, message[1]):
                    reply = ("ok", ("missing", None))
                else:
                    value = getattr(obj, message[1])
                    reply = ("ok", ("method", None) if callable(value) else ("value", value))
            else:
                _, method, args, kwargs = message
                reply = ("ok", getattr(obj, method)(*args, **kwargs))
        except SampleBenchError as exc:
            reply = ("user-error", exc.message)
        except BaseException as exc:  # noqa: BLE001 - everything the model does wrong goes back as an error
            reply = _error_reply(exc)
        try:
            outbox.send(reply)
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            outbox.send(("error", ("TypeError", f"the model's answer cannot be sent back: {exc}", False)))


class _Encoder:
    """Encoder mode: `encode(texts)` calls the function with the texts and the spec's kwargs."""

    def __init__(self, fn: Any, kwargs: dict[str, Any]) -> None:
        self.fn, self.kwargs = fn, kwargs

    def encode(self, texts: list[str], *, batch_size: int = 32) -> Any:
        import numpy as np

        return np.asarray(self.fn(list(texts), **self.kwargs), dtype=np.float32)


if __name__ == "__main__":
    _serve()
