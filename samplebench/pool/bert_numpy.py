"""A NumPy forward pass of a sentence-transformers BERT encoder: query vectors without torch.

`bench query` encodes one short text per query, in a fresh process. Through sentence-transformers
that costs importing torch and transformers and building the model (~4.4 s of a 6.5 s command on
1M cards); the forward pass itself is milliseconds. For the models this module supports it
computes the same embedding from the model folder's own files:

* `tokenizer.json` through the Rust `tokenizers` library (what transformers' fast tokenizer
  wraps), truncated to the folder's `max_seq_length` (`sentence_bert_config.json`) as
  sentence-transformers truncates;
* `model.safetensors` read into NumPy arrays (`safetensors.numpy`, no torch);
* BERT (absolute positions, exact erf GELU, post-layer-norm):
  `h0 = LN(E_word[ids] + E_pos[0..L) + E_type[type ids])`, then per layer
  `a = softmax(Q K^T / sqrt(d_head) + mask) V` per head, `h = LN(h + a W_o + b_o)`,
  `h = LN(h + GELU(h W_i + b_i) W_out + b_out)`, with `LN(x) = g (x - mean) / sqrt(var + eps) + b`;
* mean pooling over the attention mask, then L2 normalisation (the pool compares unit vectors).

It is equal to sentence-transformers' embedding of the same folder within 1e-5 per component
(tests/test_pool_numpy_bert.py; the largest difference measured on the 805 AlpacaEval
instructions and 1,002 CUBE prompts is 1.9e-7). The sums run in float32 like torch's;
differences are rounding only. Batches are sorted by length (less padding), and a small input
runs on one BLAS thread (a query: a few milliseconds).

Why not onnxruntime: the model package ships no ONNX graph, so one would have to be exported
with torch (or optimum) and kept beside the weights, and it adds a native runtime dependency for
a computation that is six matrix products per layer; here the only new code is the
forward pass above, on libraries the project already installs (tokenizers, safetensors, NumPy).

Supported: a folder whose `modules.json` is Transformer -> Pooling (mean tokens only) [->
Normalize], `config.json` `model_type: bert` with absolute positions and `gelu`, and
`model.safetensors` + `tokenizer.json`. `NumpyBert.supports(folder)` says whether a folder is one;
anything else is encoded by its registered adapter (`PoolEmbedder`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

_TRANSFORMER = "sentence_transformers.models.Transformer"
_POOLING = "sentence_transformers.models.Pooling"
_NORMALIZE = "sentence_transformers.models.Normalize"


def _json(path: Path) -> dict | list | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


SMALL_INPUT = 512  # tokens in a batch up to which one BLAS thread is faster than several


def _blas_threads(n_tokens: int):
    """One BLAS thread for small inputs (a query: a few tokens, where waking and syncing a thread
    pool costs more than the products, and much more when other processes share the cores)."""
    from contextlib import nullcontext

    if n_tokens > SMALL_INPUT:
        return nullcontext()
    from threadpoolctl import threadpool_limits

    return threadpool_limits(1, user_api="blas")


class NumpyBert:
    """A mean-pooled BERT sentence encoder evaluated with NumPy; `encode` returns unit vectors."""

    def __init__(self, folder: str | Path, *, max_seq_length: int | None = None) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        self.folder = Path(folder)
        if not self.supports(self.folder):
            raise ValueError(f"{self.folder} is not a mean-pooled BERT sentence-transformers folder")
        cfg = _json(self.folder / "config.json")
        self.heads = int(cfg["num_attention_heads"])
        self.layers = int(cfg["num_hidden_layers"])
        self.eps = float(cfg.get("layer_norm_eps", 1e-12))
        st = _json(self.folder / "sentence_bert_config.json") or {}
        self.max_length = int(max_seq_length or st.get("max_seq_length") or cfg.get("max_position_embeddings", 512))
        w = load_file(str(self.folder / "model.safetensors"))
        self.w = {k.removeprefix("bert."): v for k, v in w.items()}
        self.tokenizer = Tokenizer.from_file(str(self.folder / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(self.max_length)

    @staticmethod
    def supports(folder: str | Path) -> bool:
        folder = Path(folder)
        modules = _json(folder / "modules.json")
        cfg = _json(folder / "config.json")
        pooling = _json(folder / "1_Pooling" / "config.json")
        if not isinstance(modules, list) or not isinstance(cfg, dict) or not isinstance(pooling, dict):
            return False
        types = [m.get("type") for m in modules]
        if types not in ([_TRANSFORMER, _POOLING], [_TRANSFORMER, _POOLING, _NORMALIZE]):
            return False
        if modules[0].get("path", "") != "" or modules[1].get("path") != "1_Pooling":
            return False
        modes = {k for k, v in pooling.items() if k.startswith("pooling_mode") and v}
        return (cfg.get("model_type") == "bert" and cfg.get("hidden_act") == "gelu"
                and cfg.get("position_embedding_type", "absolute") == "absolute"
                and modes == {"pooling_mode_mean_tokens"}
                and (folder / "model.safetensors").is_file() and (folder / "tokenizer.json").is_file())

    # -- the forward pass ----------------------------------------------------------------------
    def _layer_norm(self, x: np.ndarray, name: str) -> np.ndarray:
        mean = x.mean(-1, keepdims=True)
        var = ((x - mean) ** 2).mean(-1, keepdims=True)
        return (x - mean) / np.sqrt(var + self.eps) * self.w[f"{name}.weight"] + self.w[f"{name}.bias"]

    def _dense(self, x: np.ndarray, name: str) -> np.ndarray:
        """x W^T + b over the last axis, as one matrix product over every token of the batch."""
        flat = x.reshape(-1, x.shape[-1]) @ self.w[f"{name}.weight"].T + self.w[f"{name}.bias"]
        return flat.reshape(*x.shape[:-1], flat.shape[-1])

    def hidden_states(self, ids: np.ndarray, mask: np.ndarray, types: np.ndarray) -> np.ndarray:
        """Last hidden states (batch, length, dim) for token ids, attention mask and token types."""
        from scipy.special import erf

        w = self.w
        b, n = ids.shape
        x = (w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:n]
             + w["embeddings.token_type_embeddings.weight"][types])
        x = self._layer_norm(x, "embeddings.LayerNorm")
        d = x.shape[-1]
        dh = d // self.heads
        bias = np.where(mask[:, None, None, :] > 0, 0.0, np.finfo(np.float32).min).astype(np.float32)
        for i in range(self.layers):
            p = f"encoder.layer.{i}"

            def heads(t: np.ndarray, axes: tuple[int, ...] = (0, 2, 1, 3)) -> np.ndarray:
                # contiguous (batch, head, ., .) blocks: NumPy multiplies stacked matrices with BLAS
                # only when each block is; a transposed view falls back to a slow generic loop
                return np.ascontiguousarray(t.reshape(b, n, self.heads, dh).transpose(*axes))

            q = heads(self._dense(x, f"{p}.attention.self.query"))
            kt = heads(self._dense(x, f"{p}.attention.self.key"), (0, 2, 3, 1))  # K^T per head
            v = heads(self._dense(x, f"{p}.attention.self.value"))
            s = q @ kt / np.float32(np.sqrt(dh)) + bias
            s = np.exp(s - s.max(-1, keepdims=True))
            s /= s.sum(-1, keepdims=True)
            ctx = (s @ v).transpose(0, 2, 1, 3).reshape(b, n, d)
            x = self._layer_norm(x + self._dense(ctx, f"{p}.attention.output.dense"), f"{p}.attention.output.LayerNorm")
            h = self._dense(x, f"{p}.intermediate.dense")
            h = 0.5 * h * (1.0 + erf(h / np.float32(np.sqrt(2.0))))
            x = self._layer_norm(x + self._dense(h, f"{p}.output.dense"), f"{p}.output.LayerNorm")
        return x

    def encode(self, texts: Sequence[str], *, batch_size: int = 32) -> np.ndarray:
        """Unit vectors (float32, one row per text): mean of the last hidden states over the tokens."""
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.w["embeddings.word_embeddings.weight"].shape[1]), np.float32)
        encoded = self.tokenizer.encode_batch(texts)
        order = np.argsort([-len(e.ids) for e in encoded], kind="stable")  # similar lengths batched: less padding
        out = np.empty((len(texts), self.w["embeddings.word_embeddings.weight"].shape[1]), np.float32)
        for lo in range(0, len(texts), batch_size):
            rows = order[lo: lo + batch_size]
            enc = [encoded[i] for i in rows]
            n = max(len(e.ids) for e in enc)
            ids = np.zeros((len(enc), n), np.int64)
            types = np.zeros((len(enc), n), np.int64)
            mask = np.zeros((len(enc), n), np.float32)
            for j, e in enumerate(enc):
                ids[j, : len(e.ids)] = e.ids
                types[j, : len(e.ids)] = e.type_ids
                mask[j, : len(e.ids)] = 1.0
            with _blas_threads(ids.size):
                h = self.hidden_states(ids, mask, types)
            pooled = (h * mask[..., None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1e-9)
            out[rows] = pooled
        from .embedder import normalise

        return normalise(out)
