"""One timeout-and-retry policy for every network call samplebench makes (endpoints, judges, the Hub).

Policy: every request carries a timeout. A call that fails *transiently* — the connection could
not be made, was dropped or timed out, or the server answered one of `RETRY_STATUS` (408, 409,
429 and 500/502/503/504) — is tried again after an exponential backoff (`backoff` seconds,
doubled each time, at most `MAX_WAIT`, plus up to 25 % random jitter), at most `retries` more
times and never after `deadline` seconds have passed since the first try. Any other failure (a
4xx: the request itself is wrong) is raised at once. The retrying itself is tenacity's.

Server-supplied text is never shown as it came: `server_text` keeps one short printable line of
it with token-like strings (`redact`) replaced, and callers that report to a user (the Hub push)
show only the status and the call.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

RETRY_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})
MAX_WAIT = 30.0

# Bearer/Basic credentials, Hugging Face and OpenAI-style keys, JWTs, and long opaque runs of
# letters and digits (signed URLs' signatures, API keys of other providers).
_TOKEN_LIKE = re.compile(
    r"(?i)\b(bearer|basic)\s+[^\s\"',;]+"
    r"|\b(hf|sk|api|key|ghp|gho|xox[abp])[-_][A-Za-z0-9_\-]{6,}"
    r"|\beyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+(\.[A-Za-z0-9_\-]+)?"
    r"|(?=[A-Za-z0-9_\-+=]*\d)(?=[A-Za-z0-9_\-+=]*[A-Za-z])[A-Za-z0-9_\-+=]{24,}"
)


class RetriesExhausted(Exception):
    """Every attempt failed transiently; `last` is the final failure, `attempts` how many were made."""

    def __init__(self, last: BaseException, attempts: int) -> None:
        super().__init__(str(last))
        self.last, self.attempts = last, attempts


def status_of(exc: BaseException) -> int | None:
    """The HTTP status of a failed request (urllib's HTTPError, httpx / huggingface_hub errors)."""
    if isinstance(exc, urllib.error.HTTPError):
        return exc.code
    resp = getattr(exc, "response", None)
    code = getattr(resp, "status_code", None)
    return code if isinstance(code, int) else None


def _is_transport_error(exc: BaseException) -> bool:
    if isinstance(exc, ConnectionError | TimeoutError | urllib.error.URLError):
        return True
    for module in ("httpx2", "httpx"):
        try:
            mod = __import__(module)
        except ImportError:
            continue
        if isinstance(exc, mod.TransportError):
            return True
    return False


def is_transient(exc: BaseException | None) -> bool:
    """A retryable status, or a refused / dropped / timed-out connection (also when wrapped)."""
    seen = 0
    while exc is not None and seen < 6:
        code = status_of(exc)
        if code is not None:
            return code in RETRY_STATUS
        if _is_transport_error(exc):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def call_with_retries(fn: Callable[[], T], *, retries: int, backoff: float, deadline: float | None = None,
                      transient: Callable[[BaseException], bool] = is_transient,
                      sleep: Callable[[float], None] | None = None) -> T:
    """`fn()`, retried under the module's policy; `RetriesExhausted` when every attempt failed transiently.

    A failure `transient` calls permanent is raised as it is, at once.
    """
    import tenacity

    stop = tenacity.stop_after_attempt(max(0, int(retries)) + 1)
    if deadline is not None:
        stop = stop | tenacity.stop_after_delay(deadline)
    wait = tenacity.wait_exponential(multiplier=max(0.0, backoff), max=MAX_WAIT) + \
        tenacity.wait_random(0, 0.25 * max(0.0, backoff))
    kwargs: dict[str, Any] = {"sleep": sleep} if sleep is not None else {}
    retrying = tenacity.Retrying(stop=stop, wait=wait, retry=tenacity.retry_if_exception(transient), reraise=False,
                                 **kwargs)
    try:
        return retrying(fn)
    except tenacity.RetryError as exc:
        last = exc.last_attempt
        raise RetriesExhausted(last.exception(), last.attempt_number) from None


def redact(text: str) -> str:
    """`text` with every token-like string replaced by `[redacted]`."""
    return _TOKEN_LIKE.sub("[redacted]", str(text))


def server_text(raw: bytes | str | None, limit: int = 200) -> str:
    """One short, printable, redacted line of what a server sent (never the raw text)."""
    if raw is None:
        return ""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    text = redact(" ".join(text.split()))
    return text[:limit] + ("…" if len(text) > limit else "")


def describe(exc: BaseException) -> str:
    """A short reason for a failed request: `HTTP 503`, `timed out`, `ConnectionRefusedError` (no server text)."""
    code = status_of(exc)
    if code is not None:
        return f"HTTP {code}"
    reason = getattr(exc, "reason", None) if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(reason, TimeoutError) or "timed out" in str(reason).lower():
        return f"{type(reason).__name__}: timed out"
    return type(reason).__name__


def post_json(url: str, payload: dict[str, Any], *, headers: dict[str, str], timeout: float) -> Any:
    """POST `payload` as JSON and decode the JSON answer (urllib, with `timeout` seconds).

    Raises urllib's `HTTPError` for an error status, `URLError`/`TimeoutError` for the transport,
    `ValueError` when the answer is not JSON.
    """
    req = urllib.request.Request(url, data=json.dumps(payload).encode(),
                                 headers={"Content-Type": "application/json", **headers}, method="POST")
    with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - URL from the user's spec
        return json.loads(resp.read().decode("utf-8"))


def get_bytes(url: str, *, timeout: float) -> bytes:
    """GET `url` (urllib, with `timeout` seconds)."""
    with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 - URL from the endpoint's answer
        return resp.read()
