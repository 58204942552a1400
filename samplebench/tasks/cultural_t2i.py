"""`cultural_t2i`: CUBE-style cultural awareness and cultural diversity of text-to-image models.

Data: one row per prompt, with roles `prompt` (required) and `id`, `concept`, `country`,
`region`, `domain` (optional). The generator (an `ImageGenerator`: a diffusers pipeline, an
endpoint, or a folder of your own images keyed by prompt id) makes `k` images per prompt.

Samples and metrics:

* awareness samples (option `awareness: true`): one per prompt, sample id = the prompt id.
  `awareness` = mean over the prompt's images of a per-image score in [0, 1] from the scorer
  (option `scorer`): `ratings` (per-image ratings the generator carries, e.g. human ratings in a
  bring-your-own folder's ratings.csv, rescaled to [0, 1]), `clip:<folder or Hub id>`
  (CLIPScore-style max(cos(image, prompt), 0) through transformers), `judge:<model>[@<base url>]`
  (a vision-language model behind an OpenAI-compatible chat endpoint rates each image 1-5, mapped
  to [0, 1]; base URL from `$OPENAI_BASE_URL`, key from `$OPENAI_API_KEY`), `none`, or `auto`
  (ratings when the generator has them, else `$SAMPLEBENCH_T2I_SCORER`, else none). Without a
  scorer the awareness rows carry an error that says how to provide one. The `clip:` and `judge:`
  models are not built here: the evaluator asks its model provider for them by name
  (`Evaluator.model`; the runner's provider builds them with the `clip` and `judge` adapters).
* diversity samples (option `diversity_group_by: [concept, country]`, any roles): one per group
  of prompts sharing those values, sample id `div:<value>|<value>`. With exactly `k` images per
  prompt, `diversity` = Vendi score VS_q over the group's images under the cosine kernel of the
  image embedder (option `embedder`: `image-features`, the deterministic offline default below,
  `clip:<model>`, or `labels`: CUBE's similarity of per-image tags, see below), and
  `quality_weighted_diversity` = mean per-image score x VS_q (Nguyen & Dieng's qVS; needs a
  scorer). `diversity_fraction: true` divides both by the group size (CUBE's normalised Vendi
  score, in (0, 1]). Vendi scores of sets of different sizes are not
  comparable, so a prompt with fewer than `k` images makes its groups error rows.

With `embedder: labels` the kernel is CUBE's hierarchical similarity of tags the generator
carries per image (e.g. a VLM geo-tagger's continent, country and artifact, in a bring-your-own
folder's labels.csv): k(a, b) = sum_l w_l [a_l == b_l] / sum_l w_l over the tag columns named in
option `label_weights` (CUBE's global prompts: `{continent: 1}`; tags compared case-insensitively).

The deterministic image features (`image_features`) need no weights: a joint RGB colour histogram
(4x4x4 bins, square-rooted), a 4x4-cell histogram of gradient orientations (8 bins, magnitude
weighted) and an 8x8 zero-mean grey thumbnail, each block scaled to unit length. They see colour,
texture and layout — enough to tell a generator that paints the same picture every time from one
that does not — but nothing semantic; use CLIP when it is available.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import SampleBenchError
from ._data import load_split, require_columns, row_ids
from .base import Evaluator, ImageGenerator, SampleResult, register_evaluator
from .diversity import vendi_score

GROUP_ROLES = ("concept", "country", "region", "domain")
GROUP_PREFIX = "div:"
SCORER_ENV = "SAMPLEBENCH_T2I_SCORER"

# ------------------------------------------------------------------------------- image features

FEATURE_SIZE = 64


def to_pil(image: Any) -> Any:
    """A PIL RGB image from a PIL image, an (H, W[, C]) array (uint8 or floats in [0, 1]) or a path."""
    from PIL import Image

    if isinstance(image, Image.Image):
        return image.convert("RGB")
    if isinstance(image, str | Path):
        try:
            with Image.open(image) as im:
                return im.convert("RGB")
        except (OSError, ValueError) as exc:
            raise SampleBenchError(f"cannot read image {image}: {exc}") from None
    arr = np.asarray(image)
    if arr.ndim == 3 and arr.shape[0] in (1, 3, 4) and arr.shape[-1] not in (1, 3, 4):
        arr = np.moveaxis(arr, 0, -1)  # CHW -> HWC
    if arr.ndim not in (2, 3) or arr.size == 0:
        raise SampleBenchError(f"an image must be a PIL image, a path or an (H, W[, C]) array, got shape {arr.shape}")
    if arr.dtype != np.uint8:
        arr = np.clip(np.nan_to_num(arr.astype(np.float64)) * 255.0 + 0.5, 0, 255).astype(np.uint8)
    if arr.ndim == 3 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    return Image.fromarray(arr).convert("RGB")


def _unit(v: np.ndarray) -> np.ndarray:
    """v / |v|; a block whose norm is round-off (flat image: no texture, no layout) stays zero."""
    n = float(np.linalg.norm(v))
    return v / n if n > 1e-9 else np.zeros_like(v)


def image_features(image: Any) -> np.ndarray:
    """Deterministic 256-d features of one image (colour 64 + gradient orientation 128 + layout 64)."""
    from PIL import Image

    im = to_pil(image).resize((FEATURE_SIZE, FEATURE_SIZE), Image.Resampling.BILINEAR)
    rgb = np.asarray(im, dtype=np.float64) / 255.0
    # colour: joint 4x4x4 histogram, Hellinger (sqrt) so one dominant colour does not swamp the rest
    q = np.minimum((rgb * 4).astype(np.int64), 3)
    idx = q[..., 0] * 16 + q[..., 1] * 4 + q[..., 2]
    colour = np.sqrt(np.bincount(idx.ravel(), minlength=64) / idx.size)
    # texture: orientation histogram of grey-level gradients in a 4x4 grid of cells
    grey = rgb @ np.array([0.299, 0.587, 0.114])
    gx = np.zeros_like(grey)
    gy = np.zeros_like(grey)
    gx[:, 1:-1] = grey[:, 2:] - grey[:, :-2]
    gy[1:-1, :] = grey[2:, :] - grey[:-2, :]
    mag = np.hypot(gx, gy)
    ang = np.mod(np.arctan2(gy, gx), np.pi)
    obin = np.minimum((ang / np.pi * 8).astype(np.int64), 7)
    cell = FEATURE_SIZE // 4
    rows = np.arange(FEATURE_SIZE) // cell
    cidx = (rows[:, None] * 4 + rows[None, :]) * 8 + obin
    texture = np.sqrt(np.bincount(cidx.ravel(), weights=mag.ravel(), minlength=128))
    # layout: 8x8 grey thumbnail, zero mean
    thumb = grey.reshape(8, FEATURE_SIZE // 8, 8, FEATURE_SIZE // 8).mean(axis=(1, 3)).ravel()
    layout = thumb - thumb.mean()
    return np.concatenate([_unit(colour), _unit(texture), _unit(layout)]) / np.sqrt(3.0)


class ImageFeatureEmbedder:
    """The offline default image embedder: `embed_images(images) -> (n, 256)` array."""

    name = "image-features"

    def embed_images(self, images: Sequence[Any]) -> np.ndarray:
        if len(images) == 0:
            return np.zeros((0, 256))
        return np.stack([image_features(im) for im in images])


def label_kernel(labels: Sequence[dict[str, Any]], weights: dict[str, float]) -> np.ndarray:
    """K_ij = sum_l w_l [labels_i[l] == labels_j[l]] / sum_l w_l (PSD: a sum of indicator kernels)."""
    total = float(sum(weights.values()))
    K = np.zeros((len(labels), len(labels)))
    for col, w in weights.items():
        if w == 0:
            continue
        vals = [str(lab.get(col, "")).strip().casefold() for lab in labels]
        if any(v == "" for v in vals):
            raise SampleBenchError(f"an image has no '{col}' label")
        codes = np.unique(vals, return_inverse=True)[1]
        K += w * (codes[:, None] == codes[None, :])
    return K / total


def _is_model_scorer(name: Any) -> bool:
    return isinstance(name, str) and any(name.startswith(p) and len(name) > len(p) for p in ("clip:", "judge:"))


# ---------------------------------------------------------------------------------------- data


@dataclass
class T2IData:
    """Prompts (with their roles) and the samples built from them."""

    ids: list[str]
    prompts: list[str]
    roles: dict[str, list[str]]
    awareness_ids: list[str]
    groups: dict[str, list[int]] = field(default_factory=dict)

    def sample_ids(self) -> list[str]:
        return self.awareness_ids + list(self.groups)

    def sample_cards(self) -> list[dict[str, Any]]:
        """What each sample is (the store's sample cards): an awareness sample is its prompt, with
        the prompt's roles (concept, country, region, domain) as metadata; a diversity group is
        its prompts, one per paragraph, with the roles all its prompts share."""
        def roles_of(rows: list[int]) -> dict[str, str]:
            return {r: vals[rows[0]] for r, vals in self.roles.items()
                    if vals[rows[0]] and all(vals[i] == vals[rows[0]] for i in rows)}

        index = {pid: i for i, pid in enumerate(self.ids)}
        cards = [{"sample_id": pid, "text": self.prompts[index[pid]], "metadata": roles_of([index[pid]])}
                 for pid in self.awareness_ids]
        cards += [{"sample_id": gid, "text": "\n\n".join(self.prompts[i] for i in rows),
                   "metadata": {**roles_of(rows), "prompts": len(rows)}} for gid, rows in self.groups.items()]
        return cards


def group_id(values: Sequence[str]) -> str:
    """`div:` + the group's non-empty role values joined by '|' (e.g. `div:cuisine|Brazil`)."""
    return GROUP_PREFIX + "|".join(v for v in values if v)


@register_evaluator
class CulturalT2IEvaluator(Evaluator):
    """Awareness per prompt and (quality-weighted) Vendi diversity per group of prompts."""

    type = "cultural_t2i"
    known_metrics = ("awareness", "diversity", "quality_weighted_diversity")
    options_defaults = {
        "eval_split": "test",
        "k": 4,
        "awareness": True,
        "diversity_group_by": None,
        "embedder": "image-features",
        "scorer": "auto",
        "q": 1.0,
        "diversity_fraction": False,
        "batch_prompts": 16,
        "label_weights": None,
    }

    def __init__(self, spec: Any) -> None:
        super().__init__(spec)
        where = f"{spec.source or f'task {spec.name!r}'}: options"
        k = self.option("k")
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise SampleBenchError(f"{where}.k: images per prompt must be an integer >= 1, got {k!r}")
        self.k: int = k
        by = self.option("diversity_group_by")
        if by is not None:
            if isinstance(by, str):
                by = [by]
            if not isinstance(by, list) or not by or any(r not in GROUP_ROLES for r in by):
                raise SampleBenchError(
                    f"{where}.diversity_group_by: give a list of roles among {', '.join(GROUP_ROLES)}, got {by!r}"
                )
            missing = [r for r in by if r not in spec.columns]
            if missing:
                raise SampleBenchError(
                    f"{where}.diversity_group_by: role(s) {', '.join(missing)} are not bound in columns"
                )
        self.group_by: list[str] | None = by
        self.do_awareness = bool(self.option("awareness"))
        if not self.do_awareness and self.group_by is None:
            raise SampleBenchError(f"{where}: nothing to measure; set awareness: true or diversity_group_by")
        declared = {m.name for m in spec.metrics}
        wanted = ({"awareness"} if self.do_awareness else set()) | (
            {"diversity", "quality_weighted_diversity"} if self.group_by else set())
        extra = declared - wanted
        if extra:
            raise SampleBenchError(
                f"{spec.source or f'task {spec.name!r}'}: metrics {', '.join(sorted(extra))} are declared but "
                "this task's options never record them (awareness needs awareness: true; diversity metrics "
                "need diversity_group_by)"
            )
        from .diversity import _order

        try:
            self.q = _order(self.option("q"))
        except SampleBenchError as exc:
            raise SampleBenchError(f"{where}.q: {exc.message}") from None
        emb = self.option("embedder")
        if not isinstance(emb, str) or not (emb in ("image-features", "labels") or (emb.startswith("clip:") and len(emb) > 5)):
            raise SampleBenchError(f"{where}.embedder: use 'image-features', 'labels' or 'clip:<model>', got {emb!r}")
        lw = self.option("label_weights")
        self.label_weights: dict[str, float] | None = None
        if emb == "labels":
            ok = isinstance(lw, dict) and lw and all(
                isinstance(k, str) and isinstance(v, int | float) and not isinstance(v, bool) and v >= 0
                for k, v in lw.items())
            if not ok or sum(lw.values()) <= 0:
                raise SampleBenchError(
                    f"{where}.label_weights: embedder 'labels' needs weights per tag column, "
                    f"e.g. {{continent: 1, country: 0.5}} (non-negative, not all zero), got {lw!r}")
            self.label_weights = {k: float(v) for k, v in lw.items()}
        elif lw is not None:
            raise SampleBenchError(f"{where}.label_weights: only used with embedder: labels")
        sc = self.option("scorer")
        if not (sc in ("auto", "ratings", "none") or _is_model_scorer(sc)):
            raise SampleBenchError(
                f"{where}.scorer: use auto, ratings, none, clip:<model> or judge:<model>[@<base url>], got {sc!r}")

    # ------------------------------------------------------------------------------ data
    def load(self) -> T2IData:
        split = load_split(self.spec, self.option("eval_split"))
        cols = require_columns(self.spec, split, ["prompt", *GROUP_ROLES])
        ids = row_ids(self.spec, split, prefix="p")
        prompts = [str(p) for p in split[cols["prompt"]]]
        roles = {r: ["" if v is None else str(v) for v in split[c]] for r, c in cols.items() if r in GROUP_ROLES}
        groups: dict[str, list[int]] = {}
        if self.group_by:
            keys: dict[str, tuple[str, ...]] = {}
            for i in range(len(ids)):
                vals = tuple(roles[r][i] for r in self.group_by)
                gid = group_id(vals)
                if keys.setdefault(gid, vals) != vals:
                    raise SampleBenchError(
                        f"task '{self.spec.name}': groups {keys[gid]} and {vals} both get the id '{gid}'; "
                        "fill the empty role values"
                    )
                groups.setdefault(gid, []).append(i)
        clash = next((i for i in ids if i.startswith(GROUP_PREFIX)), None)
        if clash is not None:
            raise SampleBenchError(
                f"task '{self.spec.name}': prompt id '{clash}' starts with '{GROUP_PREFIX}', which names diversity "
                "groups; rename it in the dataset's id column")
        return T2IData(ids, prompts, roles, list(ids) if self.do_awareness else [], groups)

    def sample_ids(self, data: T2IData) -> list[str]:
        return data.sample_ids()

    def expected_metrics(self, sample_id: str) -> list[str]:
        """The declared metrics a sample records: `awareness` for a prompt, the diversity pair for a group."""
        names = [m.name for m in self.spec.metrics]
        if sample_id.startswith(GROUP_PREFIX):
            return [m for m in names if m in ("diversity", "quality_weighted_diversity")]
        return [m for m in names if m == "awareness"]

    def restrict(self, data: T2IData, sample_ids: Sequence[str]) -> T2IData:
        return data  # samples are selected in evaluate(); groups need all their prompts

    # ------------------------------------------------------------------------- scoring
    def _scorer(self, model: Any) -> tuple[str, Any]:
        """('ratings', None) | ('model', the scorer named, from the runner's provider) | ('none', reason)."""
        sc = self.option("scorer")
        if sc == "auto":
            if callable(getattr(model, "image_ratings", None)) and getattr(model, "has_ratings", True):
                return "ratings", None
            sc = os.environ.get(SCORER_ENV, "none") or "none"
            if not _is_model_scorer(sc):
                return "none", (
                    "no awareness scorer: put ratings.csv (prompt_id, file_name, awareness) beside your images, "
                    f"or set options.scorer / ${SCORER_ENV} to clip:<model> or judge:<model>"
                )
        if sc == "ratings":
            if not callable(getattr(model, "image_ratings", None)):
                return "none", "scorer 'ratings': this generator carries no ratings"
            return "ratings", None
        if sc == "none":
            return "none", "scorer: none (no awareness measured for this task)"
        return "model", self.model(sc)

    def _embedder(self, name: str) -> Any:
        """'labels', the offline image features, or a CLIP model from the runner's provider."""
        if name == "labels":
            return "labels"
        if name == "image-features":
            return ImageFeatureEmbedder()
        return self.model(name)

    def evaluate(self, model: Any, data: T2IData, sample_ids: Iterable[str] | None = None) -> Iterator[SampleResult]:
        if not isinstance(model, ImageGenerator):
            raise SampleBenchError(
                f"task '{self.spec.name}' needs an image generator (generate_images); "
                f"model '{getattr(getattr(model, 'spec', None), 'name', model)}' is not one",
                hint="use the `images` adapter (a folder of your images keyed by prompt id) or a diffusers pipeline",
            )
        wanted = data.sample_ids() if sample_ids is None else list(sample_ids)
        index = {pid: i for i, pid in enumerate(data.ids)}
        units: list[tuple[str, list[int]]] = []
        for sid in wanted:
            if sid in data.groups:
                units.append((sid, data.groups[sid]))
            elif sid in index and self.do_awareness:
                units.append((sid, [index[sid]]))
            else:
                raise SampleBenchError(f"task '{self.spec.name}': unknown sample id '{sid}'")
        declared = {m.name for m in self.spec.metrics}
        kind, scorer = self._scorer(model)
        embedder = self._embedder(self.option("embedder"))
        cache: dict[int, _PromptOut] = {}
        batch = max(1, int(self.option("batch_prompts")))
        pos = 0
        while pos < len(units):
            # gather the next `batch` prompts that are not cached yet, with the units they complete
            need: list[int] = []
            end = pos
            while end < len(units) and (len(need) < batch or not need):
                for i in units[end][1]:
                    if i not in cache and i not in need:
                        need.append(i)
                end += 1
            if need:
                self._run_prompts(model, data, need, kind, scorer, embedder, cache)
            for sid, rows in units[pos:end]:
                made = (self._diversity(sid, rows, cache, kind, scorer) if sid in data.groups
                        else self._awareness(sid, cache[rows[0]], kind, scorer))
                yield from (r for r in made if r.metric in declared)  # only what the spec records
            pos = end
            # free prompts no later unit needs
            later = {i for _, rows in units[end:] for i in rows}
            for i in [i for i in cache if i not in later]:
                del cache[i]

    def _run_prompts(self, model: Any, data: T2IData, rows: list[int], kind: str, scorer: Any,
                     embedder: Any, cache: dict[int, _PromptOut]) -> None:
        ids = [data.ids[i] for i in rows]
        prompts = [data.prompts[i] for i in rows]
        try:
            images = model.generate_images(prompts, k=self.k, prompt_ids=ids)
            if len(images) != len(rows):
                raise SampleBenchError(f"generator returned {len(images)} image lists for {len(rows)} prompts")
        except SampleBenchError as exc:
            for i in rows:
                cache[i] = _PromptOut(error=exc.message)
            return
        except Exception as exc:  # a failing generator becomes error rows, the run goes on
            for i in rows:
                cache[i] = _PromptOut(error=f"{type(exc).__name__}: {exc}")
            return
        ratings: list[Any] | None = None
        if kind == "ratings":
            try:
                ratings = model.image_ratings(ids, k=self.k)
            except SampleBenchError as exc:
                ratings = [exc.message] * len(rows)
        labels: list[Any] | None = None
        if embedder == "labels":
            if not callable(getattr(model, "image_labels", None)):
                labels = ["embedder 'labels': this generator carries no per-image labels (labels.csv)"] * len(rows)
            else:
                try:
                    labels = model.image_labels(ids, k=self.k)
                except SampleBenchError as exc:
                    labels = [exc.message] * len(rows)
        model_scores: list[Any] | None = None
        if kind == "model":
            model_scores = scorer.score_images(
                prompts, [[] if isinstance(ims, BaseException) else list(ims or [])[: self.k] for ims in images])
        for j, (i, ims) in enumerate(zip(rows, images, strict=True)):
            if isinstance(ims, BaseException):  # a generator may fail one prompt and not the others
                cache[i] = _PromptOut(error=getattr(ims, "message", None) or f"{type(ims).__name__}: {ims}")
                continue
            ims = list(ims or [])[: self.k]
            if not ims:
                cache[i] = _PromptOut(error=f"no images for prompt id '{data.ids[i]}'")
                continue
            if embedder == "labels":
                labs = labels[j] if labels is not None else None
                if isinstance(labs, str):
                    cache[i] = _PromptOut(error=labs)
                    continue
                if labs is None or len(labs) != len(ims) or any(lab is None for lab in labs):
                    cache[i] = _PromptOut(error=f"missing labels for some images of prompt id '{data.ids[i]}'")
                    continue
                out = _PromptOut(n=len(ims), labels=list(labs))
            else:
                try:
                    emb = np.asarray(embedder.embed_images(ims), dtype=np.float64)
                except SampleBenchError as exc:
                    cache[i] = _PromptOut(error=exc.message)
                    continue
                out = _PromptOut(n=len(ims), embeddings=emb)
            if ratings is not None:
                r = ratings[j]
                if isinstance(r, str):
                    out.quality_error = r
                elif r is None or len(r) != len(ims) or any(x is None for x in r):
                    out.quality_error = f"missing ratings for some images of prompt id '{data.ids[i]}'"
                else:
                    out.quality = np.asarray(r, dtype=np.float64)
            elif model_scores is not None:
                got = list(model_scores[j])
                bad = next((x for x in got if isinstance(x, str)), None)
                if bad is not None or len(got) != len(ims):
                    out.quality_error = bad or f"the scorer returned {len(got)} scores for {len(ims)} images"
                else:
                    out.quality = np.asarray(got, dtype=np.float64)
            else:
                out.quality_error = scorer if isinstance(scorer, str) else "no awareness scorer"
            cache[i] = out

    def _awareness(self, sid: str, out: _PromptOut, kind: str, scorer: Any) -> Iterator[SampleResult]:
        if out.error:
            yield SampleResult(sid, "awareness", None, error=out.error)
        elif out.quality is None:
            yield SampleResult(sid, "awareness", None, error=out.quality_error or "no awareness score")
        else:
            yield SampleResult(sid, "awareness", float(np.mean(out.quality)), prediction=f"n_images={out.n}")

    def _diversity(self, sid: str, rows: list[int], cache: dict[int, _PromptOut], kind: str,
                   scorer: Any) -> Iterator[SampleResult]:
        outs = [cache[i] for i in rows]
        err = next((o.error for o in outs if o.error), None)
        if err is None:
            short = [o.n for o in outs if o.n != self.k]
            if short:
                err = f"expected k={self.k} images per prompt, a prompt of this group has {short[0]}"
        if err is not None:
            for m in ("diversity", "quality_weighted_diversity"):
                yield SampleResult(sid, m, None, error=err)
            return
        n = sum(o.n for o in outs)
        scale = 1.0 / n if self.option("diversity_fraction") else 1.0
        try:
            if self.label_weights is not None:
                vs = vendi_score(K=label_kernel([lab for o in outs for lab in o.labels], self.label_weights), q=self.q)
            else:
                vs = vendi_score(X=np.concatenate([o.embeddings for o in outs]), q=self.q, normalize=True)
        except SampleBenchError as exc:
            for m in ("diversity", "quality_weighted_diversity"):
                yield SampleResult(sid, m, None, error=exc.message)
            return
        yield SampleResult(sid, "diversity", vs * scale, prediction=f"n_images={n}")
        qerr = next((o.quality_error or "no awareness score" for o in outs if o.quality is None), None)
        if qerr is not None:
            yield SampleResult(sid, "quality_weighted_diversity", None, error=qerr)
        else:
            quality = np.concatenate([o.quality for o in outs])
            yield SampleResult(sid, "quality_weighted_diversity", float(quality.mean()) * vs * scale,
                               prediction=f"mean_quality={quality.mean():.4f}")

    def main_score(self, results: Sequence[SampleResult]) -> float:
        vals = [r.value for r in results if r.metric == self.spec.main_metric and r.value is not None]
        return float(np.mean(vals)) if vals else float("nan")


@dataclass
class _PromptOut:
    n: int = 0
    embeddings: np.ndarray | None = None
    labels: list[dict[str, Any]] | None = None
    quality: np.ndarray | None = None
    quality_error: str | None = None
    error: str | None = None
