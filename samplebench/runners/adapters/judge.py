"""A vision-language judge behind an OpenAI-compatible chat endpoint: the awareness scorer `judge:<model>[@<url>]`.

Tasks ask for it by name (a `cultural_t2i` task's `scorer` option or `$SAMPLEBENCH_T2I_SCORER`);
the runner's model provider (`samplebench.runners.task_models`) builds it here.

`score_images(prompts, images)`: for every image, POST {base_url}/chat/completions with the
question and the image as a base64 PNG data URL; the first digit 1-5 of the answer becomes
(digit - 1) / 4. Requests follow the project's one retry policy (`samplebench._network`: a
`timeout` per request, connection errors, timeouts, 408/409/429 and 5xx retried with exponential
backoff, at most `retries` more times and `deadline` seconds); an image that still fails, or whose
answer has no rating, gets an error string instead of a score (its prompt's rows carry it). The
API key is read from `$OPENAI_API_KEY` at call time and is never stored in results or messages.
"""

from __future__ import annotations

import os
import re
import urllib.error
from collections.abc import Sequence
from typing import Any

from ..._network import RetriesExhausted, call_with_retries, post_json
from ...registry import ModelSpec
from .base import ModelAdapter, register_adapter

JUDGE_QUESTION = (
    'This image was generated for the prompt: "{prompt}". On a scale from 1 (not at all) to 5 (perfectly), '
    "how faithfully and realistically does it depict the cultural artifact named in the prompt? "
    "Answer with a single digit."
)


@register_adapter("judge")
class JudgeScorer(ModelAdapter):
    """Per-image 1-5 ratings mapped to [0, 1] (`JudgeScorer(model, base_url)` or the spec `judge:<model>[@<url>]`)."""

    def __init__(self, model: str, base_url: str | None = None, *, retries: int = 3, timeout: float = 60.0,
                 concurrency: int = 4, backoff: float = 0.5, deadline: float | None = 600.0,
                 spec: ModelSpec | None = None) -> None:
        super().__init__(spec or ModelSpec(name=f"judge:{model}", adapter="judge",
                                           args={"model": model, **({"base_url": base_url} if base_url else {})}))
        self.model = model
        self.base_url = (base_url or os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1").rstrip("/")
        self.retries, self.timeout, self.concurrency, self.backoff = retries, timeout, concurrency, backoff
        self.deadline = deadline
        self.name = f"judge:{model}"

    @classmethod
    def from_spec(cls, spec: ModelSpec, *, model: str, base_url: str | None = None, **options: Any) -> JudgeScorer:
        return cls(model, base_url, spec=spec, **options)

    def _ask(self, prompt: str, image: Any) -> float | str:
        import base64
        import io

        from ...tasks.cultural_t2i import to_pil

        buf = io.BytesIO()
        to_pil(image).save(buf, format="PNG")
        url = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()
        payload = {
            "model": self.model, "temperature": 0, "max_tokens": 8,
            "messages": [{"role": "user", "content": [
                {"type": "text", "text": JUDGE_QUESTION.format(prompt=prompt)},
                {"type": "image_url", "image_url": {"url": url}}]}],
        }
        key = os.environ.get("OPENAI_API_KEY")
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        try:
            data = call_with_retries(
                lambda: post_json(f"{self.base_url}/chat/completions", payload, headers=headers, timeout=self.timeout),
                retries=self.retries, backoff=self.backoff, deadline=self.deadline)
            answer = data["choices"][0]["message"]["content"]
        except urllib.error.HTTPError as exc:
            return f"judge endpoint answered HTTP {exc.code}"
        except RetriesExhausted as exc:
            last = exc.last
            what = (f"answered HTTP {last.code}" if isinstance(last, urllib.error.HTTPError)
                    else f"unreachable ({type(getattr(last, 'reason', last)).__name__})")
            return f"judge endpoint {what} after {exc.attempts} attempts"
        except (KeyError, IndexError, TypeError, ValueError):
            return "judge endpoint returned an unexpected response"
        m = re.search(r"[1-5]", str(answer or ""))
        return (int(m.group()) - 1) / 4.0 if m else f"judge answer has no 1-5 rating: {str(answer)[:40]!r}"

    def score_images(self, prompts: Sequence[str], images: Sequence[Sequence[Any]]) -> list[list[float | str]]:
        from concurrent.futures import ThreadPoolExecutor

        jobs = [(i, p, im) for i, (p, ims) in enumerate(zip(prompts, images, strict=True)) for im in ims]
        out: list[list[float | str]] = [[] for _ in prompts]
        with ThreadPoolExecutor(max_workers=max(1, self.concurrency)) as pool:
            for (i, _, _), score in zip(jobs, pool.map(lambda j: self._ask(j[1], j[2]), jobs), strict=True):
                out[i].append(score)
        return out
