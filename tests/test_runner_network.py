"""The one retry policy (samplebench._network): what is retried, how long, and what is shown."""

from __future__ import annotations

import urllib.error

import pytest

from samplebench._network import (
    RETRY_STATUS,
    RetriesExhausted,
    call_with_retries,
    is_transient,
    redact,
    server_text,
)


def _http(code: int) -> urllib.error.HTTPError:
    return urllib.error.HTTPError("http://127.0.0.1:9/x", code, "x", {}, None)


def test_transient_failures_are_the_same_set_everywhere():
    assert {408, 409, 429, 500, 502, 503, 504} == RETRY_STATUS
    assert all(is_transient(_http(c)) for c in RETRY_STATUS)
    assert not any(is_transient(_http(c)) for c in (400, 401, 403, 404, 422))
    assert is_transient(urllib.error.URLError(ConnectionRefusedError())) and is_transient(TimeoutError())
    wrapped = RuntimeError("upload failed")
    wrapped.__cause__ = ConnectionResetError()
    assert is_transient(wrapped) and not is_transient(ValueError("bad json"))


def test_retries_are_bounded_in_number_and_in_time():
    calls, waits = [], []

    def flaky():
        calls.append(1)
        raise _http(503)

    with pytest.raises(RetriesExhausted) as info:
        call_with_retries(flaky, retries=3, backoff=0.5, sleep=waits.append)
    assert info.value.attempts == 4 and len(calls) == 4 and info.value.last.code == 503
    assert len(waits) == 3 and all(0.5 * 2**i <= w <= 0.5 * 2**i + 0.125 for i, w in enumerate(waits))  # + jitter
    calls.clear()
    with pytest.raises(RetriesExhausted) as info:  # the deadline stops a policy that would try 1000 times
        call_with_retries(flaky, retries=1000, backoff=0.01, deadline=0.3)
    assert 2 <= info.value.attempts < 1000
    with pytest.raises(urllib.error.HTTPError):  # a 4xx is raised at once, without retrying
        call_with_retries(lambda: (_ for _ in ()).throw(_http(422)), retries=5, backoff=0.01)
    assert call_with_retries(lambda: 7, retries=0, backoff=0) == 7


def test_server_text_is_one_short_line_with_tokens_redacted():
    raw = b"denied for Authorization: Bearer hf_abcdefghijklmnop\n<script>x</script>\x1b[2J key sk-live_1234567890abcd"
    text = server_text(raw)
    assert "\n" not in text and "\x1b" not in text
    assert "hf_abcdefghijklmnop" not in text and "sk-live_1234567890abcd" not in text and "[redacted]" in text
    assert len(server_text("x" * 1000)) <= 201
    assert redact("token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl here") == "token [redacted] here"
    assert redact("POST /api/repos/create") == "POST /api/repos/create"  # ordinary paths stay readable
