"""`bench evaluate MODEL --budget N|P%`: evaluate a model on a fraction of the samples, placed against the pool.

This module sits above the runner and the placement method (as `samplebench.demo` does): it lists
the selection's samples, reads the pool from the store (`source.read_pool`), fits the item model,
and lets `place.place` ask the runner for the chosen samples round by round (the runner's
`sample_ids=` seam). Each round's samples, with why they were chosen, are written to a placement
record `<store>/placements/<model>-<time>.json` (atomically, after every round), which names the
pool, the item model's inputs, the seed and the choices, so the run can be replayed; the rows
themselves are ordinary results, so a later full `bench evaluate MODEL` fills in only the rest.

Tasks whose per-sample values depend on the whole evaluated set (STS rank errors, the pair
classification threshold, clusterings, safety ratings calibrated over the set) cannot be sampled:
they are evaluated in full and the budget applies to the other tasks.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import SampleBenchError
from .estimate import Estimate
from .items import fit_items
from .place import STRATEGIES, Placement, place
from .pool import check_pool

WHOLE_SET_TYPES = frozenset({"sts", "pair_classification", "clustering", "safety_rating"})


@dataclass
class BudgetedReport:
    """What a budgeted evaluation did: lines to print, the final estimate, where the record is."""

    model: str
    n_selection: int
    n_pool_models: int
    lines: list[str] = field(default_factory=list)
    estimate: Estimate | None = None
    placement: Placement | None = None
    record: Path | None = None
    n_evaluated: int = 0
    exit_code: int = 0


def parse_budget(budget: str | int | None, n_selection: int) -> int | None:
    """`N` samples or `P%` of the selection's samples -> a number of samples (None: no budget)."""
    if budget is None:
        return None
    text = str(budget).strip()
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*%", text)
    if m:
        share = float(m.group(1))
        if not 0 < share <= 100:
            raise SampleBenchError(f"--budget {text}: a percentage must be in (0, 100]")
        return max(1, math.ceil(n_selection * share / 100))
    if not text.isdigit() or int(text) < 1:
        raise SampleBenchError(f"--budget {text}: expected a positive number of samples (e.g. 100) or a percentage (e.g. 10%)")
    return int(text)


def evaluate_with_budget(model: str, tasks: Sequence[str] | None = None, *, tag: str | None = None,
                         benchmark: str | None = None, capability: str | None = None, store=None,
                         budget: str | int | None = None, rank_width: int | None = None, strategy: str = "adaptive",
                         round_size: int | None = None, seed: int = 0, level: float = 0.9, executor: str = "local",
                         batch_size: int = 32, cache: bool = True, timeout: float | None = None, progress: bool = False,
                         command: str | None = None, say: Callable[[str], None] | None = None) -> BudgetedReport:
    """Place `model` on the selected tasks with at most `budget` evaluated samples (see the module docstring).

    `benchmark` (an MTEB name, a benchmark defined in YAML, or a .yaml file) selects its tasks;
    `capability` (a name saved by `bench query TEXT --save NAME`) restricts the selection to its
    samples (within `tasks`/`tag`/`benchmark` when those are given too)."""
    from ..results import ResultStore
    from ..runners.models import resolve_spec
    from ..runners.runner import evaluate, list_sample_ids, resolve_tasks
    from .source import read_pool

    if strategy not in STRATEGIES:
        raise SampleBenchError(f"unknown strategy '{strategy}'", hint=f"one of {', '.join(STRATEGIES)}")
    if rank_width is not None and rank_width < 0:
        raise SampleBenchError(f"--until-rank-width must be >= 0, got {rank_width}")
    store = store if isinstance(store, ResultStore) else ResultStore(store)
    only = _capability_samples(store, capability) if capability else None
    if benchmark:
        from ..selection import resolve_benchmark

        in_bench = resolve_benchmark(benchmark).task_names()
        tasks = [t for t in tasks if t in in_bench] if tasks else in_bench
        if not tasks:
            raise SampleBenchError(f"none of the tasks given is in benchmark {benchmark}",
                                   hint=f"its tasks: {', '.join(in_bench[:10])}")
    if only is not None and not tasks and not tag:
        tasks = sorted(only)
    specs = resolve_tasks(list(tasks) if tasks else None, tag=tag)
    if only is not None:
        specs = [s for s in specs if s.name in only]
        if not specs:
            raise SampleBenchError(f"capability '{capability}' has no samples in the selected tasks",
                                   hint=f"its tasks: {', '.join(sorted(only))}")
    name = resolve_spec(model).name
    say = say or (lambda _line: None)
    ids = {s.name: list_sample_ids(s) for s in specs}
    if only is not None:
        ids = {t: [i for i in v if i in set(only[t])] for t, v in ids.items()}
    n_selection = sum(len(v) for v in ids.values())
    limit = parse_budget(budget, n_selection)
    if limit is None:
        if rank_width is None:
            raise SampleBenchError("a budgeted evaluation needs --budget N|P% or --until-rank-width W")
        limit = n_selection
    run_args: dict[str, Any] = {"store": store, "executor": executor, "batch_size": batch_size, "cache": cache,
                                "timeout": timeout, "progress": progress, "command": command}
    data = read_pool(store, [s.name for s in specs], target=name, task_samples=ids, only=ids if only else None)
    pool = data.pool
    population = np.arange(pool.n_samples)
    todo = [j for j in population if j not in data.known]
    report = BudgetedReport(model=name, n_selection=n_selection, n_pool_models=pool.n_models)

    def line(text: str) -> None:
        report.lines.append(text)
        say(text)

    if not todo:
        line(f"{name} already has values on all {n_selection} samples of the selection: nothing to do")
        report.estimate = _exact(pool, data.known)
        return report
    if limit >= len(todo):
        line(f"budget {limit} covers all {len(todo)} samples not yet evaluated: evaluating everything")
        per_sample = {s.name: ids[s.name] for s in specs if s.type not in WHOLE_SET_TYPES}
        rep = evaluate(name, specs, sample_ids=per_sample if only else None, **run_args)
        report.exit_code = rep.exit_code
        report.n_evaluated = len(todo)
        report.estimate = _exact(pool, read_pool(store, [s.name for s in specs], target=name, task_samples=ids,
                                                 only=ids if only else None).known)
        return report
    check_pool(pool)

    whole = [s for s in specs if s.type in WHOLE_SET_TYPES]
    index = {(pool.tasks[t], sid): j for j, (t, sid) in enumerate(zip(pool.sample_task, pool.sample_ids, strict=True))}
    if whole:
        missing = sum(1 for s in whole for sid in ids[s.name] if index[(s.name, sid)] not in data.known)
        line(f"{', '.join(s.name for s in whole)}: per-sample values depend on the whole set; evaluated in full "
             f"({missing} sample(s)); the budget applies to the other tasks")
        if missing:
            rep = evaluate(name, whole, **run_args)
            report.exit_code = max(report.exit_code, rep.exit_code)
            report.n_evaluated += missing
        data = read_pool(store, [s.name for s in specs], target=name, task_samples=ids, only=ids if only else None)
    known = dict(data.known)

    items = fit_items(pool)
    record_path = store.root / "placements" / f"{_slug(name)}-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
    record: dict[str, Any] = {
        "model": name, "tasks": [s.name for s in specs], "benchmark": benchmark, "capability": capability,
        "metrics": data.metrics,
        "budget": limit,
        "rank_width": rank_width, "strategy": strategy, "seed": seed, "level": level, "round_size": round_size,
        "pool_models": pool.models, "n_selection": n_selection, "known": [[pool.tasks[pool.sample_task[j]], pool.sample_ids[j]] for j in sorted(known)],
        "task_samples": ids, "rounds": [],
    }
    by_spec = {s.name: s for s in specs}

    def answer(chosen: np.ndarray) -> np.ndarray:
        wanted: dict[str, list[str]] = {}
        for j in chosen:
            wanted.setdefault(pool.tasks[pool.sample_task[j]], []).append(pool.sample_ids[j])
        rep = evaluate(name, [by_spec[t] for t in wanted], sample_ids=wanted, **run_args)
        report.exit_code = max(report.exit_code, rep.exit_code)
        back = {(t, sid) for t, sids in wanted.items() for sid in sids}
        fresh = _values_by_key(store, name, data.metrics, back)
        return np.array([fresh.get((pool.tasks[pool.sample_task[j]], pool.sample_ids[j]), np.nan) for j in chosen])

    def on_round(placement: Placement) -> None:
        est = placement.estimate
        rnd = len(placement.rounds) - 1
        picked = [c for c in placement.choices if c.round == rnd]
        record["rounds"].append({
            "round": rnd,
            "samples": [{"task": pool.tasks[pool.sample_task[c.sample]], "sample_id": pool.sample_ids[c.sample],
                         "reason": c.reason, "criterion": c.gain,
                         "value": placement.values.get(c.sample)} for c in picked],
            "estimate": _estimate_json(est),
        })
        _write(record_path, record)
        if rnd:
            line(f"round {rnd}: {len(picked)} sample(s), {placement.n_evaluated - len(known)} of {limit} spent; "
                 f"{_describe(est, pool.n_models + 1)}")

    placed = place(items, answer, budget=limit, population=population, pool_rank_scores=pool.rank_scores(),
                   higher_is_better=pool.higher_is_better, strategy=strategy, rank_width=rank_width,
                   round_size=round_size, known=known, level=level, seed=seed, on_round=on_round,
                   pool_values=pool.values)
    record["stop_reason"] = placed.stop_reason
    record["estimate"] = _estimate_json(placed.estimate)
    _write(record_path, record)
    report.placement, report.estimate, report.record = placed, placed.estimate, record_path
    report.n_evaluated += placed.n_evaluated - len(known)
    line(f"stopped: {placed.stop_reason}")
    return report


@dataclass
class Replay:
    """A placement record replayed against the store: how many choices came out the same."""

    record: Path
    n_choices: int
    n_same: int
    first_difference: str | None
    estimate: Estimate

    @property
    def identical(self) -> bool:
        return self.first_difference is None


def replay(record_path: str | Path, store=None) -> Replay:
    """Run a recorded placement again from the store — the same pool models, the values the model
    already had, its stored values as answers, the same strategy, budget, rounds and seed — and
    compare each round's choices with the record's."""
    from ..results import ResultStore
    from .source import read_pool

    record_path = Path(record_path)
    try:
        rec = json.loads(record_path.read_text(encoding="utf-8"))
        model, tasks = rec["model"], rec["tasks"]
        pool_models, known_keys = rec["pool_models"], {tuple(k) for k in rec["known"]}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SampleBenchError(f"{record_path}: not a placement record ({type(exc).__name__}: {exc})",
                               hint="placement records are written to <store>/placements/ by bench evaluate --budget") from None
    store = store if isinstance(store, ResultStore) else ResultStore(store)
    only = rec.get("task_samples") if rec.get("capability") else None
    data = read_pool(store, tasks, target=model, task_samples=rec.get("task_samples"), models=pool_models, only=only)
    pool = data.pool
    missing = sorted(set(pool_models) - set(pool.models))
    if missing:
        raise SampleBenchError(f"{record_path}: the store no longer has pool model(s) {', '.join(missing[:5])}")
    key = {(pool.tasks[t], sid): j for j, (t, sid) in enumerate(zip(pool.sample_task, pool.sample_ids, strict=True))}
    stored = data.known
    known = {key[k]: stored[key[k]] for k in known_keys if k in key and key[k] in stored}
    recorded = [(s["task"], s["sample_id"]) for r in rec["rounds"] for s in r["samples"]]

    def answer(chosen: np.ndarray) -> np.ndarray:
        return np.array([stored.get(int(j), np.nan) for j in chosen])

    items = fit_items(pool)
    placed = place(items, answer, budget=rec["budget"], population=np.arange(pool.n_samples),
                   pool_rank_scores=pool.rank_scores(), higher_is_better=pool.higher_is_better,
                   strategy=rec["strategy"], rank_width=rec.get("rank_width"), round_size=rec.get("round_size"),
                   known=known, level=rec.get("level", 0.9), seed=rec.get("seed", 0), pool_values=pool.values)
    again = [(pool.tasks[pool.sample_task[c.sample]], pool.sample_ids[c.sample]) for c in placed.choices]
    same = 0
    for a, b in zip(recorded, again, strict=False):
        if a != b:
            break
        same += 1
    diff = None
    if same < max(len(recorded), len(again)):
        a = recorded[same] if same < len(recorded) else None
        b = again[same] if same < len(again) else None
        diff = f"choice {same + 1}: recorded {a}, replayed {b}"
    return Replay(record=record_path, n_choices=len(recorded), n_same=same, first_difference=diff,
                  estimate=placed.estimate)


def _capability_samples(store, name: str) -> dict[str, list[str]]:
    """task -> sample ids of a saved capability (`bench query TEXT --save NAME`)."""
    from ..pool.capabilities import capability_selection

    return capability_selection(store, capability=name)


def _values_by_key(store, model: str, metrics: dict[str, str], keys: set[tuple[str, str]]) -> dict[tuple[str, str], float]:
    """The model's stored main-metric values on `keys` (task, sample id); errors read as NaN."""
    import pyarrow.compute as pc

    tasks = sorted({t for t, _ in keys})
    cols = ["task", "sample_id", "metric", "value"] + (["group"] if "group" in store.column_names() else [])
    table = store.scan(models=[model], tasks=tasks, columns=cols)
    if "group" in cols:
        table = table.filter(pc.is_null(table["group"]))
    out: dict[tuple[str, str], float] = {}
    for t, s, m, v in zip(table["task"].to_pylist(), table["sample_id"].to_pylist(), table["metric"].to_pylist(),
                          table["value"].to_pylist(), strict=True):
        if metrics.get(t) == m and (t, s) in keys:
            out[(t, s)] = np.nan if v is None else float(v)
    return out


def _exact(pool, known: dict[int, float]) -> Estimate:
    """The score and rank of a fully evaluated model (zero-width intervals)."""
    from .pool import rank_of

    row = np.full(pool.n_samples, np.nan)
    for j, v in known.items():
        row[j] = v
    tm = pool.task_means(row)[0]
    score = float(np.nanmean(tm))
    r = int(rank_of(pool.oriented(tm), pool.rank_scores())) if pool.n_models else 1
    return Estimate(score=score, score_low=score, score_high=score, rank=r, rank_low=r, rank_high=r,
                    task_scores=tm, level=1.0)


def _describe(est: Estimate, n_ranked: int) -> str:
    pct = int(round(est.level * 100))
    return (f"score {est.score:.4f} [{est.score_low:.4f}, {est.score_high:.4f}], rank {est.rank} "
            f"[{est.rank_low}-{est.rank_high}] of {n_ranked} ({pct}% intervals)")


def _estimate_json(est: Estimate) -> dict:
    return {"score": est.score, "score_low": est.score_low, "score_high": est.score_high, "rank": est.rank,
            "rank_low": est.rank_low, "rank_high": est.rank_high, "level": est.level}


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "model"


def _write(path: Path, record: dict) -> None:
    from .._atomic import write_text_atomic

    write_text_atomic(path, json.dumps(record, indent=1, default=_json_default))


def _json_default(v):
    if isinstance(v, np.generic):
        return v.item()
    raise TypeError(type(v).__name__)

