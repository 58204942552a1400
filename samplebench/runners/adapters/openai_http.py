"""OpenAI-compatible HTTP endpoints (vLLM, TGI, llama.cpp server, hosted APIs): embeddings and chat/completions.

Name a model `openai:<model>` (base URL from `$OPENAI_BASE_URL`, default https://api.openai.com/v1)
or `openai:<model>@<base url>`, or register a spec with adapter `openai` and these args:

* `model`, `base_url`; `api_key_env` (default `OPENAI_API_KEY`): the *name* of the environment
  variable holding the key. The key is read when a request is sent and is never stored on the
  adapter's spec, written to results, or included in an error message.
* `max_concurrency` (8) requests in flight; `timeout` (60 s) per request; `max_retries` (4) with
  exponential backoff (`backoff` 0.5 s, doubled each try, plus jitter) on connection errors,
  timeouts, 408/409/429 and 5xx, for at most `deadline` (600 s) per request: the project's one
  retry policy, `samplebench._network`. Other 4xx fail at once.
* `embed_batch` (64) texts per embeddings request.

`loglikelihood` uses `/completions` with `echo: true, logprobs: 1, max_tokens: 0` (as vLLM and
lm-eval do): the log-probabilities of the continuation's tokens, found by their text offsets, are
summed. `generate` uses `/chat/completions` with one user message.
An endpoint that cannot be reached raises `EndpointError` with `retry_items = False`, so callers
do not retry it text by text.
"""

from __future__ import annotations

import os
import urllib.error
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from ..._network import RetriesExhausted, call_with_retries, post_json, server_text
from ...registry import ModelSpec
from .base import ModelAdapter, register_adapter


class EndpointError(RuntimeError):
    """A request failed for good; `retry_items` False when the endpoint itself is unreachable."""

    def __init__(self, message: str, *, retry_items: bool = True, status: int | None = None) -> None:
        super().__init__(message)
        self.retry_items = retry_items
        self.status = status


@register_adapter("openai")
class OpenAICompatible(ModelAdapter):
    def __init__(self, spec: ModelSpec, *, model: str | None = None, base_url: str | None = None,
                 api_key_env: str = "OPENAI_API_KEY", max_concurrency: int = 8, timeout: float = 60.0,
                 max_retries: int = 4, backoff: float = 0.5, deadline: float | None = 600.0, embed_batch: int = 64,
                 temperature: float = 0.0) -> None:
        super().__init__(spec)
        self.model = model or spec.name.removeprefix("openai:").split("@")[0]
        self.base_url = (base_url or os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1").rstrip("/")
        self.api_key_env = api_key_env
        self.max_concurrency, self.timeout = max(1, int(max_concurrency)), float(timeout)
        self.max_retries, self.backoff, self.embed_batch = int(max_retries), float(backoff), max(1, int(embed_batch))
        self.deadline = None if deadline is None else float(deadline)
        self.temperature = temperature
        self.n_requests = 0
        self._unreachable: str | None = None

    # -- transport ------------------------------------------------------------------------------
    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        key = os.environ.get(self.api_key_env)
        if key:
            headers["Authorization"] = f"Bearer {key}"
        return headers

    def post(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        """POST JSON under the project's retry policy (`samplebench._network`); EndpointError when it keeps failing."""
        if self._unreachable is not None:
            raise EndpointError(self._unreachable, retry_items=False)
        url = f"{self.base_url}/{path.lstrip('/')}"

        def once() -> dict[str, Any]:
            self.n_requests += 1
            return post_json(url, payload, headers=self._headers(), timeout=self.timeout)

        try:
            return call_with_retries(once, retries=self.max_retries, backoff=self.backoff, deadline=self.deadline)
        except urllib.error.HTTPError as exc:  # a status the policy does not retry
            raise EndpointError(f"HTTP {exc.code} from {url}: {server_text(exc.read()[:300])}", status=exc.code) from None
        except ValueError:
            raise EndpointError(f"{url} did not return JSON") from None
        except RetriesExhausted as exc:
            last = exc.last
            if isinstance(last, urllib.error.HTTPError):
                message = f"HTTP {last.code} from {url}: {server_text(last.read()[:300])} (after {exc.attempts} attempts)"
                raise EndpointError(message, status=last.code) from None
            reason = getattr(last, "reason", last)
            message = f"cannot reach {url}: {type(reason).__name__}: {reason} (after {exc.attempts} attempts)"
            self._unreachable = message  # do not hammer a dead endpoint for every remaining item
            raise EndpointError(message, retry_items=False) from None

    def _map(self, fn, items: list) -> list:
        if len(items) <= 1 or self.max_concurrency == 1:
            return [fn(x) for x in items]
        with ThreadPoolExecutor(max_workers=min(self.max_concurrency, len(items))) as pool:
            return list(pool.map(fn, items))

    # -- protocols ------------------------------------------------------------------------------
    def encode(self, texts: Sequence[str], *, batch_size: int = 32) -> np.ndarray:
        texts = list(texts)
        chunks = [texts[i:i + self.embed_batch] for i in range(0, len(texts), self.embed_batch)]

        def one(chunk: list[str]) -> list[list[float]]:
            data = self.post("embeddings", {"model": self.model, "input": chunk})
            rows = sorted(data["data"], key=lambda r: r.get("index", 0))
            if len(rows) != len(chunk):
                raise EndpointError(f"embeddings: {len(rows)} vectors for {len(chunk)} inputs")
            return [r["embedding"] for r in rows]

        out = [v for part in self._map(one, chunks) for v in part]
        return np.asarray(out, dtype=np.float32)

    def generate(self, prompts: Sequence[str], *, max_new_tokens: int = 64, n: int = 1) -> list[list[str]]:
        def one(prompt: str) -> list[str]:
            data = self.post("chat/completions", {
                "model": self.model, "messages": [{"role": "user", "content": prompt}],
                "max_tokens": max_new_tokens, "n": n, "temperature": self.temperature if n == 1 else 1.0,
            })
            return [c["message"]["content"] or "" for c in sorted(data["choices"], key=lambda c: c.get("index", 0))]

        return self._map(one, list(prompts))

    def loglikelihood(self, requests: Sequence[tuple[str, str]]) -> list[float]:
        def one(req: tuple[str, str]) -> float:
            context, continuation = req
            data = self.post("completions", {"model": self.model, "prompt": context + continuation, "max_tokens": 0,
                                             "echo": True, "logprobs": 1, "temperature": 0})
            lp = data["choices"][0]["logprobs"]
            total = 0.0
            for offset, value in zip(lp["text_offset"], lp["token_logprobs"], strict=True):
                if offset >= len(context):
                    if value is None:
                        raise EndpointError("completions: missing log-probability for a continuation token")
                    total += float(value)
            return total

        return self._map(one, list(requests))
