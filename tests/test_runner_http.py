"""OpenAI-compatible adapter against a real HTTP server on 127.0.0.1 started by the test."""

from __future__ import annotations

import hashlib
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from samplebench.registry import ModelSpec
from samplebench.results import ResultStore
from samplebench.runners import evaluate, load_model

KEY = "sk-test-secret-123456"


def _vector(text: str, dim: int = 16) -> list[float]:
    words = text.lower().split()
    v = np.zeros(dim)
    for w in words:
        v[int(hashlib.md5(w.encode()).hexdigest(), 16) % dim] += 1
    return (v / max(np.linalg.norm(v), 1e-9)).tolist()


class Handler(BaseHTTPRequestHandler):
    server_version = "fake-openai/1"

    def log_message(self, *args) -> None:  # quiet
        pass

    def _send(self, code: int, payload: dict) -> None:
        body = json.dumps(payload).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        srv = self.server
        length = int(self.headers.get("Content-Length", 0))
        req = json.loads(self.rfile.read(length))
        with srv.lock:
            srv.requests.append((self.path, req, self.headers.get("Authorization")))
            srv.in_flight += 1
            srv.max_in_flight = max(srv.max_in_flight, srv.in_flight)
            fail = srv.fail_next > 0
            if fail:
                srv.fail_next -= 1
        try:
            import time

            time.sleep(srv.delay)
            if self.headers.get("Authorization") != f"Bearer {KEY}":
                return self._send(401, {"error": {"message": "bad key"}})
            if fail:
                return self._send(503, {"error": {"message": "overloaded"}})
            if self.path == "/v1/embeddings":
                data = [{"index": i, "embedding": _vector(t)} for i, t in enumerate(req["input"])]
                return self._send(200, {"object": "list", "data": data, "model": req["model"]})
            if self.path == "/v1/chat/completions":
                prompt = req["messages"][-1]["content"]
                choices = [{"index": i, "message": {"role": "assistant", "content": f"echo {i}: {prompt[::-1]}"}}
                           for i in range(req.get("n", 1))]
                return self._send(200, {"choices": choices})
            if self.path == "/v1/completions":
                text = req["prompt"]
                tokens = text.split(" ")
                offsets, pos = [], 0
                for t in tokens:
                    offsets.append(pos)
                    pos += len(t) + 1
                logprobs = [None] + [-float(len(t)) for t in tokens[1:]]  # first token has none, as in vLLM
                return self._send(200, {"choices": [{"text": text, "logprobs": {
                    "tokens": tokens, "token_logprobs": logprobs, "text_offset": offsets}}]})
            return self._send(404, {"error": {"message": "no such route"}})
        finally:
            with srv.lock:
                srv.in_flight -= 1


@pytest.fixture
def server():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.lock = threading.Lock()
    srv.requests, srv.in_flight, srv.max_in_flight, srv.fail_next, srv.delay = [], 0, 0, 0, 0.0
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


@pytest.fixture
def key(monkeypatch):
    monkeypatch.setenv("TEST_ENDPOINT_KEY", KEY)


def _model(srv, **args):
    base = f"http://127.0.0.1:{srv.server_address[1]}/v1"
    return load_model(ModelSpec(name="fake-embedder", adapter="openai", revision="v1",
                                args={"model": "fake", "base_url": base, "api_key_env": "TEST_ENDPOINT_KEY",
                                      "backoff": 0.01, **args}))


def test_embeddings_batches_concurrency_and_key(server, key):
    server.delay = 0.05
    m = _model(server, embed_batch=4, max_concurrency=3)
    texts = [f"text number {i}" for i in range(20)]
    emb = m.encode(texts)
    assert emb.shape == (20, 16)
    np.testing.assert_allclose(emb[7], _vector(texts[7]), rtol=1e-6)
    emb_paths = [p for p, _, _ in server.requests if p == "/v1/embeddings"]
    assert len(emb_paths) == 5  # 20 texts / 4 per request
    assert 1 < server.max_in_flight <= 3
    assert all(auth == f"Bearer {KEY}" for _, _, auth in server.requests)
    assert KEY not in json.dumps(m.spec.model_dump()) and KEY not in repr(vars(m))


def test_retries_with_backoff_on_503(server, key):
    server.fail_next = 2
    m = _model(server, max_retries=3)
    assert m.encode(["hello world"]).shape == (1, 16)
    assert len(server.requests) == 3


def test_client_errors_are_not_retried_and_do_not_leak_the_key(server, monkeypatch):
    monkeypatch.setenv("TEST_ENDPOINT_KEY", "sk-wrong-key-999")
    m = _model(server, max_retries=3)
    with pytest.raises(Exception) as info:
        m.encode(["hello"])
    assert "HTTP 401" in str(info.value) and "sk-wrong-key-999" not in str(info.value)
    assert len(server.requests) == 1


def test_generate_and_loglikelihood(server, key):
    m = _model(server)
    out = m.generate(["abc", "hello"], max_new_tokens=8, n=2)
    assert out == [["echo 0: cba", "echo 1: cba"], ["echo 0: olleh", "echo 1: olleh"]]
    # context "The cat" + continuation " sat down": tokens sat, down -> -3 + -4
    assert m.loglikelihood([("The cat", " sat down"), ("A", " b")]) == [-7.0, -1.0]


def test_runner_on_endpoint_records_rows_without_the_key(server, key, home, tmp_path):
    store = ResultStore(tmp_path / "store")
    spec = ModelSpec(name="fake-embedder", adapter="openai", revision="v1",
                     args={"model": "fake", "base_url": f"http://127.0.0.1:{server.server_address[1]}/v1",
                           "api_key_env": "TEST_ENDPOINT_KEY"})
    rep = evaluate(spec, ["bundled-sts", "bundled-faq-reranking"], store=store, limit=10, progress=False)
    assert rep.exit_code == 0 and rep.model_revision == "v1"
    assert store.scan(tasks=["bundled-sts"]).num_rows == 10
    for p in store.root.rglob("*"):
        if p.is_file():
            assert KEY.encode() not in p.read_bytes(), p


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_refused_connection_gives_error_rows_and_exit_1(bench, home, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    port = _free_port()  # nothing listens there: connections are refused
    (home / "models").mkdir(parents=True)
    (home / "models" / "dead.yaml").write_text(
        f"name: dead-endpoint\nadapter: openai\nargs: {{model: fake, base_url: 'http://127.0.0.1:{port}/v1', "
        "max_retries: 3, backoff: 0.05}\n")
    res = bench("evaluate", "dead-endpoint", "--tasks", "bundled-sts,bundled-paraphrase", "--limit", "6", "--quiet")
    assert res.exit_code == 1, res.output
    assert "12 sample(s) failed" in res.output
    rows = ResultStore(home / "store").scan(columns=["value", "error"]).to_pylist()
    assert len(rows) == 12 and all(r["value"] is None and "cannot reach" in r["error"] for r in rows)
    assert all("after 4 attempts" in r["error"] for r in rows)
    assert KEY not in res.output
