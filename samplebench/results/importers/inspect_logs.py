"""inspect_ai evaluation logs: `.eval` (a zip: `header.json` or `_journal/start.json` with the
`eval` block, one `samples/<id>_epoch_<n>.json` per sample and epoch) and `.json` (one object:
`eval`, `results`, `samples`).

Rows: one per (sample id, epoch, scorer): `sample_id = "<id>#<epoch>"`, `metric` = the scorer
name (`<scorer>/<key>` for scorers whose value is a dict), `model` = `eval.model`, `task` =
`eval.task`, `task_revision` = `v<eval.task_version>`, `prediction` = the scorer's `answer`.

Score values become numbers as inspect_ai defines them: `C` (correct) = 1, `I` (incorrect) = 0,
`P` (partial) = 0.5, `N` (no answer) = 0; booleans 1/0; numbers as they are; numeric strings
parsed. A sample that failed (`error`) yields rows with value null and the error message for
every scorer the log reports. Other values (lists, free text) are skipped and counted.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from ...errors import SampleBenchError
from ..store import ResultStore
from ._common import Columns, MetricInfos, Skips, content_hash, refuse_options, run_import, walk_files
from .aliases import AliasSource, ModelNames
from .summary import ImportSummary

VALUE_MAP = {"C": 1.0, "I": 0.0, "P": 0.5, "N": 0.0}


def score_value(value) -> float | None:
    """An inspect_ai score value -> float (C/I/P/N as 1/0/0.5/0), or None when it is not a score."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        if value in VALUE_MAP:
            return VALUE_MAP[value]
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _load_json(data: bytes, where: str):
    try:
        return json.loads(data)
    except json.JSONDecodeError as exc:
        raise SampleBenchError(f"{where}:{exc.lineno}: invalid JSON ({exc.msg}); nothing was imported") from None


def _read_log(path: Path) -> tuple[dict, list[tuple[str, dict]]]:
    """(eval block, [(where, sample)]) from a .eval zip or a .json log."""
    if path.suffix == ".eval":
        try:
            zf = zipfile.ZipFile(path)
        except zipfile.BadZipFile:
            raise SampleBenchError(f"{path}: not a zip archive; an inspect_ai .eval log is a zip file") from None
        with zf:
            members = zf.namelist()
            head_name = "header.json" if "header.json" in members else "_journal/start.json"
            if head_name not in members:
                raise SampleBenchError(f"{path}: neither header.json nor _journal/start.json in the archive")
            header = _load_json(zf.read(head_name), f"{path}!{head_name}")
            samples = []
            for name in sorted(m for m in members if m.startswith("samples/") and m.endswith(".json")):
                s = _load_json(zf.read(name), f"{path}!{name}")
                if not isinstance(s, dict):
                    raise SampleBenchError(f"{path}!{name}: a sample must be a JSON object")
                samples.append((f"{path}!{name}", s))
    else:
        header = _load_json(path.read_bytes(), str(path))
        if not isinstance(header, dict):
            raise SampleBenchError(f"{path}: an inspect_ai log must be a JSON object")
        raw = header.get("samples") or []
        if not isinstance(raw, list):
            raise SampleBenchError(f"{path}: field 'samples' must be a list")
        samples = [(f"{path}: samples[{i}]", s) for i, s in enumerate(raw)]
    ev = header.get("eval") if isinstance(header, dict) else None
    if not isinstance(ev, dict) or not ev.get("model") or not ev.get("task"):
        raise SampleBenchError(f"{path}: field 'eval' with 'task' and 'model' is missing; not an inspect_ai log")
    scorer_names = [s.get("name") for s in ((header.get("results") or {}).get("scores") or [])
                    if isinstance(s, dict) and s.get("name")]
    ev = {**ev, "_scorers": scorer_names}
    return ev, samples


def import_inspect(store: ResultStore, path: Path, *, aliases: AliasSource = None, kind: str = "measurements",
                   **unknown) -> ImportSummary:
    """Import inspect_ai logs (one file or a folder of `.eval`/`.json` logs), atomically."""
    refuse_options(unknown, "inspect")
    if kind != "measurements":
        raise SampleBenchError("--pairwise applies to the canonical formats only")
    root = Path(path)
    files = [f for f in walk_files(root, (".eval", ".json")) if f.name != "logs.json" or f == root]  # logs.json: index
    if not files:
        raise SampleBenchError(f"{root}: no inspect_ai logs (*.eval, *.json) found")
    names = ModelNames(aliases)
    cols = Columns(detail=("prediction",))
    info = MetricInfos()
    skips = Skips()
    for f in files:
        ev, samples = _read_log(f)
        model = names(str(ev["model"]))
        task = str(ev["task"])
        tv = ev.get("task_version")
        task_revision = f"v{tv}" if tv is not None else None
        scorers = list(ev["_scorers"])
        for where, s in samples:
            if "id" not in s:
                raise SampleBenchError(f"{where}: field 'id' is missing")
            sid = f"{s['id']}#{s.get('epoch', 1)}"
            scores = s.get("scores")
            if scores is None and isinstance(s.get("score"), dict):  # log format 1: a single score
                scores = {scorers[0] if scorers else "score": s["score"]}
            scores = scores or {}
            if not isinstance(scores, dict):
                raise SampleBenchError(f"{where}: field 'scores' must be an object {{scorer: score}}")
            err = s.get("error")
            if err and not scores:
                msg = (err.get("message") if isinstance(err, dict) else str(err)) or "sample failed"
                for sc in scorers or ["score"]:
                    cols.add(model, None, task, task_revision, sid, sc, None, f"sample error: {msg}"[:500], None)
                    info.set(task, sc, higher_is_better=True)
                continue
            for scorer, score in scores.items():
                if not isinstance(score, dict) or "value" not in score:
                    raise SampleBenchError(f"{where}: field 'scores.{scorer}.value' is missing")
                value = score["value"]
                answer = score.get("answer")
                answer = None if answer is None else str(answer)[:1000]
                items = value.items() if isinstance(value, dict) else [(None, value)]
                for key, v in items:
                    metric = scorer if key is None else f"{scorer}/{key}"
                    num = score_value(v)
                    if num is None and v is not None:
                        skips.add("score value is not a number or C/I/P/N", 1, f"{task} {metric}={v!r}"[:120])
                        continue
                    cols.add(model, None, task, task_revision, sid, metric, num,
                             None if num is not None else "null score in log", answer)
                    info.set(task, metric, higher_is_better=True,
                             kind="ordinal" if isinstance(v, str) and v in VALUE_MAP else (
                                 "binary" if isinstance(v, bool) else "continuous"))
    if not len(cols):
        raise SampleBenchError(f"{root}: the logs hold no scored samples")
    h = content_hash(files, root if root.is_dir() else root.parent, salt="inspect:" + json.dumps(sorted(names.table.items())))
    return run_import(store, [("measurements", cols.take())], source=str(root), source_hash=h, fmt="inspect",
                      metric_info=info, skips=skips,
                      notes=["sample_id is '<sample id>#<epoch>'; C/I/P/N scored as 1/0/0.5/0"])
