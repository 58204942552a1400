"""MTEB results: the on-disk layout `org__model/revision/Task.json` (+ `model_meta.json`), and the
leaderboard's long table of main scores (`task, model, model_revision, split, subset, main_score`).

MTEB files hold task-level scores per split and subset, not per example, so each
(split, subset) becomes one "sample" of the task: `sample_id = "<split>/<subset>"`, one row per
score key (`metric`), `task_revision` = the dataset revision, `model_revision` = the revision
folder, and a detail column `source_version` = `mteb <version>` of the file.

Main score. Every MTEB file format since 1.11 stores the task's main score in each split/subset
entry under `main_score`; it is imported as the metric `main_score` and marked `main=True` in
the run's metric metadata (the name of the score it copies, e.g. `ndcg_at_10`, is kept in the
run's `meta.main_score_names`). Older files (before mteb 1.11: `{split: {metric: v}}` or
`{split: {subset: {metric: v}}}`, task named `mteb_dataset_name`) carry no `main_score`; it is
taken from the named score when mteb's task metadata is available, and otherwise reported as
missing — never invented.

Several revisions of one model on one task: one is kept, by mteb's own rule (`join_revisions`):
the model's main revision as mteb's model registry declares it, else a file with an mteb version,
else a real revision (not `external`/none), else the newest mteb version. The others are reported
as skipped.

Duplicate subsets. A file may list one (split, subset) twice. mteb loads such files as they
are and keeps every entry; its per-subset table (`to_dataframe(aggregation_level="subset")`)
and its scores take the mean over the entries. The import does the same: identical duplicates
collapse into one, conflicting ones become their mean (score by score), and each is reported
with its file (`details.duplicate_subsets`).

Which files count: mteb's own load. `ResultCache.load_results()` (mteb 2.x, defaults
`require_model_meta=True`, `load_experiments="match_kwargs"`, then `join_revisions()`) reads

* `<model>/<revision>/<Task>.json` only where a `model_meta.json` lies beside the file; the model
  and revision are that file's `name` and `revision`. A revision folder without one (the public
  repository has 1,627 such files, e.g. `gte-Qwen1.5-7B-instruct/no_revision_available/`) is
  left out, and so does the import, reporting each file as skipped.
  `require_model_meta=false` imports them as mteb's `require_model_meta=False` reads them (model
  from the folder name, `org__name` -> `org/name`; revision = the folder name). The default,
  `auto`, is mteb's rule whenever the tree holds any `model_meta.json`; a tree with none at all
  (written by mteb before 1.12, or by hand) is one mteb's default load reads nothing from, and it
  is read as `require_model_meta=false` reads it, with a note saying so.
* no experiments: a folder whose `model_meta.json` declares non-empty `experiment_kwargs` is a run
  with non-default arguments, skipped unless its kwargs are asked for. The import skips the same
  folders and every `<model>/<revision>/experiments/<kwargs>/` folder (counted as skipped);
  `experiments=true` imports each as its own model, `<model> [experiment: <kwargs>]`, never
  merged into the base model. (One deliberate difference: an `experiments/` folder whose
  `model_meta.json` lacks `experiment_kwargs` would be merged into the base model by mteb; the
  import keeps it apart. The public repository has no such folder.)

Sample cards. With mteb installed (and `use_mteb` on), every (task, split/subset) imported gets a
sample card (`results/cards.py`) from mteb's task metadata: text = the task's description and
what the sample is ("STS17 (STS): test split, subset en-de (eng-Latn, deu-Latn)"), metadata =
task type, category, the subset's languages, domains, modalities, split, subset, main score,
dataset path and revision, reference. They are what `bench pool index` / `bench query` search.
They come before the measurements (one light parse-only pass over the files), so importing
content imported before reads no further to complete them. Cards are written idempotently
(importing again, or another model's files, adds none); a task mteb does not know gets no card
(nothing invented).

Limits: one result file may have at most 64 MiB (the largest in the public results repository
has 2.6 MB). mteb's warnings while its task metadata is looked up (e.g. "currently in beta") are
summarised in one note instead of printed per task. Long lists (absent subsets, duplicates) are
in the summary's `details`; `bench results import --details FILE` writes them to a file and the
printed summary counts them.
"""

from __future__ import annotations

import contextlib
import json
import logging
import warnings
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from ...errors import SampleBenchError
from ..cards import card_table
from ..store import ResultStore
from ._common import Columns
from .aliases import AliasSource, ModelNames
from .driver import ImportContext, Importer, MiB

EXPERIMENTS = "experiments"  # mteb's folder of non-default-argument runs: <model>/<revision>/experiments/<kwargs>/
MAX_FILE_BYTES = 64 * MiB

# Keys of a split/subset entry that are not scores.
_NOT_SCORES = {"hf_subset", "languages", "main_score", "evaluation_time", "kg_co2_emissions", "mteb_version"}
# Top-level keys of a pre-1.11 file that are not splits.
_OLD_TOP = {"dataset_revision", "mteb_dataset_name", "mteb_version", "task_name", "evaluation_time",
            "kg_co2_emissions", "date", "evaluation_phases", "scores"}
# Pre-1.11 names of nested similarity blocks -> the prefix mteb uses now.
_OLD_PREFIX = {"cos_sim": "cosine", "manhattan": "manhattan", "euclidean": "euclidean", "dot": "dot",
               "max": "max", "similarity": "similarity"}
# Score names whose lower value is better (MTEB reports almost only higher-is-better scores).
_LOWER_IS_BETTER = ("evaluation_time", "loss", "_stderr", "stderr")
SOURCE_VERSION = "source_version"
_MISSING = object()


@dataclass
class _TaskFile:
    path: Path
    model: str
    revision: str | None
    data: dict = field(default_factory=dict)
    experiment: str | None = None
    has_meta: bool = True  # a model_meta.json lies beside the file (mteb's require_model_meta)

    @property
    def mteb_version(self) -> str | None:
        v = self.data.get("mteb_version")
        return v if isinstance(v, str) and v and "not available" not in v else None


def _parse_version(v: str | None):
    if not v:
        return None
    from packaging.version import InvalidVersion, Version

    try:
        return Version(v)
    except InvalidVersion:
        return None


@contextlib.contextmanager
def _quiet(caught: list[str]):
    """mteb's warnings (and log lines) while its metadata is read: collected into `caught`, not printed."""
    logger = logging.getLogger("mteb")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            yield
        caught.extend(str(w.message) for w in seen)
    finally:
        logger.setLevel(level)


class _MtebMetadata:
    """mteb's own task metadata and model registry, loaded only when needed (importing mteb is slow).

    mteb's warnings while it is consulted are collected in `warnings` (one note in the summary)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.warnings: list[str] = []
        self._mteb = None
        self._main_score: dict[str, str | None] = {}
        self._revision: dict[str, str | None] = {}
        self._expected: dict[str, set[tuple[str, str]] | None] = {}
        self._metadata: dict[str, object] = {}

    def _load(self):
        if self._mteb is None and self.enabled:
            try:
                with _quiet(self.warnings):
                    import mteb

                self._mteb = mteb
            except Exception:  # pragma: no cover - mteb absent or broken: JSON-only import
                self.enabled = False
        return self._mteb

    def main_score(self, task: str) -> str | None:
        if task not in self._main_score:
            mteb = self._load()
            name = None
            if mteb is not None:
                try:
                    with _quiet(self.warnings):
                        name = mteb.get_task(task).metadata.main_score
                except Exception:
                    name = None
            self._main_score[task] = name
        return self._main_score[task]

    def expected(self, task: str) -> set[tuple[str, str]] | None:
        """(split, subset) pairs mteb evaluates for `task`, or None when unknown."""
        if task not in self._expected:
            mteb = self._load()
            out = None
            if mteb is not None:
                try:
                    with _quiet(self.warnings):
                        t = mteb.get_task(task)
                    out = {(sp, sub) for sp in t.metadata.eval_splits for sub in (t.hf_subsets or ["default"])}
                except Exception:
                    out = None
            self._expected[task] = out
        return self._expected[task]

    def card(self, task: str, split: str, subset: str) -> dict | None:
        """The sample card of one (split, subset) of `task` from mteb's task metadata (None when
        mteb does not know the task): text = the task's description, then what the sample is."""
        if task not in self._metadata:
            mteb, md = self._load(), None
            if mteb is not None:
                try:
                    with _quiet(self.warnings):
                        md = mteb.get_task(task).metadata
                except Exception:
                    md = None
            self._metadata[task] = md
        md = self._metadata[task]
        if md is None or not str(md.description or "").strip():
            return None
        langs = (md.hf_subsets_to_langscripts or {}).get(subset)
        if langs is None and not isinstance(md.eval_langs, dict):
            langs = md.eval_langs
        langs = sorted(set(langs or []))  # sorted: mteb builds an aggregate task's lists from sets
        dataset = md.dataset or {}
        path = dataset.get("path")
        text = (f"{' '.join(str(md.description).split())}\n\n{task} ({md.type}): {split} split, subset {subset}"
                + (f" ({', '.join(langs)})" if langs else ""))
        return {"task": task, "sample_id": f"{split}/{subset}", "text": text, "metadata": {
            "source": "mteb task metadata", "task_type": md.type, "category": md.category, "languages": langs,
            "domains": sorted(set(md.domains or [])), "modalities": sorted(set(md.modalities or [])),
            "split": split, "subset": subset, "main_score": md.main_score,
            "dataset": path if isinstance(path, str) and " " not in path else None,  # an aggregate task has none
            "dataset_revision": dataset.get("revision"), "reference": md.reference or None}}

    def main_revision(self, model: str) -> str | None:
        if model not in self._revision:
            mteb = self._load()
            rev = None
            if mteb is not None:
                with _quiet(self.warnings):
                    try:
                        rev = mteb.get_model_meta(model, fetch_from_hf=False).revision
                    except TypeError:
                        try:
                            rev = mteb.get_model_meta(model).revision
                        except Exception:
                            rev = None
                    except Exception:
                        rev = None
            self._revision[model] = rev
        return self._revision[model]


def experiment_name(kwargs) -> str | None:
    """A name for a model_meta.json's `experiment_kwargs` (None when absent or empty, as mteb
    treats them): `key_value` pairs in key order joined by `__`, non-scalar values as JSON."""
    if not isinstance(kwargs, dict) or not kwargs:
        return None
    def text(v) -> str:
        return str(v) if v is None or isinstance(v, str | int | float | bool) else json.dumps(v, sort_keys=True)
    return "__".join(f"{k}_{text(v)}" for k, v in sorted(kwargs.items()))


def _discover(files: list[Path], names: ModelNames) -> list[_TaskFile]:
    """Task files with model, revision and experiment (if any) from the layout and model_meta.json."""
    meta_cache: dict[Path, dict] = {}

    def meta_of(folder: Path) -> dict:
        path = folder / "model_meta.json"
        if path not in meta_cache:
            meta_cache[path] = _read_json(path) if path.is_file() else {}
        return meta_cache[path]

    tasks: list[_TaskFile] = []
    for p in files:
        if p.name == "model_meta.json":
            continue
        folder = p.parent
        has_meta = (folder / "model_meta.json").is_file()
        experiment = None
        if folder.parent.name == EXPERIMENTS and len(folder.parts) >= 4:
            # <model>/<revision>/experiments/<kwargs>/Task.json: a run with non-default arguments
            experiment = folder.name
            folder = folder.parent.parent
        elif has_meta:
            # a revision folder whose model_meta.json declares experiment kwargs: mteb's experiment too
            experiment = experiment_name(meta_of(folder).get("experiment_kwargs"))
        meta = meta_of(folder)
        raw_name = meta.get("name") if isinstance(meta.get("name"), str) else None
        revision = meta.get("revision") if isinstance(meta.get("revision"), str) else None
        if "__" in folder.name:
            # old layout without a revision level: results/org__model/Task.json
            model_dir, rev_dir = folder, None
        else:
            model_dir, rev_dir = folder.parent, folder
        if raw_name is None:
            raw_name = model_dir.name
        if revision is None and rev_dir is not None:
            revision = rev_dir.name
        if experiment is not None and p.parent != folder:
            exp_meta = meta_of(p.parent)
            if isinstance(exp_meta.get("revision"), str):
                revision = exp_meta["revision"]
        tasks.append(_TaskFile(p, names(raw_name), revision, experiment=experiment, has_meta=has_meta))
    return tasks


_NO_META = ("result file in a folder without model_meta.json: left out as mteb's load_results does "
            "(require_model_meta=True, its default); require_model_meta=false imports it")


def _require_model_meta(value, task_files: list[_TaskFile], notes: list[str]) -> bool:
    """The option's value (true/false/auto) -> whether files without a model_meta.json are left out."""
    if isinstance(value, str) and value.lower() == "auto":
        if task_files and not any(tf.has_meta for tf in task_files):
            notes.append("no model_meta.json beside any result file: read as mteb's load_results("
                         "require_model_meta=False) reads such a tree (model and revision from the folder names); "
                         "mteb's default load reads nothing from it")
            return False
        return True
    if isinstance(value, bool):
        return value
    raise SampleBenchError(f"--set require_model_meta={value}: use true, false or auto")


def _loads():
    try:
        import orjson

        return orjson.loads
    except ImportError:  # optional speed-up; the standard library reads the same files
        return json.loads


_LOADS = _loads()


def _read_json(path: Path) -> dict:
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
        try:
            data = _LOADS(raw)
        except ValueError:
            try:  # NaN/Infinity are not JSON but MTEB writes NaN: read them as null (imported as missing)
                data = _LOADS(raw.replace(b"NaN", b"null"))
            except ValueError:
                data = json.loads(raw)  # the standard library names the line
    except json.JSONDecodeError as exc:
        raise SampleBenchError(f"{path}:{exc.lineno}: invalid JSON ({exc.msg}); nothing was imported") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SampleBenchError(f"{path}: cannot read ({exc}); nothing was imported") from None
    if not isinstance(data, dict):
        raise SampleBenchError(f"{path}: expected a JSON object at the top level; nothing was imported")
    return data


def _flatten(entry: dict, prefix: str = "") -> dict:
    """Scalar scores of one split/subset entry; nested blocks become `<block>_<score>` (mteb's naming).

    Values are float/int/None (booleans as 0/1); lists (scores_per_experiment, per-class arrays)
    and strings are not scores and are left out.
    """
    if not prefix:
        out = {k: v for k, v in entry.items() if k not in _NOT_SCORES and (v is None or type(v) in _NUM)}
        if len(out) + sum(k in entry for k in _NOT_SCORES) == len(entry):
            return out  # the common case: a flat entry of numbers
    out = {}
    for key, value in entry.items():
        if not prefix and key in _NOT_SCORES:
            continue
        if isinstance(value, dict):
            block = _OLD_PREFIX.get(key, key) if not prefix else f"{prefix}{key}"
            out.update(_flatten(value, f"{block}_"))
        elif isinstance(value, bool):
            out[f"{prefix}{key}"] = float(value)
        elif value is None or isinstance(value, int | float):
            out[f"{prefix}{key}"] = value
    return out


_NUM = (float, int)


def _entries(tf: _TaskFile) -> tuple[str, list[tuple[str, str, dict]]]:
    """(task name, [(split, subset, entry)]) for both the current and the pre-1.11 file formats."""
    d = tf.data
    where = tf.path
    task = d.get("task_name") or d.get("mteb_dataset_name") or tf.path.stem
    if not isinstance(task, str):
        raise SampleBenchError(f"{where}: field 'task_name' must be a string")
    out: list[tuple[str, str, dict]] = []
    scores = d.get("scores")
    if isinstance(scores, dict):  # mteb >= 1.11
        for split, entries in scores.items():
            if not isinstance(entries, list):
                raise SampleBenchError(f"{where}: field 'scores.{split}' must be a list of per-subset score objects")
            for i, entry in enumerate(entries):
                if not isinstance(entry, dict):
                    raise SampleBenchError(f"{where}: field 'scores.{split}[{i}]' must be an object")
                subset = entry.get("hf_subset", "default")
                if not isinstance(subset, str):
                    raise SampleBenchError(f"{where}: field 'scores.{split}[{i}].hf_subset' must be a string")
                out.append((split, subset, entry))
        return task, out
    if scores is not None:
        raise SampleBenchError(f"{where}: field 'scores' must be an object {{split: [entries]}}")
    if "mteb_dataset_name" not in d:
        raise SampleBenchError(
            f"{where}: not an MTEB result file: neither 'scores' (mteb >= 1.11) nor 'mteb_dataset_name' (older)"
        )
    for split, block in d.items():  # pre-1.11: {split: {metric: v}} or {split: {subset: {metric: v}}}
        if split in _OLD_TOP or not isinstance(block, dict):
            continue
        nested = {k: v for k, v in block.items() if isinstance(v, dict) and k not in _OLD_PREFIX and k != "v_measures"}
        if nested:
            out.extend((split, subset, entry) for subset, entry in nested.items())
        else:
            out.append((split, "default", block))
    return task, out


def _preference(tf: _TaskFile, main_revision: str | None):
    """Sort key, larger is preferred: mteb's join_revisions priority, then the newest mteb version."""
    version = _parse_version(tf.mteb_version)
    real_revision = tf.revision not in (None, "", "external", "na", "NA", "no_revision_available")
    priority = (1000 if main_revision is not None and tf.revision == main_revision else 0) + \
        (100 if version is not None else 0) + (10 if real_revision else 0)
    return (priority, version is not None, version or _parse_version("0"), tf.revision or "")


def _dedupe(entries: list[tuple[str, str, dict]], path: Path, report: list[dict]) -> list[tuple[str, str, dict]]:
    """One entry per (split, subset), by mteb's rule: identical duplicates collapse, others average.

    mteb keeps every entry of a file; its per-subset table and its scores take the mean over
    them. So a conflicting duplicate becomes the mean of its entries, score by score (over the
    entries that have the score as a number); every duplicate is added to `report`.
    """
    groups: dict[tuple[str, str], list[dict]] = {}
    for split, subset, entry in entries:
        groups.setdefault((split, subset), []).append(entry)
    if len(groups) == len(entries):
        return entries
    out = []
    for (split, subset), group in groups.items():
        if len(group) == 1:
            out.append((split, subset, group[0]))
            continue
        flat = [{**_flatten(e), "main_score": e.get("main_score")} for e in group]
        identical = all(f == flat[0] for f in flat[1:])
        if identical:
            merged = group[0]
        else:
            merged = {k: v for k, v in group[0].items() if k in _NOT_SCORES and k != "main_score"}
            keys = list(dict.fromkeys(k for f in flat for k in f))
            for k in keys:
                vals = [f[k] for f in flat if type(f.get(k)) in _NUM or isinstance(f.get(k), bool)]
                if vals:
                    merged[k] = sum(float(v) for v in vals) / len(vals)
                elif any(k in f for f in flat):
                    merged[k] = None
        report.append({
            "file": str(path), "sample": f"{split}/{subset}", "entries": len(group),
            "resolution": "identical: collapsed into one" if identical else "conflicting: mean of the entries (mteb's rule)",
            "main_scores": [f.get("main_score") for f in flat],
        })
        out.append((split, subset, merged))
    return out


def read_mteb(ctx: ImportContext):
    """Stream measurement tables model by model (mteb files are many and small)."""
    use_mteb, experiments = ctx.option("use_mteb"), ctx.option("experiments")
    task_files = _discover(ctx.files, ctx.names)
    info, skips = ctx.info, ctx.skips
    if _require_model_meta(ctx.option("require_model_meta"), task_files, ctx.notes):
        for tf in task_files:
            if not tf.has_meta:
                skips.add(_NO_META, 1, str(tf.path))
        task_files = [tf for tf in task_files if tf.has_meta]
    versions: dict[str, int] = defaultdict(int)
    main_names: dict[str, str] = {}
    missing_main: list[str] = []
    absent: list[str] = []
    duplicates: list[dict] = []
    kept_revisions: dict[str, set[str]] = defaultdict(set)
    mt = _MtebMetadata(use_mteb)
    ctx.meta.update({"format": "mteb", "main_score_names": main_names})

    by_model: dict[str, list[_TaskFile]] = defaultdict(list)
    n_experiment_files = 0
    for tf in task_files:
        if tf.experiment is not None:
            n_experiment_files += 1
            if not experiments:
                skips.add("experiment result file (<model>/<revision>/experiments/<kwargs>/): left out as mteb's "
                          "default load does; experiments=true imports them as models of their own", 1, str(tf.path))
                continue
            tf.model = f"{tf.model} [experiment: {tf.experiment}]"
        by_model[tf.model].append(tf)

    def cards():
        """The sample card of every (task, split, subset) in the files read: one light pass over
        them (parse only) so the cards come before any measurement (`cards_first`)."""
        if mt._load() is None:
            return None
        cells = set()
        for files in by_model.values():
            for tf in files:
                tf.data = _read_json(tf.path)
                task, entries = _entries(tf)
                cells.update((task, split, subset) for split, subset, _ in entries)
                tf.data = {}
        found = [c for task, split, subset in sorted(cells) if (c := mt.card(task, split, subset))]
        return card_table(found, where="mteb task metadata") if found else None

    def generate():
        made = cards()
        if made is not None:
            yield "cards", made
        cols = Columns(detail=(SOURCE_VERSION,), chunk=ctx.option("chunk_rows"))
        for model in sorted(by_model):
            per_task: dict[str, list[tuple[_TaskFile, list]]] = defaultdict(list)
            for tf in by_model[model]:
                tf.data = _read_json(tf.path)
                task, entries = _entries(tf)
                per_task[task].append((tf, _dedupe(entries, tf.path, duplicates)))
            for task in sorted(per_task):
                candidates = [c for c in per_task[task] if c[1]]
                for tf, _ in per_task[task]:
                    if not _:
                        skips.add("result file with no scores", 1, str(tf.path))
                if not candidates:
                    continue
                if len(candidates) > 1:
                    main_rev = mt.main_revision(model) if len({c[0].revision for c in candidates}) > 1 else None
                    candidates.sort(key=lambda c: _preference(c[0], main_rev), reverse=True)
                    for tf, entries in candidates[1:]:
                        skips.add(
                            "(split, subset) entry of a superseded revision of the same model and task "
                            "(mteb's join_revisions rule)",
                            len(entries), f"{model} {task} revision {tf.revision}",
                        )
                tf, entries = candidates[0]
                kept_revisions[model].add(tf.revision or "")
                _emit(cols, model, task, tf, entries)
                versions[tf.mteb_version or "unknown"] += 1
                if cols.full():
                    yield "measurements", cols.take()
            for tf in by_model[model]:
                tf.data = {}  # free memory as we go
        if len(cols):
            yield "measurements", cols.take()
        _report()

    def _emit(cols: Columns, model: str, task: str, tf: _TaskFile, entries) -> None:
        revision = tf.revision
        task_revision = tf.data.get("dataset_revision")
        if not isinstance(task_revision, str) or "not available" in task_revision:
            task_revision = None
        source_version = f"mteb {tf.mteb_version}" if tf.mteb_version else None
        for split, subset, entry in entries:
            sample = f"{split}/{subset}"
            scores = _flatten(entry)
            metrics = list(scores)
            values = list(scores.values())
            errors: list[str | None] = [None] * len(metrics)
            known = info.data.get(task)
            if known is None or any(m not in known for m in metrics):
                for metric in metrics:
                    info.set(task, metric, higher_is_better=not metric.endswith(_LOWER_IS_BETTER), kind="continuous")
            main = entry.get("main_score", _MISSING)
            if main is _MISSING:
                name = mt.main_score(task)
                main = scores.get(name, _MISSING) if name else _MISSING
                if name:
                    main_names.setdefault(task, name)
            if main is _MISSING:
                missing_main.append(f"{model} {task} {sample}")
                skips.add("(split, subset) entry without a main score in the file (not invented)", 1,
                          f"{tf.path} {sample}")
            else:
                error = None
                if not (main is None or type(main) in _NUM):
                    if isinstance(main, bool):
                        main = float(main)
                    else:
                        error = f"main_score is {type(main).__name__} {str(main)[:40]!r} in source, not a number"
                        main = None
                metrics.append("main_score")
                values.append(main)
                errors.append(error)
                if task not in main_names and main is not None:
                    main_names[task] = _main_name(task, scores, main)
                info.set(task, "main_score", higher_is_better=True, kind="continuous", main=True)
            cols.extend(model, revision, task, task_revision, sample, metrics, values,
                        errors if any(errors) else None, source_version)
        if mt.enabled:
            expected = mt.expected(task)
            if expected:
                present = {(split, subset) for split, subset, _ in entries}
                absent.extend(f"{model} {task} {sp}/{sub}" for sp, sub in sorted(expected - present))

    def _main_name(task: str, scores: dict, main: float) -> str:
        """The score the main score copies: mteb's metadata when available, else the one equal key."""
        mname = mt.main_score(task) if mt.enabled else None
        if mname in scores:
            return mname
        named = [m for m, v in scores.items() if v == main]
        return named[0] if len(named) == 1 else "?"

    def _report() -> None:
        common = sorted(versions.items(), key=lambda kv: (-kv[1], kv[0]))
        ctx.notes.append(f"mteb versions (task files kept): {len(versions)} versions, "
                         + ", ".join(f"{v} x{n}" for v, n in common[:8])
                         + (" ... (all: details.mteb_versions)" if len(common) > 8 else ""))
        ctx.details.update({
            "missing_main_scores": missing_main,
            "main_score_names": dict(sorted(main_names.items())),
            "mteb_versions": dict(sorted(versions.items())),
            "absent_subsets": absent,
            "duplicate_subsets": duplicates,
        })
        if duplicates:
            same = sum(d["resolution"].startswith("identical") for d in duplicates)
            files = sorted({d["file"] for d in duplicates})
            ctx.notes.append(
                f"{len(duplicates)} (split, subset) entries listed more than once in {len(files)} file(s): "
                f"{same} identical (collapsed), {len(duplicates) - same} conflicting (their mean, as mteb's "
                f"subset table takes): " + "; ".join(f"{d['file']} {d['sample']} x{d['entries']}" for d in duplicates[:5])
                + (" ..." if len(duplicates) > 5 else ""))
        if n_experiment_files and experiments:
            ctx.notes.append(f"{n_experiment_files} experiment file(s) imported as their own models "
                             "'<model> [experiment: <kwargs>]', never merged into the base model")
        if missing_main:
            ctx.notes.append(f"{len(missing_main)} (model, task, split/subset) entries have no main score")
        if absent:
            ctx.notes.append(
                f"{len(absent)} (split, subset) entries that mteb evaluates for these tasks are absent from the "
                "files: no score, none invented (list: details.absent_subsets, or --details FILE)")
        beta = sorted({w.split("'")[1] for w in mt.warnings if "currently in beta" in w and w.count("'") >= 2})
        if beta:
            ctx.notes.append(f"{len(beta)} task(s) are marked beta by mteb (scores may change): "
                             + ", ".join(beta[:5]) + (" ..." if len(beta) > 5 else ""))

    ctx.notes += [
        "MTEB results are task-level: each sample is a (split, subset) of the task (sample_id 'split/subset'), "
        "not an individual example",
        "model revisions are kept (column model_revision) and mteb versions (column source_version)",
    ]
    return generate()


IMPORTER = Importer(
    name="mteb", suffixes=(".json",), read=read_mteb, max_bytes=MAX_FILE_BYTES, cards=True, cards_first=True,
    options={"use_mteb": True, "experiments": False, "require_model_meta": "auto", "chunk_rows": 500_000},
    identity=("experiments", "require_model_meta"),
    none_found="no MTEB result files (*.json) found; pass a folder laid out as org__model/revision/Task.json",
    help="MTEB results folder org__model/revision/Task.json (task-level: sample = split/subset); "
         "experiments=true imports <revision>/experiments/<kwargs>/ as their own models; "
         "require_model_meta=true|false|auto (auto: mteb's rule, files without a model_meta.json beside them "
         "are left out, unless the tree has none)",
)
import_mteb = IMPORTER


# -- the leaderboard's long table of main scores --------------------------------------------------

_SCORES_COLUMNS = ("task", "model", "split", "subset", "main_score")


def mteb_scores_table(csv_path: str | Path, *, aliases: AliasSource = None) -> tuple[pa.Table, dict[str, int]]:
    """Read MTEB's long main-score table (`task, model, model_revision, split, subset, language,
    main_score`) into canonical measurement rows: `sample_id = split/subset`, `metric = main_score`.

    Returns (table, skipped) where `skipped` counts rows left out by reason: an empty main score
    is a cell the leaderboard lists without a value, and is not invented.
    """
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    csv_path = Path(csv_path)
    if not csv_path.is_file():
        raise SampleBenchError(f"{csv_path}: no such file")
    try:
        t = pacsv.read_csv(csv_path, convert_options=pacsv.ConvertOptions(
            column_types={"main_score": pa.float64(), "model_revision": pa.string(), "subset": pa.string(),
                          "split": pa.string(), "task": pa.string(), "model": pa.string()},
            strings_can_be_null=False))
    except pa.ArrowInvalid as exc:
        raise SampleBenchError(f"{csv_path}: cannot read as an MTEB scores table: {str(exc).splitlines()[0]}") from None
    missing = [c for c in _SCORES_COLUMNS if c not in t.column_names]
    if missing:
        raise SampleBenchError(f"{csv_path}: missing column(s) {', '.join(missing)}; expected {', '.join(_SCORES_COLUMNS)}")
    for c in ("task", "model", "split", "subset"):
        empty = pc.equal(pc.utf8_length(t[c]), 0)
        if pc.any(empty).as_py():
            row = pc.index(empty, True).as_py()
            raise SampleBenchError(f"{csv_path}:{row + 2}: column '{c}' is empty")
    names = ModelNames(aliases)
    models = [names(m) for m in t["model"].to_pylist()]
    has = pc.is_valid(t["main_score"])
    skipped = {"main score empty in the table (the cell has no main score; not invented)": t.num_rows - pc.sum(has).as_py()}
    rev = t["model_revision"] if "model_revision" in t.column_names else pa.nulls(t.num_rows, pa.string())
    out = pa.table({
        "model": pa.array(models, pa.string()),
        "model_revision": rev,
        "task": t["task"],
        "task_revision": pa.nulls(t.num_rows, pa.string()),
        "sample_id": pc.binary_join_element_wise(t["split"], t["subset"], "/"),
        "metric": pa.array(["main_score"] * t.num_rows, pa.string()),
        "value": t["main_score"],
        "error": pa.nulls(t.num_rows, pa.string()),
    }).filter(has)
    return out, {k: v for k, v in skipped.items() if v}


def read_mteb_scores(ctx: ImportContext):
    """MTEB's long main-score table (CSV) -> one main_score row per (model, task, split/subset)."""
    if len(ctx.files) != 1:
        raise SampleBenchError(f"{ctx.root}: format 'mteb-scores' reads one CSV file, found {len(ctx.files)}")
    path = ctx.files[0]
    table, skipped = mteb_scores_table(path, aliases=ctx.names.table)
    for task in set(table["task"].to_pylist()):
        ctx.info.set(task, "main_score", higher_is_better=True, kind="continuous", main=True)
    for reason, n in skipped.items():
        ctx.skips.add(reason, n)
    ctx.notes.append("one row per (model, task, split/subset) with the task's main score (metric main_score)")

    def after(summary) -> None:
        empty = sorted({m for m, _, _ in _raw_cells(path, ctx.names.table)} - set(table["model"].to_pylist()))
        summary.details["models_without_any_main_score"] = empty
        if empty:
            summary.notes.append(f"{len(empty)} model(s) listed only with empty main scores: nothing imported for them")

    ctx.after.append(after)
    return [("measurements", table)]


SCORES_IMPORTER = Importer(
    name="mteb-scores", suffixes=(".csv",), read=read_mteb_scores, max_bytes=MAX_FILE_BYTES * 16,
    none_found="no .csv file found",
    help="MTEB leaderboard main-score table (task, model, model_revision, split, subset, main_score)",
)
import_mteb_scores = SCORES_IMPORTER


def check_main_scores(store: ResultStore, csv_path: str | Path, *, models: list[str] | None = None,
                      tol: float = 1e-9, aliases: AliasSource = None) -> dict:
    """Compare the store's `main_score` rows with a main-score table, cell by cell.

    For every (model, task, split/subset) the table names (restricted to `models`, default: the
    models the store has main scores for), returns counts and lists: `matched` (|diff| <= tol),
    `mismatched` [(cell, store, table)], `absent` (the table has a score, the store none),
    `missing_in_table` (the table lists the cell with an empty main score) split into
    `missing_and_absent` (the store has none either: nothing was invented) and `invented`.
    """
    import pyarrow.compute as pc

    table, _ = mteb_scores_table(csv_path, aliases=aliases)
    raw = _raw_cells(csv_path, aliases)
    got = store.scan(metrics=["main_score"], columns=["model", "task", "sample_id", "value"], latest=False)
    have = {(m, t, s): v for m, t, s, v in zip(*(got[c].to_pylist() for c in ("model", "task", "sample_id", "value")),
                                               strict=True)}
    wanted = set(models) if models is not None else {k[0] for k in have}
    out = {"matched": 0, "mismatched": [], "absent": [], "missing_and_absent": [], "invented": []}
    table = table.filter(pc.is_in(table["model"], value_set=pa.array(sorted(wanted), pa.string())))
    for m, t, s, v in zip(*(table[c].to_pylist() for c in ("model", "task", "sample_id", "value")), strict=True):
        g = have.get((m, t, s))
        if g is None:
            out["absent"].append((m, t, s))
        elif abs(g - v) <= tol:
            out["matched"] += 1
        else:
            out["mismatched"].append(((m, t, s), g, v))
    for cell in raw:
        if cell[0] in wanted:
            (out["invented"] if have.get(cell) is not None else out["missing_and_absent"]).append(cell)
    return out


def _raw_cells(csv_path, aliases) -> list[tuple[str, str, str]]:
    """Cells the table lists with an empty main score."""
    import csv

    names = ModelNames(aliases)
    with open(csv_path, newline="", encoding="utf-8") as fh:
        return [(names(r["model"]), r["task"], f"{r['split']}/{r['subset']}")
                for r in csv.DictReader(fh) if not (r.get("main_score") or "").strip()]


__all__ = ["IMPORTER", "SCORES_IMPORTER", "check_main_scores", "import_mteb", "import_mteb_scores", "mteb_scores_table"]
