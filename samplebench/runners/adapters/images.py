"""Bring your own images: a folder of generations keyed by prompt id, as an `ImageGenerator`.

Model spec (YAML in `$SAMPLEBENCH_HOME/models/`, or built in Python)::

    name: my-sdxl-run
    adapter: images
    args: {path: /data/sdxl-cube, ratings_range: [1, 5]}

Layouts the folder may use (image files: png, jpg, jpeg, webp, bmp, gif, tif, tiff):

* one sub-folder per prompt: `DIR/<prompt_id>/<any name>.png` (images in natural name order);
* flat files: `DIR/<prompt_id>.png`, `DIR/<prompt_id>_0.png`, `DIR/<prompt_id>-1.png`, ...;
* a dataset in the Hugging Face imagefolder convention: `DIR/metadata.jsonl` (or `.csv`) with
  columns `file_name` (relative to DIR) and `prompt_id`, in that order of images;
* a `datasets.Dataset` saved with `save_to_disk(DIR)`, with columns `prompt_id` and `image`
  (an `Image` feature; the column is named by `image_column`), images in row order; ratings and
  labels name its images `row-<n>` (the row number) or rate the whole prompt.

Optional per-image ratings (e.g. human faithfulness/realism ratings) live in `DIR/ratings.csv`
or `DIR/ratings.jsonl` (or the file named by `ratings`): columns `prompt_id`, optionally
`file_name`, and `awareness` (or `rating` / `score`). A row without `file_name` rates every image
of the prompt. Values are rescaled from `ratings_range` (default [0, 1]) to [0, 1].

Optional per-image tags (e.g. a VLM geo-tagger's continent, country, artifact, for CUBE's label
kernel, `embedder: labels`) live in `DIR/labels.csv` or `DIR/labels.jsonl` (or the file named by
`labels`): columns `prompt_id`, `file_name`, and one column per tag.

The model revision recorded with results is a hash of the file names, sizes, ratings and labels.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import SampleBenchError
from ...registry import ModelSpec
from .base import ModelAdapter, register_adapter

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff")
_NUMBERED = re.compile(r"^(?P<base>.+?)[_-](?P<n>\d+)$")
_VALUE_COLUMNS = ("awareness", "rating", "score")


class _Row:
    """A row of a saved dataset standing in for an image file (`name` is what ratings/labels match)."""

    __slots__ = ("index", "name")

    def __init__(self, index: int, name: str) -> None:
        self.index, self.name = index, name


def _rel(f: Any, root: Path) -> str:
    return f.name if isinstance(f, _Row) else str(f.relative_to(root))


def _natural_key(p: Path) -> tuple[Any, ...]:
    return tuple(int(t) if t.isdigit() else t for t in re.split(r"(\d+)", p.name))


def _read_table(path: Path) -> list[dict[str, Any]]:
    try:
        if path.suffix.lower() == ".jsonl":
            with open(path, encoding="utf-8") as fh:
                return [json.loads(line) for line in fh if line.strip()]
        with open(path, encoding="utf-8", newline="") as fh:
            return list(csv.DictReader(fh))
    except (OSError, ValueError) as exc:
        raise SampleBenchError(f"{path}: cannot read: {exc}") from None


@register_adapter("images")
class ImageFolderAdapter(ModelAdapter):
    """Images already generated elsewhere, looked up by prompt id (see the module docstring)."""

    def __init__(self, spec: ModelSpec, path: str | None = None, ratings: str | None = None,
                 ratings_range: Sequence[float] = (0.0, 1.0), labels: str | None = None,
                 image_column: str = "image", **kwargs: Any) -> None:
        super().__init__(spec)
        where = spec.source or f"model '{spec.name}'"
        if kwargs:
            raise SampleBenchError(f"{where}: args: unknown argument(s) {', '.join(sorted(kwargs))} for adapter "
                                   "'images'; allowed: path, ratings, ratings_range, labels, image_column")
        if not path:
            raise SampleBenchError(f"{where}: args.path: the folder of images is required")
        root = Path(path).expanduser()
        if not root.is_absolute() and spec.source is not None:
            root = spec.source.parent / root
        if not root.is_dir():
            raise SampleBenchError(f"{where}: args.path: {root} is not a folder")
        try:
            lo, hi = (float(x) for x in ratings_range)
        except (TypeError, ValueError):
            raise SampleBenchError(f"{where}: args.ratings_range: give [low, high], got {ratings_range!r}") from None
        if not lo < hi:
            raise SampleBenchError(f"{where}: args.ratings_range: low must be below high, got {ratings_range!r}")
        self.root = root.resolve()
        self.where = where
        self.image_column = image_column
        self._dataset: Any = None  # a saved `datasets.Dataset`, when DIR is one
        self._range = (lo, hi)
        self._index = self._build_index()
        rfile = self._side_file(ratings, "ratings", ("ratings.csv", "ratings.jsonl"))
        self._ratings_file = rfile
        self._ratings = self._load_ratings(rfile) if rfile is not None else None
        self._labels_file = self._side_file(labels, "labels", ("labels.csv", "labels.jsonl"))
        self._labels = self._load_labels(self._labels_file) if self._labels_file is not None else None
        if self.revision is None:
            self.revision = self._fingerprint()

    # ------------------------------------------------------------------------------ index
    def _build_index(self) -> dict[str, list[Any]]:
        if (self.root / "dataset_info.json").is_file() and (self.root / "state.json").is_file():
            return self._index_from_saved_dataset()
        for meta in ("metadata.jsonl", "metadata.csv"):
            if (self.root / meta).is_file():
                return self._index_from_metadata(self.root / meta)
        index: dict[str, list[Path]] = {}
        for p in self.root.iterdir():
            if p.is_dir():
                files = sorted((f for f in p.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES), key=_natural_key)
                if files:
                    index.setdefault(p.name, []).extend(files)
            elif p.suffix.lower() in IMAGE_SUFFIXES:
                index.setdefault(p.stem, []).append(p)
                m = _NUMBERED.match(p.stem)
                if m:
                    index.setdefault("\0" + m.group("base"), []).append(p)
        for files in index.values():
            files.sort(key=_natural_key)
        return index

    def _index_from_saved_dataset(self) -> dict[str, list[Any]]:
        import datasets

        try:
            ds = datasets.load_from_disk(str(self.root))
        except (OSError, ValueError, FileNotFoundError) as exc:
            raise SampleBenchError(f"{self.root}: cannot load the saved dataset: {exc}") from None
        if isinstance(ds, datasets.DatasetDict):
            raise SampleBenchError(f"{self.root}: a DatasetDict; save the one split of generations instead")
        missing = [c for c in ("prompt_id", self.image_column) if c not in ds.column_names]
        if missing:
            raise SampleBenchError(
                f"{self.root}: the saved dataset has no column(s) {', '.join(missing)}; it has {ds.column_names}",
                hint="name the image column with args.image_column",
            )
        self._dataset = ds
        index: dict[str, list[Any]] = {}
        for row, pid in enumerate(ds["prompt_id"]):
            index.setdefault(str(pid), []).append(_Row(row, f"row-{row}"))
        return index

    def _index_from_metadata(self, meta: Path) -> dict[str, list[Path]]:
        index: dict[str, list[Path]] = {}
        for i, row in enumerate(_read_table(meta)):
            if "file_name" not in row or "prompt_id" not in row:
                raise SampleBenchError(f"{meta}: row {i + 1} needs columns file_name and prompt_id; it has {sorted(row)}")
            f = self.root / str(row["file_name"])
            if not f.is_file():
                raise SampleBenchError(f"{meta}: row {i + 1}: image {f} does not exist")
            index.setdefault(str(row["prompt_id"]), []).append(f)
        return index

    def files_for(self, prompt_id: str) -> list[Any]:
        """The image files (or saved-dataset rows) of one prompt id, in order."""
        exact = self._index.get(prompt_id, [])
        numbered = self._index.get("\0" + prompt_id, [])
        seen: set[Path] = set()
        out = [f for f in exact + numbered if not (f in seen or seen.add(f))]
        return sorted(out, key=_natural_key) if numbered else out

    @property
    def prompt_ids(self) -> list[str]:
        return sorted(k for k in self._index if not k.startswith("\0"))

    def _fingerprint(self) -> str:
        h = hashlib.sha256()
        if self._dataset is not None:
            h.update(f"dataset\0{self._dataset._fingerprint}\n".encode())
        else:
            for key in sorted(self._index):
                for f in self._index[key]:
                    h.update(f"{f.relative_to(self.root)}\0{f.stat().st_size}\n".encode())
        for side in (self._ratings_file, self._labels_file):
            if side is not None:
                h.update(side.read_bytes())
        return "files-" + h.hexdigest()[:16]

    # ------------------------------------------------------------------------- protocol
    def generate_images(self, prompts: Sequence[str], *, k: int = 1,
                        prompt_ids: Sequence[str] | None = None) -> list[list[Any]]:
        """Up to `k` images (PIL, RGB) per prompt id; an empty list where the folder has none."""
        from PIL import Image

        if prompt_ids is None:
            raise SampleBenchError(f"{self.where}: bring-your-own images are looked up by prompt id; none given")
        if len(prompt_ids) != len(prompts):
            raise SampleBenchError(f"{len(prompt_ids)} prompt ids for {len(prompts)} prompts")
        out: list[list[Any]] = []
        for pid in prompt_ids:
            ims = []
            for f in self.files_for(str(pid))[:k]:
                if isinstance(f, _Row):
                    ims.append(self._dataset[f.index][self.image_column].convert("RGB"))
                    continue
                try:
                    with Image.open(f) as im:
                        ims.append(im.convert("RGB"))
                except (OSError, ValueError) as exc:
                    raise SampleBenchError(f"{f}: cannot read image: {exc}") from None
            out.append(ims)
        return out

    def _side_file(self, given: str | None, arg: str, defaults: tuple[str, ...]) -> Path | None:
        if given:
            f = Path(given).expanduser()
            f = f if f.is_absolute() else self.root / f
            if not f.is_file():
                raise SampleBenchError(f"{self.where}: args.{arg}: {f} does not exist")
            return f
        return next((self.root / n for n in defaults if (self.root / n).is_file()), None)

    # --------------------------------------------------------------------------- labels
    def _load_labels(self, path: Path) -> dict[tuple[str, str], dict[str, str]]:
        table: dict[tuple[str, str], dict[str, str]] = {}
        for i, row in enumerate(_read_table(path)):
            if "prompt_id" not in row or "file_name" not in row:
                raise SampleBenchError(f"{path}: row {i + 1} needs columns prompt_id and file_name; it has {sorted(row)}")
            tags = {k: "" if v is None else str(v) for k, v in row.items() if k not in ("prompt_id", "file_name")}
            table[(str(row["prompt_id"]), str(row["file_name"]))] = tags
        return table

    def image_labels(self, prompt_ids: Sequence[str], *, k: int = 1) -> list[list[dict[str, str] | None]]:
        """Per-image tags aligned with `generate_images`; None where an image has none."""
        if self._labels is None:
            raise SampleBenchError(f"{self.where}: no labels.csv / labels.jsonl beside the images")
        out: list[list[dict[str, str] | None]] = []
        for pid in prompt_ids:
            row = []
            for f in self.files_for(str(pid))[:k]:
                row.append(self._labels.get((str(pid), _rel(f, self.root)), self._labels.get((str(pid), f.name))))
            out.append(row)
        return out

    # -------------------------------------------------------------------------- ratings
    @property
    def has_ratings(self) -> bool:
        return self._ratings is not None

    def _load_ratings(self, path: Path) -> dict[str, dict[str | None, float]]:
        lo, hi = self._range
        table: dict[str, dict[str | None, float]] = {}
        for i, row in enumerate(_read_table(path)):
            col = next((c for c in _VALUE_COLUMNS if c in row), None)
            if "prompt_id" not in row or col is None:
                raise SampleBenchError(
                    f"{path}: row {i + 1} needs columns prompt_id and awareness (or rating/score); it has {sorted(row)}"
                )
            try:
                v = float(row[col])
            except (TypeError, ValueError):
                raise SampleBenchError(f"{path}: row {i + 1}: {col} {row[col]!r} is not a number") from None
            if not (lo <= v <= hi) or np.isnan(v):
                raise SampleBenchError(
                    f"{path}: row {i + 1}: {col} {v} is outside ratings_range [{lo:g}, {hi:g}]",
                    hint="set args.ratings_range in the model spec to the scale the ratings use",
                )
            fname = row.get("file_name") or None
            table.setdefault(str(row["prompt_id"]), {})[None if fname is None else str(fname)] = (v - lo) / (hi - lo)
        return table

    def image_ratings(self, prompt_ids: Sequence[str], *, k: int = 1) -> list[list[float | None]]:
        """Per-image ratings in [0, 1], aligned with `generate_images`; None where an image has none."""
        if self._ratings is None:
            raise SampleBenchError(f"{self.where}: no ratings.csv / ratings.jsonl beside the images")
        out: list[list[float | None]] = []
        for pid in prompt_ids:
            table = self._ratings.get(str(pid), {})
            row: list[float | None] = []
            for f in self.files_for(str(pid))[:k]:
                v = table.get(_rel(f, self.root), table.get(f.name, table.get(None)))
                row.append(v)
            out.append(row)
        return out


@register_adapter("image-features")
class ImageFeatureAdapter(ModelAdapter):
    """The deterministic offline image embedder (`samplebench.tasks.cultural_t2i.image_features`)."""

    def __init__(self, spec: ModelSpec, **kwargs: Any) -> None:
        super().__init__(spec)
        if kwargs:
            raise SampleBenchError(f"{spec.source or spec.name}: args: adapter 'image-features' takes no arguments")
        if self.revision is None:
            self.revision = "image-features-v1"

    def embed_images(self, images: Sequence[Any]) -> np.ndarray:
        from ...tasks.cultural_t2i import ImageFeatureEmbedder

        return ImageFeatureEmbedder().embed_images(images)
