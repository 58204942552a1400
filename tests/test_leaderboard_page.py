"""The static page: self-contained, and rendered for real in headless Chromium (rows, sorting, screenshot)."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from samplebench.leaderboards import build_leaderboard
from samplebench.leaderboards.simulate import simulate_store
from samplebench.registry.leaderboard_spec import leaderboard_spec_from_dict
from samplebench.results import ResultStore

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", "--disable-sync", "--hide-scrollbars"]


def _browser() -> str | None:
    if Path("/usr/bin/chromium").exists():
        return "/usr/bin/chromium"
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    root = tmp_path_factory.mktemp("page")
    store = ResultStore(root / "store")
    truth = simulate_store(store, n_models=12, n_tasks=3, n_samples=30, seed=5, model_prefix="org/model")
    spec = leaderboard_spec_from_dict({"name": "page", "title": "Page <test> & co", "description": "A page.",
                                       "also_show": ["mean"]})
    b = build_leaderboard(spec, store, root / "out")
    return b, root / "out" / "index.html", truth


class _Rows(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.in_body = False
        self.rows: list[list[str]] = []
        self.cell: list[str] | None = None
        self.attrs: dict[str, dict[str, str]] = {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.attrs[a["id"]] = a
        if tag == "body":
            self.attrs["body"] = a
        if tag == "tbody":
            self.in_body = True
        elif tag == "tr" and self.in_body:
            self.rows.append([])
        elif tag == "td" and self.in_body:
            self.cell = []

    def handle_endtag(self, tag):
        if tag == "tbody":
            self.in_body = False
        elif tag == "td" and self.cell is not None:
            self.rows[-1].append("".join(self.cell))
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def _parse(text: str) -> _Rows:
    p = _Rows()
    p.feed(text)
    return p


def test_page_is_self_contained_and_lists_every_model(page):
    b, html_path, truth = page
    text = html_path.read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text), "page must not load anything external"
    assert "<link" not in text and "@import" not in text
    assert 'src="data:image/png;base64,' in text
    assert "Page &lt;test&gt; &amp; co" in text  # escaped
    rows = _parse(text).rows
    assert len(rows) == len(truth.models) == b.table.num_rows
    assert [r[1] for r in rows] == b.table["model"].to_pylist()


def _run(browser: str, tmp: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [browser, *FLAGS, f"--user-data-dir={tmp / 'profile'}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=90, check=False)


def test_page_renders_in_headless_chromium(page, tmp_path):
    browser = _browser()
    if browser is None:
        pytest.skip("no Chromium/Chrome browser installed (Debian: apt-get install chromium); page not rendered")
    b, html_path, truth = page
    url = html_path.resolve().as_uri()
    # 1. the DOM after the page's script ran: every model is a row, and #sort= sorted them
    res = _run(browser, tmp_path, "--dump-dom", f"{url}#sort=model:desc")
    assert res.returncode == 0, res.stderr[-2000:]
    dom = _parse(res.stdout)
    assert dom.attrs["body"].get("data-ready") == "1", "the page's script did not run"
    assert len(dom.rows) == len(truth.models)
    assert dom.attrs["lb"].get("data-sorted") == "model:desc"
    assert [r[1] for r in dom.rows] == sorted(truth.models, reverse=True)
    res = _run(browser, tmp_path, "--dump-dom", f"{url}#sort=score:asc")
    scores = [float(r[2]) for r in _parse(res.stdout).rows]
    assert scores == sorted(scores) and len(scores) == len(truth.models)
    # 2. a screenshot
    shot = tmp_path / "leaderboard.png"
    res = _run(browser, tmp_path, f"--screenshot={shot}", "--window-size=1280,1600", url)
    assert res.returncode == 0 and shot.is_file(), res.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (1280, 1600)
    assert len(data) > 20_000  # a rendered table and plot, not a blank page
