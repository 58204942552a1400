"""A vision-language judge behind an OpenAI-compatible chat endpoint as the awareness scorer
(`scorer: judge:<model>@<base url>`), against a local HTTP server on 127.0.0.1."""

from __future__ import annotations

import base64
import io
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
from test_cube import images_model, solid  # tests/ is on sys.path

from samplebench.registry import TaskRegistry
from samplebench.runners.adapters.judge import JudgeScorer
from samplebench.tasks import evaluator_for


class Judge(BaseHTTPRequestHandler):
    """Rates an image 5 when it is mostly red, else 2; can fail the first requests or talk nonsense."""

    state: dict = {}

    def log_message(self, *args):  # keep test output quiet
        pass

    def do_POST(self):
        st = self.state
        st["n"] = st.get("n", 0) + 1
        st.setdefault("auth", []).append(self.headers.get("Authorization"))
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.path != "/v1/chat/completions" or st.get("fail", 0) > 0:
            st["fail"] = st.get("fail", 0) - 1
            self.send_response(503 if self.path == "/v1/chat/completions" else 404)
            self.end_headers()
            return
        text, image = body["messages"][0]["content"]
        st.setdefault("texts", []).append(text["text"])
        assert body["model"] == "tiny-vlm" and image["type"] == "image_url"
        from PIL import Image

        png = base64.b64decode(image["image_url"]["url"].split(",", 1)[1])
        rgb = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=float).mean(axis=(0, 1))
        answer = st.get("answer") or ("5" if rgb[0] > rgb[1] + rgb[2] else "I would say 2 out of 5.")
        out = json.dumps({"choices": [{"message": {"role": "assistant", "content": answer}}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)


@pytest.fixture
def judge_server():
    Judge.state = {}
    server = ThreadingHTTPServer(("127.0.0.1", 0), Judge)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1", Judge.state
    server.shutdown()
    server.server_close()


def _folder(tmp_path, colours: dict[str, tuple[int, int, int]], k: int = 4):
    from PIL import Image

    for pid, rgb in colours.items():
        (tmp_path / pid).mkdir(parents=True)
        for j in range(k):
            Image.fromarray(solid(rgb)).save(tmp_path / pid / f"{j}.png")
    return images_model(tmp_path, "g")


def test_judge_scores_awareness_through_the_evaluator(judge_server, tmp_path, monkeypatch):
    base, state = judge_server
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-secret")
    monkeypatch.setenv("SAMPLEBENCH_T2I_SCORER", f"judge:tiny-vlm@{base}")
    ev = evaluator_for(TaskRegistry().get("cube-1k"))  # scorer: auto -> the environment's judge
    data = ev.load()
    a, b = data.ids[:2]
    model = _folder(tmp_path, {a: (220, 20, 20), b: (20, 20, 220)})
    rows = {r.sample_id: r for r in ev.evaluate(model, data, [a, b])}
    assert rows[a].value == pytest.approx(1.0) and rows[b].value == pytest.approx(0.25)
    assert state["n"] == 8 and set(state["auth"]) == {"Bearer sk-test-secret"}
    assert sum(data.prompts[0] in t for t in state["texts"]) == 4  # the question quotes the prompt
    assert all("sk-test" not in (r.prediction or "") + (r.error or "") for r in rows.values())


def test_judge_retries_then_succeeds(judge_server, tmp_path):
    base, state = judge_server
    state["fail"] = 2  # two 503s, then answers
    j = JudgeScorer("tiny-vlm", base, retries=3, backoff=0.01, concurrency=1)
    assert j.score_images(["p"], [[solid((250, 0, 0))]]) == [[1.0]]
    assert state["n"] == 3


def test_judge_failures_become_error_strings(judge_server):
    base, state = judge_server
    state["answer"] = "no idea"
    j = JudgeScorer("tiny-vlm", base, retries=0, backoff=0.01)
    assert "no 1-5 rating" in j.score_images(["p"], [[solid((1, 2, 3))]])[0][0]
    state["answer"] = None
    assert "HTTP 404" in JudgeScorer("tiny-vlm", base + "/wrong", retries=0).score_images(["p"], [[solid((1, 2, 3))]])[0][0]
    dead = JudgeScorer("tiny-vlm", "http://127.0.0.1:9/v1", retries=1, backoff=0.01, timeout=2)
    assert "unreachable" in dead.score_images(["p"], [[solid((1, 2, 3))]])[0][0]


def test_judge_error_rows_in_the_evaluator(judge_server, tmp_path, monkeypatch):
    base, state = judge_server
    state["answer"] = "cannot tell"
    monkeypatch.setenv("SAMPLEBENCH_T2I_SCORER", f"judge:tiny-vlm@{base}")
    ev = evaluator_for(TaskRegistry().get("cube-1k"))
    data = ev.load()
    row = next(iter(ev.evaluate(_folder(tmp_path, {data.ids[0]: (5, 5, 5)}), data, [data.ids[0]])))
    assert row.value is None and "no 1-5 rating" in row.error
