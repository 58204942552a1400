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
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from ...errors import SampleBenchError
from ..store import ResultStore
from ._common import (
    Columns,
    MetricInfos,
    Skips,
    as_float,
    content_hash,
    refuse_options,
    run_import,
    walk_files,
)
from .aliases import AliasSource, ModelNames
from .summary import ImportSummary

_SAMPLES = re.compile(r"^samples_(?P<task>.+)_(?P<date>\d{4}-\d{2}-\d{2}T[0-9.\-:]+)\.jsonl$")
_RESULTS = re.compile(r"^results_(?P<date>\d{4}-\d{2}-\d{2}T[0-9.\-:]+)\.json$")
_BOOKKEEPING = {"doc_id", "doc", "target", "arguments", "resps", "filtered_resps", "filter", "metrics",
                "doc_hash", "prompt_hash", "target_hash"}


def _model_from_results(res: dict, where: Path) -> tuple[str, str | None]:
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
    sha = cfg.get("model_sha") or res.get("model_sha") or parsed.get("revision")
    return name, sha if isinstance(sha, str) and sha else None


def _read_results(path: Path) -> dict:
    try:
        data = json.loads(path.read_bytes())
    except json.JSONDecodeError as exc:
        raise SampleBenchError(f"{path}:{exc.lineno}: invalid JSON ({exc.msg}); nothing was imported") from None
    if not isinstance(data, dict):
        raise SampleBenchError(f"{path}: expected a JSON object")
    return data


def import_lm_eval(store: ResultStore, path: Path, *, aliases: AliasSource = None, model: str | None = None,
                   kind: str = "measurements", **unknown) -> ImportSummary:
    """Import an lm-eval output folder (or one samples file beside its results file)."""
    refuse_options(unknown, "lm-eval")
    if kind != "measurements":
        raise SampleBenchError("--pairwise applies to the canonical formats only")
    root = Path(path)
    files = walk_files(root, (".json", ".jsonl"))
    samples = [f for f in files if _SAMPLES.match(f.name)]
    if root.is_file():  # one samples file: take its results file from the same folder
        files = [root] + [f for f in walk_files(root.parent, (".json",)) if _RESULTS.match(f.name)]
    if not samples:
        raise SampleBenchError(f"{root}: no lm-eval samples_<task>_<date>.jsonl files found",
                               hint="run lm-eval with --log_samples --output_path DIR and import DIR")
    results = {f: _read_results(f) for f in files if _RESULTS.match(f.name)}
    names = ModelNames(aliases)
    cols = Columns(detail=("prediction",))
    info = MetricInfos()
    skips = Skips()
    versions: set[str] = set()
    for sf in samples:
        m = _SAMPLES.match(sf.name)
        task, date = m["task"], m["date"]
        res_path = sf.parent / f"results_{date}.json"
        res = results.get(res_path)
        if res is None:  # lm-eval sometimes stamps results a moment after samples: take the folder's only one
            same_dir = [p for p in results if p.parent == sf.parent]
            res = results[same_dir[0]] if len(same_dir) == 1 else None
        if res is None and model is None:
            raise SampleBenchError(f"{sf}: no matching results_{date}.json beside it; pass model=... to name the model")
        where_res = res_path if res is not None else sf
        name, sha = (model, None) if model else _model_from_results(res or {}, where_res)
        name = names(name)
        res = res or {}
        if isinstance(res.get("lm_eval_version"), str):
            versions.add(res["lm_eval_version"])
        hib = (res.get("higher_is_better") or {}).get(task) or {}
        version = (res.get("versions") or {}).get(task)
        task_hash = (res.get("task_hashes") or {}).get(task)
        task_revision = task_hash if isinstance(task_hash, str) and task_hash else (
            f"v{version}" if version is not None else None)
        with open(sf, encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    doc = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise SampleBenchError(f"{sf}:{lineno}: invalid JSON ({exc.msg}); nothing was imported") from None
                if not isinstance(doc, dict) or "doc_id" not in doc:
                    raise SampleBenchError(f"{sf}:{lineno}: field 'doc_id' is missing; each line must be one logged document")
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
                        skips.add("per-document value is not a number (corpus-level metric input)", 1,
                                  f"{task} {metric}")
                        continue
                    out_metric = metric if filt == "none" else f"{metric},{filt}"
                    cols.add(name, sha, task, task_revision, str(doc["doc_id"]), out_metric, value, error, pred_s)
                    info.set(task, out_metric, higher_is_better=bool(hib.get(metric, True)),
                             kind="binary" if isinstance(raw, bool) or metric in ("acc", "acc_norm", "exact_match") else "continuous")
    if not len(cols):
        raise SampleBenchError(f"{root}: the samples files hold no per-document numeric metrics")
    table = cols.take()
    h = content_hash(files, root if root.is_dir() else root.parent,
                     salt=f"lm-eval:{model}:" + json.dumps(sorted(names.table.items())))
    notes = ["one row per (document, metric); metric names carry ',<filter>' when lm-eval's filter is not 'none'"]
    if versions:
        notes.append("lm-eval version(s): " + ", ".join(sorted(versions)))
    return run_import(store, [("measurements", table)], source=str(root), source_hash=h, fmt="lm-eval",
                      metric_info=info, skips=skips, notes=notes)
