"""CLIP through transformers: the image embedder and awareness scorer `clip:<folder or Hub id>`.

Tasks ask for it by name (a `cultural_t2i` task's `scorer` / `embedder` option); the runner's
model provider (`samplebench.runners.task_models`) builds it here. `embed_images(images)` gives
CLIP image embeddings, `embed_texts(texts)` text embeddings, and `score_images(prompts, images)`
the CLIPScore-style per-image score max(cos(image, prompt), 0). Weights load on first use.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ...errors import SampleBenchError
from ...registry import ModelSpec
from .base import ModelAdapter, register_adapter


@register_adapter("clip")
class ClipModel(ModelAdapter):
    """CLIP image/text embeddings and per-image prompt scores (`ClipModel(path)` or the spec `clip:<path>`)."""

    def __init__(self, path: str, *, spec: ModelSpec | None = None) -> None:
        super().__init__(spec or ModelSpec(name=f"clip:{path}", adapter="clip", args={"model": path}))
        self.path = path
        self.name = f"clip:{path}"
        self._model: Any = None
        self._processor: Any = None

    @classmethod
    def from_spec(cls, spec: ModelSpec, *, model: str) -> ClipModel:
        return cls(model, spec=spec)

    def _load(self) -> None:
        if self._model is not None:
            return
        try:
            from transformers import CLIPModel, CLIPProcessor
        except ImportError:
            raise SampleBenchError("clip scorer needs transformers: pip install transformers torch") from None
        try:
            self._model = CLIPModel.from_pretrained(self.path).eval()
            self._processor = CLIPProcessor.from_pretrained(self.path)
        except (OSError, ValueError) as exc:
            raise SampleBenchError(
                f"cannot load CLIP model '{self.path}': {str(exc).splitlines()[0]}",
                hint="give a local folder, or a Hub id that is in the HF cache when offline",
            ) from None

    def _features(self, out: Any) -> Any:
        # transformers >= 5 may return a model output instead of a tensor
        return out if hasattr(out, "norm") else out.pooler_output

    def embed_images(self, images: Sequence[Any]) -> np.ndarray:
        import torch

        self._load()
        with torch.no_grad():
            from ...tasks.cultural_t2i import to_pil

            px = self._processor(images=[to_pil(im) for im in images], return_tensors="pt")
            f = self._features(self._model.get_image_features(**px))
        return f.float().numpy().astype(np.float64)

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        import torch

        self._load()
        with torch.no_grad():
            tok = self._processor(text=list(texts), return_tensors="pt", padding=True, truncation=True)
            f = self._features(self._model.get_text_features(**tok))
        return f.float().numpy().astype(np.float64)

    def score_images(self, prompts: Sequence[str], images: Sequence[Sequence[Any]]) -> list[list[float]]:
        out: list[list[float]] = []
        t = self.embed_texts(prompts)
        t /= np.linalg.norm(t, axis=1, keepdims=True)
        for row, ims in zip(t, images, strict=True):
            if not ims:
                out.append([])
                continue
            e = self.embed_images(ims)
            e /= np.linalg.norm(e, axis=1, keepdims=True)
            out.append([max(float(c), 0.0) for c in e @ row])
        return out

    def close(self) -> None:
        self._model = self._processor = None
