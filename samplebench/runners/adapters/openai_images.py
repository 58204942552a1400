"""An OpenAI-compatible image generation endpoint (`POST {base_url}/images/generations`) as an
`ImageGenerator`.

Model spec::

    name: dall-e-3
    adapter: openai-images
    args: {model: dall-e-3, size: 1024x1024, max_n: 1, concurrency: 4, save_dir: ./gens/dall-e-3}

`base_url` defaults to `$OPENAI_BASE_URL` (else https://api.openai.com/v1); the API key is read from
`$OPENAI_API_KEY` (or the variable named by `api_key_env`) when a request is made and is never
stored. Images come back as `b64_json` or as a `url` that is then downloaded. Endpoints that cap
`n` (DALL-E 3: 1) get several requests per prompt (`max_n`). Every request has a `timeout` (120 s);
connection errors, timeouts, 408/409/429 and 5xx are retried under the project's one policy
(`samplebench._network`: `retries`, `backoff`, at most `deadline` seconds per request); a prompt
that still fails is returned as the exception in place of its image list, so only that prompt's
samples carry the error. Hosted endpoints are not seeded: reruns give other images (save them with `save_dir` and evaluate the folder).
"""

from __future__ import annotations

import base64
import io
import os
import urllib.error
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..._network import RetriesExhausted, call_with_retries, describe, get_bytes, post_json
from ...errors import SampleBenchError
from ...registry import ModelSpec
from .base import ModelAdapter, register_adapter


@register_adapter("openai-images")
class OpenAIImagesAdapter(ModelAdapter):
    """k images per prompt from `/images/generations`."""

    def __init__(self, spec: ModelSpec, model: str | None = None, *, base_url: str | None = None,
                 size: str | None = "1024x1024", max_n: int = 10, concurrency: int = 4, retries: int = 3,
                 timeout: float = 120.0, backoff: float = 1.0, deadline: float | None = 900.0, api_key_env: str = "OPENAI_API_KEY",
                 save_dir: str | None = None, extra: dict[str, Any] | None = None) -> None:
        super().__init__(spec)
        where = spec.source or f"model '{spec.name}'"
        if not model:
            raise SampleBenchError(f"{where}: args.model: the endpoint's model name is required")
        for arg, v in (("max_n", max_n), ("concurrency", concurrency)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise SampleBenchError(f"{where}: args.{arg}: must be a positive integer, got {v!r}")
        self.model, self.size, self.max_n, self.concurrency = model, size, max_n, concurrency
        self.base_url = (base_url or os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1").rstrip("/")
        self.retries, self.timeout, self.backoff, self.api_key_env = int(retries), float(timeout), float(backoff), api_key_env
        self.deadline = None if deadline is None else float(deadline)
        self.save_dir = Path(save_dir).expanduser() if save_dir else None
        self.extra = dict(extra or {})
        self.where = where

    def _post(self, payload: dict[str, Any]) -> dict[str, Any]:
        """One generation request under the project's retry policy (`samplebench._network`)."""
        headers = {}
        key = os.environ.get(self.api_key_env)
        if key:
            headers["Authorization"] = f"Bearer {key}"
        url = f"{self.base_url}/images/generations"
        try:
            return call_with_retries(lambda: post_json(url, payload, headers=headers, timeout=self.timeout),
                                     retries=self.retries, backoff=self.backoff, deadline=self.deadline)
        except urllib.error.HTTPError as exc:
            raise SampleBenchError(f"image endpoint {self.base_url} answered HTTP {exc.code}") from None
        except ValueError:
            raise SampleBenchError(f"image endpoint {self.base_url} returned invalid JSON") from None
        except RetriesExhausted as exc:
            last = exc.last
            what = (f"answered HTTP {last.code}" if isinstance(last, urllib.error.HTTPError)
                    else f"unreachable ({type(getattr(last, 'reason', last)).__name__})")
            raise SampleBenchError(f"image endpoint {self.base_url} {what} after {exc.attempts} attempts") from None

    def _decode(self, item: dict[str, Any]) -> Any:
        from PIL import Image

        if item.get("b64_json"):
            raw = base64.b64decode(item["b64_json"])
        elif item.get("url"):
            try:
                raw = call_with_retries(lambda: get_bytes(item["url"], timeout=self.timeout), retries=self.retries,
                                        backoff=self.backoff, deadline=self.deadline)
            except (urllib.error.URLError, RetriesExhausted) as exc:
                raise SampleBenchError(f"cannot download generated image: {describe(getattr(exc, 'last', exc))}") from None
        else:
            raise SampleBenchError("image endpoint returned an item with neither b64_json nor url")
        try:
            with Image.open(io.BytesIO(raw)) as im:
                return im.convert("RGB")
        except (OSError, ValueError) as exc:
            raise SampleBenchError(f"image endpoint returned bytes that are not an image: {exc}") from None

    def _one_prompt(self, prompt: str, pid: str, k: int) -> list[Any] | Exception:
        images: list[Any] = []
        try:
            while len(images) < k:
                n = min(self.max_n, k - len(images))
                payload = {"model": self.model, "prompt": prompt, "n": n, "response_format": "b64_json", **self.extra}
                if self.size:
                    payload["size"] = self.size
                data = self._post(payload).get("data") or []
                if not data:
                    raise SampleBenchError("image endpoint returned no images")
                images.extend(self._decode(item) for item in data[:n])
        except SampleBenchError as exc:
            return exc
        if self.save_dir is not None:
            folder = self.save_dir / pid
            folder.mkdir(parents=True, exist_ok=True)
            for j, im in enumerate(images):
                im.save(folder / f"{j}.png")
        return images

    def generate_images(self, prompts: Sequence[str], *, k: int = 1,
                        prompt_ids: Sequence[str] | None = None) -> list[list[Any] | Exception]:
        """k images per prompt; a prompt that failed gets its exception instead of a list."""
        from concurrent.futures import ThreadPoolExecutor

        ids = [str(i) for i in prompt_ids] if prompt_ids is not None else [str(i) for i in range(len(prompts))]
        if len(ids) != len(prompts):
            raise SampleBenchError(f"{len(ids)} prompt ids for {len(prompts)} prompts")
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            return list(pool.map(lambda a: self._one_prompt(a[0], a[1], k), zip(prompts, ids, strict=True)))
