"""The OpenAI-compatible image endpoint adapter (`openai-images`) against a local server on 127.0.0.1:
b64 and url responses, n capped per request, retries, a failing prompt that fails alone, the CLI."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
import yaml
from test_cube import pattern  # tests/ is on sys.path

from samplebench import SampleBenchError
from samplebench.registry import ModelSpec, TaskRegistry
from samplebench.runners.adapters.openai_images import OpenAIImagesAdapter
from samplebench.tasks import evaluator_for


def _png(arr) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue()


class Endpoint(BaseHTTPRequestHandler):
    state: dict = {}

    def log_message(self, *args):
        pass

    def _send(self, code: int, body: bytes = b"", ctype: str = "application/json"):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):  # generated images served by url
        self._send(200, self.state["files"][self.path], "image/png")

    def do_POST(self):
        st = self.state
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        st.setdefault("requests", []).append(body)
        st.setdefault("auth", set()).add(self.headers.get("Authorization"))
        if st.get("fail", 0) > 0:
            st["fail"] -= 1
            return self._send(503)
        if "FORBIDDEN" in body["prompt"]:
            return self._send(400, b'{"error": "content policy"}')
        n = min(body["n"], st.get("cap", 10))
        seed = int(hashlib.sha256(f"{body['prompt']}{len(st['requests'])}".encode()).hexdigest()[:8], 16)
        rng = np.random.default_rng(seed)
        data = []
        for _ in range(n):
            png = _png(pattern(rng) if st.get("varied", True) else np.full((32, 32, 3), 90, np.uint8))
            if st.get("mode") == "url":
                path = f"/files/{len(st.setdefault('files', {}))}.png"
                st["files"][path] = png
                data.append({"url": f"http://127.0.0.1:{self.server.server_address[1]}{path}"})
            else:
                data.append({"b64_json": base64.b64encode(png).decode()})
        self._send(200, json.dumps({"created": 0, "data": data}).encode())


@pytest.fixture
def endpoint():
    Endpoint.state = {}
    server = ThreadingHTTPServer(("127.0.0.1", 0), Endpoint)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1", Endpoint.state
    server.shutdown()
    server.server_close()


def _adapter(base, **args):
    args = {"model": "tiny-t2i", "base_url": base, "backoff": 0.01, **args}
    return OpenAIImagesAdapter(ModelSpec(name="ep", adapter="openai-images", args=args), **args)


@pytest.mark.parametrize("mode", ["b64", "url"])
def test_endpoint_images_and_request_shape(endpoint, monkeypatch, mode, tmp_path):
    base, state = endpoint
    state["mode"] = mode
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    m = _adapter(base, max_n=2, size="256x256", save_dir=str(tmp_path / "saved"))
    out = m.generate_images(["a dish", "a dance"], k=3, prompt_ids=["p1", "p2"])
    assert [len(x) for x in out] == [3, 3] and out[0][0].size == (32, 32)
    assert sorted(r["n"] for r in state["requests"]) == [1, 1, 2, 2]  # n capped at max_n
    r = state["requests"][0]
    assert r["model"] == "tiny-t2i" and r["size"] == "256x256" and r["response_format"] == "b64_json"
    assert state["auth"] == {"Bearer sk-test"}
    assert sorted(p.name for p in (tmp_path / "saved" / "p2").iterdir()) == ["0.png", "1.png", "2.png"]


def test_endpoint_retries_and_failures(endpoint):
    base, state = endpoint
    state["fail"] = 2
    assert len(_adapter(base, retries=3).generate_images(["x"], k=1, prompt_ids=["a"])[0]) == 1
    out = _adapter(base).generate_images(["ok", "FORBIDDEN thing"], k=2, prompt_ids=["a", "b"])
    assert len(out[0]) == 2 and isinstance(out[1], SampleBenchError) and "HTTP 400" in out[1].message
    dead = OpenAIImagesAdapter(ModelSpec(name="d", adapter="openai-images"), model="m",
                               base_url="http://127.0.0.1:9/v1", retries=1, backoff=0.01, timeout=2)
    err = dead.generate_images(["x"], k=1, prompt_ids=["a"])[0]
    assert isinstance(err, SampleBenchError) and "unreachable" in err.message and "after 2 attempts" in err.message
    with pytest.raises(SampleBenchError, match="args.model"):
        OpenAIImagesAdapter(ModelSpec(name="d", adapter="openai-images"))


def test_failed_prompt_fails_only_its_group(endpoint, monkeypatch):
    base, state = endpoint
    ev = evaluator_for(TaskRegistry().get("cube-diversity"))
    data = ev.load()
    good, bad = "div:cuisine|Africa", "div:landmarks|Africa"
    data.prompts[data.groups[bad][0]] = "FORBIDDEN " + data.prompts[data.groups[bad][0]]
    res = {(r.sample_id, r.metric): r for r in ev.evaluate(_adapter(base), data, [good, bad])}
    assert res[(good, "diversity")].value > 2.0
    assert res[(bad, "diversity")].value is None and "HTTP 400" in res[(bad, "diversity")].error


def test_cli_evaluates_an_image_endpoint(endpoint, bench, home):
    base, state = endpoint
    (home / "models").mkdir(parents=True)
    for name, varied in (("ep-varied", True), ("ep-flat", False)):
        spec = {"name": name, "adapter": "openai-images", "args": {"model": "tiny-t2i", "base_url": base}}
        (home / "models" / f"{name}.yaml").write_text(yaml.safe_dump(spec))
        state["varied"] = varied
        res = bench("evaluate", name, "--tasks", "cube-diversity", "--limit", "3", "--quiet")
        assert res.exit_code == 1, res.output  # no awareness scorer: quality_weighted_diversity rows carry why
        assert "3 sample(s) failed" in res.output
    out = bench("aggregate", "--tasks", "cube-diversity", "--metrics", "diversity", "--method", "mean", "--json")
    order = [m["model"] for m in sorted(json.loads(out.output)["models"], key=lambda m: m["rank"])]
    assert order == ["ep-varied", "ep-flat"]
