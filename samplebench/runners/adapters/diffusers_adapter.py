"""A `diffusers` text-to-image pipeline as an `ImageGenerator` (optional: `pip install diffusers`).

Model spec::

    name: sdxl-turbo
    adapter: diffusers
    revision: <commit of the Hub repo>          # recorded with the results
    args: {model: stabilityai/sdxl-turbo, num_inference_steps: 4, guidance_scale: 0.0,
           dtype: float16, device: auto, batch_size: 4, seed: 0, save_dir: ./gens/sdxl-turbo}

Each image gets its own torch generator seeded from (seed, prompt id, image index), so a prompt's
images are the same whatever the batching or the subset evaluated. With `save_dir` every image is
also written to `<save_dir>/<prompt id>/<j>.png`, the layout the `images` adapter reads back
(rate them, then evaluate the folder). Weights load on the first call.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ...errors import SampleBenchError
from ...registry import ModelSpec
from .base import ModelAdapter, register_adapter

_DTYPES = ("float32", "float16", "bfloat16")


def image_seed(seed: int, prompt_id: str, index: int) -> int:
    """A stable 63-bit seed for image `index` of `prompt_id` (independent of batching)."""
    digest = hashlib.sha256(f"{seed}\0{prompt_id}\0{index}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


@register_adapter("diffusers")
class DiffusersAdapter(ModelAdapter):
    """Runs `DiffusionPipeline.from_pretrained(model)(prompt=..., num_images_per_prompt=k)`."""

    def __init__(self, spec: ModelSpec, model: str | None = None, *, num_inference_steps: int | None = None,
                 guidance_scale: float | None = None, height: int | None = None, width: int | None = None,
                 negative_prompt: str | None = None, dtype: str = "float32", device: str = "auto",
                 batch_size: int = 4, seed: int = 0, save_dir: str | None = None,
                 local_files_only: bool | None = None) -> None:
        super().__init__(spec)
        where = spec.source or f"model '{spec.name}'"
        if not model:
            raise SampleBenchError(f"{where}: args.model: a diffusers pipeline folder or Hub id is required")
        if dtype not in _DTYPES:
            raise SampleBenchError(f"{where}: args.dtype: use one of {', '.join(_DTYPES)}, got {dtype!r}")
        if not isinstance(batch_size, int) or batch_size < 1:
            raise SampleBenchError(f"{where}: args.batch_size: must be a positive integer, got {batch_size!r}")
        local = Path(model).expanduser()
        if not local.is_absolute() and spec.source is not None and (spec.source.parent / local).exists():
            local = spec.source.parent / local
        self.model = str(local) if local.exists() else model
        self.where = where
        self.call_kwargs = {k: v for k, v in {
            "num_inference_steps": num_inference_steps, "guidance_scale": guidance_scale, "height": height,
            "width": width, "negative_prompt": negative_prompt}.items() if v is not None}
        self.dtype, self.device_arg, self.batch_size, self.seed = dtype, device, batch_size, int(seed)
        self.save_dir = Path(save_dir).expanduser() if save_dir else None
        if local_files_only is None:
            local_files_only = os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes")
        self.local_files_only = bool(local_files_only)
        self._pipe: Any = None
        if self.revision is None and local.exists():
            self.revision = "local-" + self._folder_hash(local)

    @staticmethod
    def _folder_hash(root: Path) -> str:
        h = hashlib.sha256()
        for p in sorted(root.rglob("*")):
            if p.is_file():
                h.update(f"{p.relative_to(root)}\0{p.stat().st_size}\n".encode())
        return h.hexdigest()[:16]

    def _device(self) -> str:
        import torch

        if self.device_arg != "auto":
            return self.device_arg
        if torch.cuda.is_available():
            return "cuda"
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return "mps"
        return "cpu"

    @property
    def pipeline(self) -> Any:
        if self._pipe is None:
            try:
                import torch
                from diffusers import DiffusionPipeline
            except ImportError:
                raise SampleBenchError(
                    f"{self.where}: the diffusers adapter needs `pip install diffusers` (and torch)"
                ) from None
            try:
                from diffusers.pipelines import pipeline_utils

                # diffusers >= 0.36 takes `dtype` and deprecates `torch_dtype`
                dkey = "dtype" if hasattr(pipeline_utils, "_resolve_dtype") else "torch_dtype"
                pipe = DiffusionPipeline.from_pretrained(
                    self.model, revision=self.spec.revision if not Path(self.model).exists() else None,
                    local_files_only=self.local_files_only, **{dkey: getattr(torch, self.dtype)},
                )
            except (OSError, ValueError) as exc:
                raise SampleBenchError(
                    f"{self.where}: cannot load diffusers pipeline '{self.model}': {str(exc).splitlines()[0]}",
                    hint="give a local pipeline folder, or a Hub id (offline: it must be in the HF cache)",
                ) from None
            pipe.set_progress_bar_config(disable=True)
            self._pipe = pipe.to(self._device())
        return self._pipe

    def generate_images(self, prompts: Sequence[str], *, k: int = 1,
                        prompt_ids: Sequence[str] | None = None) -> list[list[Any]]:
        """k PIL images per prompt, each from its own seeded generator."""
        import torch

        ids = [str(i) for i in prompt_ids] if prompt_ids is not None else [str(p) for p in prompts]
        if len(ids) != len(prompts):
            raise SampleBenchError(f"{len(ids)} prompt ids for {len(prompts)} prompts")
        pipe = self.pipeline
        gen_device = "cpu" if self._device() == "mps" else self._device()
        out: list[list[Any]] = []
        for start in range(0, len(prompts), self.batch_size):
            chunk = list(prompts[start:start + self.batch_size])
            chunk_ids = ids[start:start + self.batch_size]
            gens = [torch.Generator(gen_device).manual_seed(image_seed(self.seed, pid, j))
                    for pid in chunk_ids for j in range(k)]
            with torch.inference_mode():
                images = pipe(prompt=chunk, num_images_per_prompt=k, generator=gens, output_type="pil",
                              **self.call_kwargs).images
            if len(images) != len(chunk) * k:
                raise SampleBenchError(f"pipeline returned {len(images)} images for {len(chunk)} prompts x {k}")
            for i, pid in enumerate(chunk_ids):
                ims = images[i * k:(i + 1) * k]
                if self.save_dir is not None:
                    folder = self.save_dir / pid
                    folder.mkdir(parents=True, exist_ok=True)
                    for j, im in enumerate(ims):
                        im.save(folder / f"{j}.png")
                out.append(ims)
        return out

    def close(self) -> None:
        self._pipe = None
