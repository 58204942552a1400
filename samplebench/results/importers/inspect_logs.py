"""inspect_ai evaluation logs: `.eval` (a zip: `header.json` or `_journal/start.json` with the
`eval` block, one `samples/<id>_epoch_<n>.json` per sample and epoch) and `.json` (one object:
`eval`, `results`, `samples`).

Rows: one per (sample id, epoch, scorer): `sample_id = "<id>#<epoch>"`, `metric` = the scorer
name (`<scorer>/<key>` for scorers whose value is a dict), `model` = `eval.model`, `task` =
`eval.task`, `task_revision` = `v<eval.task_version>`, `prediction` = the scorer's `answer`.

Score values become numbers as inspect_ai defines them: `C` (correct) = 1, `I` (incorrect) = 0,
`P` (partial) = 0.5, `N` (no answer) = 0; booleans 1/0; numbers as they are; numeric strings
parsed. A sample that failed (`error`) yields rows with value null and the error message, one
per metric the task's scorers declare (`eval.scorers`: `<scorer>/<key>` for a scorer with
per-key metrics, the same names its scored samples get), so failed and scored samples share
metric names. Other values (lists, free text) are skipped and counted.

Sample cards (one per imported sample id, `<id>#<epoch>`, so they join the measurements): text
= the sample's `input` (a string, or a chat: the text of its non-system messages in order, one
per paragraph, images as `[image: REF]`; a chat of system messages only gives their text);
metadata = `target`, `choices`, the chat's system prompt (`system`), the log's dataset name
(`dataset`) and every field of the sample's `metadata` (see `cards.source_metadata`; one that
clashes with those names is kept as `metadata_<name>`).

`.eval` members are read whether stored, deflated or compressed with zstd (zip method 93,
inspect's default), each checked against its CRC-32; a corrupted member stops the import
(nothing is imported) naming the file and the member. A log whose status is not "success"
(a run stopped by an error, cancelled, or still running) is imported with what it holds and
reported: its status, its error, and how many of the samples it should have (dataset samples
x epochs) are absent (`details.incomplete_logs`); absent samples get no rows.
"""

from __future__ import annotations

import json
import struct
import zipfile
import zlib
from pathlib import Path

from ...errors import SampleBenchError
from ..cards import card_table, source_metadata
from ._common import Columns
from .driver import GiB, ImportContext, Importer

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
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        line = getattr(exc, "lineno", 1)
        msg = getattr(exc, "msg", str(exc))
        raise SampleBenchError(f"{where}:{line}: invalid JSON ({msg}); nothing was imported") from None


ZSTD = 93  # zip compression method inspect_ai uses for .eval members
MAX_MEMBER_BYTES = 2 * GiB


def read_member(zf: zipfile.ZipFile, path: Path, name: str) -> bytes:
    """One archive member's bytes, decompressed (stored, deflate, bzip2, lzma or zstd) and CRC-checked."""
    info = zf.getinfo(name)
    where = f"{path}!{name}"
    if info.file_size > MAX_MEMBER_BYTES:
        raise SampleBenchError(f"{where}: member of {info.file_size:,} bytes is larger than an inspect log member "
                               f"may be ({MAX_MEMBER_BYTES:,} bytes); nothing was imported")
    try:
        if info.compress_type != ZSTD:
            return zf.read(info)
        import zstandard

        with open(path, "rb") as fh:
            fh.seek(info.header_offset)
            local = fh.read(30)
            if len(local) < 30 or local[:4] != b"PK\x03\x04":
                raise ValueError("bad local file header")
            name_len, extra_len = struct.unpack("<HH", local[26:30])
            fh.seek(info.header_offset + 30 + name_len + extra_len)
            raw = fh.read(info.compress_size)
        data = zstandard.ZstdDecompressor().decompress(raw, max_output_size=max(info.file_size, 1))
        if len(data) != info.file_size or zlib.crc32(data) != info.CRC:
            raise ValueError("size or CRC-32 does not match the archive directory")
        return data
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, OSError, NotImplementedError,
            RuntimeError) as exc:
        kind = "unsupported compression" if isinstance(exc, NotImplementedError) else "corrupted archive member"
        raise SampleBenchError(f"{where}: {kind} ({exc}); nothing was imported") from None
    except Exception as exc:  # zstandard.ZstdError and kin
        raise SampleBenchError(f"{where}: corrupted archive member ({type(exc).__name__}: {exc}); "
                               "nothing was imported") from None


def _read_log(path: Path) -> tuple[dict, list[tuple[str, dict]]]:
    """(header, [(where, sample)]) from a .eval zip or a .json log."""
    if path.suffix == ".eval":
        try:
            zf = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError):
            raise SampleBenchError(f"{path}: not a zip archive; an inspect_ai .eval log is a zip file") from None
        with zf:
            members = zf.namelist()
            head_name = "header.json" if "header.json" in members else "_journal/start.json"
            if head_name not in members:
                raise SampleBenchError(f"{path}: neither header.json nor _journal/start.json in the archive")
            header = _load_json(read_member(zf, path, head_name), f"{path}!{head_name}")
            samples = []
            for name in sorted(m for m in members if m.startswith("samples/") and m.endswith(".json")):
                s = _load_json(read_member(zf, path, name), f"{path}!{name}")
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
    return header, samples


def declared_metrics(header: dict) -> list[str]:
    """The metric names the log's scorers produce, as scored samples are imported.

    From `eval.scorers` (a scorer whose metrics are a mapping yields `<scorer>/<key>` per key),
    else from `results.scores` (`<scorer>/<name>` where the entry's name differs from its scorer).
    """
    out: list[str] = []
    for spec in (header.get("eval") or {}).get("scorers") or []:
        if isinstance(spec, dict) and isinstance(spec.get("name"), str):
            metrics = spec.get("metrics")
            if isinstance(metrics, dict) and metrics:
                out += [f"{spec['name']}/{k}" for k in metrics]
            else:
                out.append(spec["name"])
    if out:
        return out
    for s in (header.get("results") or {}).get("scores") or []:
        if isinstance(s, dict) and isinstance(s.get("name"), str):
            scorer = s.get("scorer") or s["name"]
            name = s["name"] if scorer == s["name"] else f"{scorer}/{s['name']}"
            if name not in out:
                out.append(name)
    return out


def _expected_samples(ev: dict) -> set[tuple[str, int]] | None:
    """(sample id, epoch) pairs the run should have produced, or None when the log does not say."""
    ds = ev.get("dataset") or {}
    ids = ds.get("sample_ids")
    if not isinstance(ids, list):
        n = ds.get("samples")
        if not isinstance(n, int):
            return None
        ids = list(range(1, n + 1))
    epochs = (ev.get("config") or {}).get("epochs") or 1
    return {(str(i), e) for i in ids for e in range(1, int(epochs) + 1)}


def _content_text(content) -> str:
    """A message's content (a string or a list of content parts) as text; images as a reference."""
    if isinstance(content, str):
        return content.strip()
    parts = []
    for part in content if isinstance(content, list) else []:
        if isinstance(part, str):
            parts.append(part.strip())
        elif isinstance(part, dict):
            if isinstance(part.get("text"), str):
                parts.append(part["text"].strip())
            elif part.get("type") in ("image", "audio", "video"):
                ref = part.get(part["type"])
                ref = ref if isinstance(ref, str) and not ref.startswith("data:") else "inline data"
                parts.append(f"[{part['type']}: {ref[:200]}]")
    return "\n".join(p for p in parts if p)


def sample_card(s: dict, dataset: str | None = None) -> dict | None:
    """An inspect sample's card (`text`, `metadata`), or None when its input holds no text."""
    raw = s.get("input")
    system = None
    if isinstance(raw, list):
        messages = [m for m in raw if isinstance(m, dict)]
        said = [_content_text(m.get("content")) for m in messages if m.get("role") != "system"]
        told = [_content_text(m.get("content")) for m in messages if m.get("role") == "system"]
        text = "\n\n".join(t for t in said if t) or "\n\n".join(t for t in told if t)
        system = "\n\n".join(t for t in told if t) if any(said) else None
    else:
        text = raw.strip() if isinstance(raw, str) else ""
    if not text:
        return None
    own = {"target": s.get("target") or None, "choices": s.get("choices") or None, "system": system,
           "dataset": dataset}
    meta = source_metadata({k: v for k, v in own.items() if v is not None})
    extra = s.get("metadata") if isinstance(s.get("metadata"), dict) else {}
    for key, value in source_metadata(extra, prefix="metadata_").items():
        meta["metadata_" + key if key in meta else key] = value
    return {"text": text, "metadata": meta}


def read_inspect(ctx: ImportContext):
    """Every log -> one measurement table; incomplete logs reported in `details.incomplete_logs`."""
    cols = Columns(detail=("prediction",))
    incomplete: dict[str, dict] = {}
    cards: dict[tuple[str, str], dict] = {}
    for f in ctx.files:
        header, samples = _read_log(f)
        ev = header["eval"]
        model = ctx.names(str(ev["model"]))
        task = str(ev["task"])
        tv = ev.get("task_version")
        task_revision = f"v{tv}" if tv is not None else None
        declared = declared_metrics(header)
        dataset = (ev.get("dataset") or {}).get("name") if isinstance(ev.get("dataset"), dict) else None
        observed: list[str] = []
        present: set[tuple[str, int]] = set()
        failed: list[tuple[str, str]] = []
        for where, s in samples:
            if "id" not in s:
                raise SampleBenchError(f"{where}: field 'id' is missing")
            epoch = s.get("epoch", 1)
            present.add((str(s["id"]), epoch))
            sid = f"{s['id']}#{epoch}"
            card = sample_card(s, dataset if isinstance(dataset, str) and dataset else None)
            if card is None:
                ctx.skips.add("sample without input text: no sample card", 1, f"{task} {sid}")
            else:
                cards[task, sid] = {"task": task, "sample_id": sid, **card}
            scores = s.get("scores")
            if scores is None and isinstance(s.get("score"), dict):  # log format 1: a single score
                scores = {declared[0] if declared else "score": s["score"]}
            scores = scores or {}
            if not isinstance(scores, dict):
                raise SampleBenchError(f"{where}: field 'scores' must be an object {{scorer: score}}")
            err = s.get("error")
            if err and not scores:
                msg = (err.get("message") if isinstance(err, dict) else str(err)) or "sample failed"
                failed.append((sid, f"sample error: {msg}"[:500]))
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
                    if metric not in observed:
                        observed.append(metric)
                    num = score_value(v)
                    if num is None and v is not None:
                        ctx.skips.add("score value is not a number or C/I/P/N", 1, f"{task} {metric}={v!r}"[:120])
                        continue
                    cols.add(model, None, task, task_revision, sid, metric, num,
                             None if num is not None else "null score in log", answer)
                    ctx.info.set(task, metric, higher_is_better=True,
                                 kind="ordinal" if isinstance(v, str) and v in VALUE_MAP else (
                                     "binary" if isinstance(v, bool) else "continuous"))
        metrics = declared or observed
        for sid, msg in failed:
            if not metrics:
                ctx.skips.add("failed sample of a log that names no scorer (no metric to record it under)", 1,
                              f"{f.name} {sid}")
            for metric in metrics:
                cols.add(model, None, task, task_revision, sid, metric, None, msg, None)
                ctx.info.set(task, metric, higher_is_better=True)
        status = header.get("status") or "unknown"
        expected = _expected_samples(ev)
        missing = sorted(expected - present) if expected is not None else []
        if status != "success" or missing:
            error = header.get("error")
            message = (error.get("message") if isinstance(error, dict) else error) or None
            incomplete[str(f)] = {
                "status": status, "error": message, "samples_expected": len(expected) if expected else None,
                "samples_in_log": len(present), "samples_failed": len(failed),
                "samples_absent": [f"{i}#{e}" for i, e in missing],
            }
            ctx.notes.append(
                f"{f.name}: status '{status}'" + (f" ({message})" if message else "")
                + f": {len(present)} of {len(expected) if expected else '?'} samples in the log"
                + (f", {len(failed)} failed (rows with an error)" if failed else "")
                + (f", {len(missing)} never ran (no rows)" if missing else ""))
    if not len(cols):
        raise SampleBenchError(f"{ctx.root}: the logs hold no scored samples")
    if incomplete:
        ctx.details["incomplete_logs"] = incomplete
    ctx.notes.insert(0, "sample_id is '<sample id>#<epoch>'; C/I/P/N scored as 1/0/0.5/0")
    tables = [("measurements", cols.take())]
    if cards:
        tables.append(("cards", card_table(cards.values(), where=str(ctx.root))))
    return tables


def _logs_only(root: Path, files: list[Path]) -> list[Path]:
    return [f for f in files if f.name != "logs.json" or f == root]  # logs.json: inspect's index of a folder


IMPORTER = Importer(
    name="inspect", suffixes=(".eval", ".json"), read=read_inspect, select=_logs_only, max_bytes=8 * GiB, cards=True,
    none_found="no inspect_ai logs (*.eval, *.json) found",
    help="inspect_ai logs (.eval zip, zstd or deflate, or .json): one row per (sample, epoch, scorer); "
         "C/I/P/N = 1/0/0.5/0; writes sample cards from each sample's input, target and metadata",
)
