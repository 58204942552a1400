"""`bench query --verify JUDGE` against a stand-in OpenAI-compatible judge on 127.0.0.1."""

from __future__ import annotations

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_pool import ENCODER, _cards, _measurements  # noqa: E402

from samplebench.results import ResultStore  # noqa: E402


class Judge(BaseHTTPRequestHandler):
    """Says yes exactly when the sample (not the capability line) mentions sql."""

    def log_message(self, *args) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        req = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
        self.server.prompts.append(req["messages"][-1]["content"])
        sample = req["messages"][-1]["content"].split("Sample:\n", 1)[1].split("\n\nDoes this", 1)[0]
        answer = "Yes." if "sql" in sample.lower() else "No, it does not."
        body = json.dumps({"choices": [{"index": 0, "message": {"role": "assistant", "content": answer}}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def judge_url(monkeypatch):
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Judge)
    srv.prompts = []
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("OPENAI_API_KEY", "sk-local-test")
    yield srv, f"http://127.0.0.1:{srv.server_address[1]}/v1"
    srv.shutdown()
    srv.server_close()


def test_verify_keeps_what_the_judge_accepts(bench, tmp_path, judge_url):
    srv, url = judge_url
    bench("results", "import", "--format", "samples", _cards(tmp_path / "cards.jsonl"))
    _measurements(ResultStore())
    bench("pool", "index", "--embedder", ENCODER, "--no-progress")
    r = bench("query", "sql customers", "--top-k", "6", "--verify", f"openai:judge@{url}", "--json",
              "--save", "sql-verified")
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert len(out["samples"]) == 6 and len(srv.prompts) == 6
    assert "Capability: sql customers" in srv.prompts[0]
    kept = {s["sample_id"] for s in out["samples"] if s["verified"]}
    assert kept == {"sql0", "sql1", "sql2"}
    assert all(s["verified"] is False for s in out["samples"] if s["sample_id"] not in kept)
    assert out["ranking"]["models"][0]["n_samples"] == 3  # ranked on the accepted samples only
    assert any("kept 3 of 6" in n for n in out["notes"])
    from samplebench.pool import load_capability

    cap = load_capability(ResultStore(), "sql-verified")
    assert {s for _, s in cap.sample_keys()} == kept and cap.query["verify"] == f"openai:judge@{url}"


def test_verify_with_a_model_that_cannot_generate(bench, tmp_path):
    bench("results", "import", "--format", "samples", _cards(tmp_path / "cards.jsonl"))
    bench("pool", "index", "--embedder", ENCODER, "--no-progress")
    r = bench("query", "sql", "--verify", ENCODER)
    assert r.exit_code == 2 and "cannot generate text" in r.output
