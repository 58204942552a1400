"""transformers causal language models: log-likelihoods of continuations and generation.

Name a model `hf-causal:<folder or Hub id>` or register a spec with adapter
`transformers_causal_lm` and args `model`, `device` (cuda > mps > cpu), `dtype` (auto|float32|
bfloat16|float16), `batch_size` (8), `max_length` (the model's context, else 2048).

`loglikelihood([(context, continuation)])` = sum over the continuation's tokens of
log p(token | everything before it), where the continuation's tokens are those of
tokenize(context + continuation) beyond tokenize(context) (as lm-eval does). Requests are
batched with right padding; the attention mask keeps padding out, so a request scores the same
alone or in a batch. A BOS token is prepended when the tokenizer defines one, so the first token
is also scored. `generate` decodes greedily (n = 1) or samples n sequences, with left padding.
Weights load on first use; `revision` is the Hub commit, else a hash of the weight files.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ...errors import SampleBenchError
from ...registry import ModelSpec
from .base import ModelAdapter, register_adapter
from .sentence_transformer import pick_device, weights_revision


@register_adapter("transformers_causal_lm")
class CausalLM(ModelAdapter):
    def __init__(self, spec: ModelSpec, *, model: str | None = None, device: str | None = None, dtype: str = "auto",
                 batch_size: int = 8, max_length: int | None = None, trust_remote_code: bool = False) -> None:
        super().__init__(spec)
        self.source = model or spec.name.removeprefix("hf-causal:")
        self.device_arg, self.dtype, self.batch_size, self.max_length = device, dtype, max(1, batch_size), max_length
        self.trust_remote_code = trust_remote_code
        self._model = self._tok = None
        folder = Path(self.source).expanduser()
        if folder.is_dir():
            self.source = str(folder)
            if self.revision is None:
                self.revision = weights_revision(folder)

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def _load(self) -> tuple[Any, Any]:
        if self._model is None:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer

            kwargs: dict[str, Any] = {"trust_remote_code": self.trust_remote_code}
            if self.spec.revision and not Path(self.source).is_dir():
                kwargs["revision"] = self.spec.revision
            try:
                tok = AutoTokenizer.from_pretrained(self.source, **kwargs)
                dtype = {"auto": "auto", "float32": torch.float32, "bfloat16": torch.bfloat16,
                         "float16": torch.float16}[self.dtype]
                model = AutoModelForCausalLM.from_pretrained(self.source, dtype=dtype, **kwargs)
            except (OSError, ValueError, KeyError) as exc:
                raise SampleBenchError(f"cannot load causal LM '{self.source}': {str(exc).splitlines()[0]}") from None
            self.device = pick_device(self.device_arg)
            model.to(self.device).eval()
            if tok.pad_token_id is None:
                tok.pad_token = tok.eos_token if tok.eos_token is not None else tok.unk_token
            self._model, self._tok = model, tok
            if self.max_length is None:
                self.max_length = int(getattr(model.config, "max_position_embeddings", 2048) or 2048)
        return self._model, self._tok

    def _encode(self, text: str) -> list[int]:
        _, tok = self._load()
        return tok(text, add_special_tokens=False)["input_ids"]

    def loglikelihood(self, requests: Sequence[tuple[str, str]]) -> list[float]:
        import torch

        model, tok = self._load()
        bos = [tok.bos_token_id] if tok.bos_token_id is not None else []
        items: list[tuple[list[int], int]] = []  # (tokens, index where the continuation starts)
        for context, continuation in requests:
            ctx = bos + self._encode(context)
            whole = bos + self._encode(context + continuation)
            start = len(ctx)
            if whole[:start] != ctx:  # merge across the boundary: fall back to separate tokenisation
                whole = ctx + self._encode(continuation)
            if len(whole) <= start:
                raise ValueError("empty continuation")
            if not bos and start == 0:
                raise ValueError("the first token cannot be scored without a BOS token or a context")
            keep = whole[-self.max_length:]
            start -= len(whole) - len(keep)
            items.append((keep, max(start, 1)))
        out: list[float] = []
        pad = tok.pad_token_id
        for b in range(0, len(items), self.batch_size):
            batch = items[b:b + self.batch_size]
            width = max(len(t) for t, _ in batch)
            ids = torch.full((len(batch), width), pad, dtype=torch.long)
            mask = torch.zeros((len(batch), width), dtype=torch.long)
            for i, (t, _) in enumerate(batch):
                ids[i, :len(t)] = torch.tensor(t)
                mask[i, :len(t)] = 1
            with torch.no_grad():
                logits = model(input_ids=ids.to(self.device), attention_mask=mask.to(self.device)).logits.float()
            logp = torch.log_softmax(logits, dim=-1).cpu()
            for i, (t, start) in enumerate(batch):
                target = torch.tensor(t[start:])
                rows = logp[i, start - 1:len(t) - 1]
                out.append(float(rows.gather(1, target[:, None]).sum()))
        return out

    def generate(self, prompts: Sequence[str], *, max_new_tokens: int = 64, n: int = 1) -> list[list[str]]:
        import torch

        model, tok = self._load()
        tok.padding_side = "left"
        results: list[list[str]] = []
        for b in range(0, len(prompts), self.batch_size):
            batch = list(prompts[b:b + self.batch_size])
            enc = tok(batch, return_tensors="pt", padding=True).to(self.device)
            with torch.no_grad():
                gen = model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=n > 1, num_return_sequences=n,
                                     pad_token_id=tok.pad_token_id)
            new = gen[:, enc["input_ids"].shape[1]:]
            texts = tok.batch_decode(new, skip_special_tokens=True)
            results.extend(texts[i * n:(i + 1) * n] for i in range(len(batch)))
        return results

    def close(self) -> None:
        self._model = self._tok = None
