"""The one exception type for errors a user can cause.

Every message names the file or field at fault and the fix; the CLI prints it on one or two
lines and exits with status 2. Anything else that escapes is a bug and keeps its traceback.
"""

from __future__ import annotations


class SampleBenchError(Exception):
    """A user-caused error: bad spec, unknown task or model, malformed file, unreachable endpoint."""

    exit_code = 2

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(message if hint is None else f"{message}\n  hint: {hint}")


def closest_names(name: str, candidates: list[str] | set[str], n: int = 3) -> str:
    """Return ", "-joined suggestions for an unknown `name`, or a listing hint when none is close."""
    import difflib

    close = difflib.get_close_matches(name, sorted(candidates), n=n, cutoff=0.5)
    if not close:
        lowered = name.lower()
        close = [c for c in sorted(candidates) if lowered in c.lower()][:n]
    return ", ".join(close)


def require_writable(folder, what: str, *, subfolders: tuple[str, ...] = (), hint: str | None = None) -> None:
    """Raise SampleBenchError before any work when `folder` (a `what`, e.g. "results store") is read-only."""
    from ._atomic import writable_problem

    problem = writable_problem(folder, subfolders)
    if problem:
        raise SampleBenchError(f"{what} {folder} is not writable: {problem}", hint=hint)
