"""lm-evaluation-harness logs written with `--log_samples`.

A run's output folder holds `results_<date>.json` (model, `config.model_sha`, task `versions`,
`higher_is_better`, `task_hashes`) and one `samples_<task>_<date>.jsonl` per task, one JSON
object per (document, filter): `doc_id`, `doc_hash`, `filter`, `filtered_resps`, `metrics` (the
names of the per-document metric keys) and the metric values themselves.

Rows: one per (document, metric): `sample_id = str(doc_id)`, `metric` = the metric name, with
`,<filter>` appended when the filter is not `none` (as in lm-eval's own results keys),
`model_revision` = `model_sha` (or the `revision=` model argument), `task_revision` = the task
hash when recorded, else `v<version>`, `prediction` = the filtered response (JSON, first 1,000
characters). Per-document values that are not numbers (corpus-level metrics such as BLEU log
`[reference, prediction]` pairs) are skipped and counted.

Sample cards, one per (task, document) imported (see `doc_card`): text = the document's own
fields that the logged prompt quotes (the question, a passage), else the prompt from
`arguments`; metadata = the other `doc` fields (subject, category, choices, ...) and the task's
`dataset` as the results file records it.

The results file is the JSON beside the samples file with the same timestamp: `results_<date>.json`
for `--output_path DIR`, `<name>_<date>.json` for `--output_path DIR/<name>.json`. Checked and
reported (never silently):

* several runs of one (model, task) in the input (lm-eval timestamps each run's files): the
  newest run is imported, the others are listed as superseded (`details.superseded_runs`);
* a samples file holding fewer documents than its results file counts (`n-samples`, e.g. a file
  cut short): imported as it is, and reported with both counts (`details.incomplete_samples`);
* an empty `model_sha` (a local model, or one without a hub commit): `model_revision` is then the
  `revision=` model argument if given, else empty, and a note says so.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from ...errors import SampleBenchError
from ..cards import card_table, source_metadata
from ..io import iter_jsonl
from ._common import Columns, as_float
from .driver import GiB, ImportContext, Importer

_DATE = r"(?P<date>\d{4}-\d{2}-\d{2}T[0-9.\-:]+)"
_SAMPLES = re.compile(rf"^samples_(?P<task>.+)_{_DATE}\.jsonl$")
_RESULTS = re.compile(rf"^(?P<stem>.+)_{_DATE}\.json$")
_BOOKKEEPING = {"doc_id", "doc", "target", "arguments", "resps", "filtered_resps", "filter", "metrics",
                "doc_hash", "prompt_hash", "target_hash"}


def _model_from_results(res: dict, where: Path) -> tuple[str, str | None, bool]:
    """(model name, revision, whether model_sha was recorded empty)."""
    cfg = res.get("config") if isinstance(res.get("config"), dict) else {}
    args = cfg.get("model_args") or ""
    parsed = {}
    if isinstance(args, str):
        for part in args.split(","):
            if "=" in part:
                k, v = part.split("=", 1)
                parsed[k.strip()] = v.strip()
    elif isinstance(args, dict):
        parsed = {str(k): str(v) for k, v in args.items()}
    name = res.get("model_name") or parsed.get("pretrained") or parsed.get("model") or cfg.get("model")
    if not isinstance(name, str) or not name:
        raise SampleBenchError(f"{where}: field 'model_name' (or config.model_args pretrained=) is missing; "
                               "pass the model name explicitly (model=...)")
    recorded = cfg.get("model_sha", res.get("model_sha"))
    sha = recorded or parsed.get("revision")
    return name, sha if isinstance(sha, str) and sha else None, recorded == ""


def _read_results(path: Path) -> dict | None:
    """An lm-eval results file's content, or None when the JSON is not one (no 'results' object)."""
    try:
        data = json.loads(path.read_bytes())
    except json.JSONDecodeError as exc:
        raise SampleBenchError(f"{path}:{exc.lineno}: invalid JSON ({exc.msg}); nothing was imported") from None
    except UnicodeDecodeError:
        raise SampleBenchError(f"{path}: not UTF-8 text; nothing was imported") from None
    if not isinstance(data, dict):
        raise SampleBenchError(f"{path}: expected a JSON object")
    return data if isinstance(data.get("results"), dict) or _RESULTS.match(path.name)["stem"] == "results" else None


@dataclass
class _Run:
    samples: Path
    task: str
    date: str
    results: dict
    results_path: Path | None
    model: str
    revision: str | None
    empty_sha: bool


def _runs(ctx: ImportContext) -> list[_Run]:
    """Each samples file with its results file and model."""
    samples = [f for f in ctx.files if _SAMPLES.match(f.name)]
    if not samples:
        raise SampleBenchError(f"{ctx.root}: no lm-eval samples_<task>_<date>.jsonl files found",
                               hint="run lm-eval with --log_samples --output_path DIR and import DIR")
    results: dict[Path, dict] = {}
    for f in ctx.files:
        if f.suffix == ".json" and _RESULTS.match(f.name):
            res = _read_results(f)
            if res is not None:
                results[f] = res
    model = ctx.option("model")
    out = []
    for sf in samples:
        m = _SAMPLES.match(sf.name)
        task, date = m["task"], m["date"]
        same_dir = [p for p in results if p.parent == sf.parent]
        same_date = [p for p in same_dir if _RESULTS.match(p.name)["date"] == date]
        if same_date:
            res_path = same_date[0]
        elif len(same_dir) == 1:  # lm-eval sometimes stamps results a moment after samples
            res_path = same_dir[0]
        else:  # the nearest results file at or after the samples' timestamp that lists the task
            later = sorted(p for p in same_dir if _RESULTS.match(p.name)["date"] >= date
                           and task in (results[p].get("results") or {}))
            res_path = later[0] if later else None
        res = results.get(res_path, {}) if res_path else {}
        if res_path is None and model is None:
            raise SampleBenchError(f"{sf}: no results file with the same timestamp ({date}) beside it; "
                                   "pass model=... to name the model")
        if model:
            name, sha, empty = model, None, False
        else:
            name, sha, empty = _model_from_results(res, res_path)
        out.append(_Run(sf, task, date, res, res_path, ctx.names(name), sha, empty))
    return out


def read_lm_eval(ctx: ImportContext):
    """The newest run of each (model, task) -> one row per (document, metric)."""
    cols = Columns(detail=("prediction",))
    versions: set[str] = set()
    by_cell: dict[tuple[str, str], list[_Run]] = defaultdict(list)
    for run in _runs(ctx):
        by_cell[run.model, run.task].append(run)
    superseded: list[str] = []
    incomplete: list[dict] = []
    empty_sha: set[str] = set()
    cards: dict[tuple[str, str], dict] = {}
    for (model, task), runs in sorted(by_cell.items()):
        runs.sort(key=lambda r: r.date)
        run = runs[-1]
        for old in runs[:-1]:
            superseded.append(str(old.samples))
            ctx.skips.add("superseded run of the same model and task (an older timestamp; the newest is kept)",
                          1, f"{old.samples.name}")
        res = run.results
        if isinstance(res.get("lm_eval_version"), str):
            versions.add(res["lm_eval_version"])
        if run.empty_sha and run.revision is None:
            empty_sha.add(model)
        docs = _read_samples(ctx, cols, run, cards)
        counted = ((res.get("n-samples") or {}).get(task) or {})
        expected = counted.get("effective", counted.get("original")) if isinstance(counted, dict) else None
        if isinstance(expected, int) and len(docs) < expected:
            incomplete.append({"samples_file": str(run.samples), "results_file": str(run.results_path),
                               "documents": len(docs), "documents_expected": expected})
            ctx.notes.append(f"{run.samples.name} holds {len(docs)} of the {expected} documents "
                             f"{run.results_path.name if run.results_path else 'its results file'} records "
                             "(cut short?): imported those, the rest has no rows")
    if not len(cols):
        raise SampleBenchError(f"{ctx.root}: the samples files hold no per-document numeric metrics")
    ctx.notes.insert(0, "one row per (document, metric); metric names carry ',<filter>' when lm-eval's filter is "
                        "not 'none'")
    if versions:
        ctx.notes.append("lm-eval version(s): " + ", ".join(sorted(versions)))
    if superseded:
        ctx.details["superseded_runs"] = superseded
        ctx.notes.append(f"{len(superseded)} older run(s) of the same model and task superseded by the newest "
                         "(details.superseded_runs)")
    if incomplete:
        ctx.details["incomplete_samples"] = incomplete
    if empty_sha:
        ctx.notes.append("model_sha is empty in the results file (a local model, or no hub commit) for "
                         + ", ".join(sorted(empty_sha)) + ": model_revision left empty")
    tables = [("measurements", cols.take())]
    if cards:
        tables.append(("cards", card_table(cards.values(), where=str(ctx.root))))
    return tables


def _read_samples(ctx: ImportContext, cols: Columns, run: _Run, cards: dict[tuple[str, str], dict]) -> set[str]:
    """Rows of one samples file into `cols`, its documents' cards into `cards`; returns the document ids seen."""
    res, task, name, sf = run.results, run.task, run.model, run.samples
    hib = (res.get("higher_is_better") or {}).get(task) or {}
    version = (res.get("versions") or {}).get(task)
    task_hash = (res.get("task_hashes") or {}).get(task)
    task_revision = task_hash if isinstance(task_hash, str) and task_hash else (
        f"v{version}" if version is not None else None)
    dataset = _dataset_of(res, task)
    docs: set[str] = set()
    for lineno, doc in iter_jsonl(sf):
        if "doc_id" not in doc:
            raise SampleBenchError(f"{sf}:{lineno}: field 'doc_id' is missing; each line must be one logged document")
        doc_id = str(doc["doc_id"])
        if doc_id not in docs:
            docs.add(doc_id)
            card = doc_card(doc, dataset)
            if card is None:
                ctx.skips.add("document without text (no 'doc' or 'arguments'): no sample card", 1, f"{task} {doc_id}")
            else:
                cards[task, doc_id] = {"task": task, "sample_id": doc_id, **card}
        filt = doc.get("filter") or "none"
        metric_names = doc.get("metrics")
        if not isinstance(metric_names, list):
            metric_names = [k for k in doc if k not in _BOOKKEEPING]
        pred = doc.get("filtered_resps")
        pred_s = json.dumps(pred, default=str)[:1000] if pred is not None else None
        for metric in metric_names:
            if metric not in doc:
                raise SampleBenchError(f"{sf}:{lineno}: field '{metric}' (listed in 'metrics') is missing")
            raw = doc[metric]
            try:
                value, error = as_float(raw)
            except TypeError:
                ctx.skips.add("per-document value is not a number (corpus-level metric input)", 1,
                              f"{task} {metric}")
                continue
            out_metric = metric if filt == "none" else f"{metric},{filt}"
            cols.add(name, run.revision, task, task_revision, doc_id, out_metric, value, error, pred_s)
            ctx.info.set(task, out_metric, higher_is_better=bool(hib.get(metric, True)),
                         kind="binary" if isinstance(raw, bool) or metric in ("acc", "acc_norm", "exact_match")
                         else "continuous")
    return docs


# -- sample cards -------------------------------------------------------------------------------
def _dataset_of(res: dict, task: str) -> str | None:
    """`dataset_path[:dataset_name]` of the task's config in the results file, when recorded."""
    cfg = ((res.get("configs") or {}).get(task)) or {}
    path = cfg.get("dataset_path") if isinstance(cfg, dict) else None
    if not isinstance(path, str) or not path:
        return None
    name = cfg.get("dataset_name")
    return f"{path}:{name}" if isinstance(name, str) and name else path


def logged_prompt(arguments) -> str | None:
    """The prompt lm-eval gave the model for a document: the first argument's first string
    (`{"gen_args_0": {"arg_0": PROMPT, ...}}` in lm-eval >= 0.4.3, `[[PROMPT, ...], ...]` before)."""
    first = None
    if isinstance(arguments, dict) and arguments:
        first = next(iter(arguments.values()))
        first = next(iter(first.values()), None) if isinstance(first, dict) else first
    elif isinstance(arguments, list) and arguments:
        first = arguments[0]
    if isinstance(first, list | tuple) and first:
        first = first[0]
    return first if isinstance(first, str) and first.strip() else None


def doc_card(doc: dict, dataset: str | None = None) -> dict | None:
    """A logged document -> a card's `text` and `metadata`, or None when it has no text at all.

    text: the document's own string fields that the prompt quotes verbatim (a question, a
    passage; fields of at least three words, so labels and answer letters do not count), in the
    order the prompt shows them, without the prompt's template words, few-shot examples or chat
    markup; a field inside another chosen one is left out. When the prompt quotes no field (its
    template rewrote them) the text is the prompt itself; without a prompt, the longest string
    field. metadata: every other `doc` field (`subject`, `category`, choices, ...; see
    `cards.source_metadata`), plus `dataset` (the task's `dataset_path[:dataset_name]`) when the
    results file records it and the doc has no field of that name.
    """
    fields = doc.get("doc") if isinstance(doc.get("doc"), dict) else {}
    prompt = logged_prompt(doc.get("arguments"))
    strings = {k: v.strip() for k, v in fields.items() if isinstance(v, str) and v.strip()}
    quoted = {k: v for k, v in strings.items() if len(v.split()) >= 3 and prompt and v in prompt}
    distinct = {v: k for k, v in reversed(quoted.items())}  # equal values: the first field names it
    chosen = {k: v for v, k in distinct.items() if not any(v != o and v in o for o in distinct)}
    if chosen:
        used = [k for k in quoted if quoted[k] in distinct]  # equal copies are not metadata either
        text = "\n\n".join(chosen[k] for k in sorted(chosen, key=lambda k: prompt.rfind(chosen[k])))
    elif prompt:
        used, text = [], prompt.strip()
    elif strings:
        longest = max(strings, key=lambda k: len(strings[k]))
        used, text = [longest], strings[longest]
    else:
        return None
    meta = source_metadata({k: v for k, v in fields.items() if k not in used}, prefix="doc_")
    if dataset and "dataset" not in meta:
        meta["dataset"] = dataset
    return {"text": text, "metadata": meta}


def _with_results_files(root: Path, files: list[Path]) -> list[Path]:
    """One samples file given: add the results files beside it (they name the model)."""
    if root.is_dir():
        return files
    return [root] + sorted(f for f in root.parent.glob("*.json")
                           if _RESULTS.match(f.name) and not f.name.startswith(".") and f != root)


IMPORTER = Importer(
    name="lm-eval", suffixes=(".json", ".jsonl"), read=read_lm_eval, select=_with_results_files,
    options={"model": None}, identity=("model",), max_bytes=8 * GiB, cards=True,
    none_found="no lm-eval samples_<task>_<date>.jsonl files found",
    help="lm-evaluation-harness --log_samples output (samples_<task>_<date>.jsonl + results_<date>.json); "
         "writes sample cards from each doc",
)
