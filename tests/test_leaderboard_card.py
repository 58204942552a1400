"""The dataset card is rendered by the Hub, raw HTML included: names and the title must be inert text."""

from __future__ import annotations

import re

from leaderboard_common import MINIMAL

from samplebench.leaderboards import build_leaderboard
from samplebench.leaderboards.simulate import simulate_store
from samplebench.results import ResultStore

HOSTILE = "<img src=x onerror=alert(1)>"


def test_card_escapes_html_from_model_names_title_and_description(tmp_path):
    store = ResultStore(tmp_path / "store")
    simulate_store(store, n_models=3, n_tasks=2, n_samples=10, task_coverage=1.0, seed=3, model_prefix=HOSTILE)
    spec = tmp_path / "board.yaml"
    spec.write_text(MINIMAL.replace("title: Simulated board", "title: \"<script>alert('t')</script> board\"")
                    .replace("description: Every model and task in the store.",
                             "description: \"Q&A <img src=y onerror=alert(2)> ```\\n</script>\""))
    build_leaderboard(spec, store, tmp_path / "out")
    card = (tmp_path / "out" / "README.md").read_text()
    body = card.split("\n---\n", 1)[1]  # after the YAML front matter
    # the spec's code fence is longer than any backtick run inside it, so nothing closes it early;
    # inside it the Hub shows text, not HTML
    fence = re.search(r"^(`{3,})yaml$", body, re.M).group(1)
    assert len(fence) > 3 and body.count(fence) == 2
    rendered = re.sub(re.escape(fence) + r"yaml\n.*?\n" + re.escape(fence) + r"\n", "", body, flags=re.S)
    assert "<script" not in rendered and "<img" not in rendered
    assert "&lt;img src=x onerror=alert(1)&gt;" in rendered  # the names are shown, as text
    assert "# &lt;script&gt;alert('t')&lt;/script&gt; board" in rendered
    assert "Q&amp;A &lt;img src=y onerror=alert(2)&gt;" in rendered
    # the only raw HTML left outside the fence is our own marker comment
    assert re.findall(r"<[a-zA-Z!/][^>]*>", rendered) == ["<!-- samplebench-leaderboard: sim-board -->"]


def test_every_method_is_described_in_words_not_by_its_signature():
    from samplebench.aggregators import METHODS
    from samplebench.leaderboards.card import method_words

    for name in METHODS:
        words = method_words(name)
        assert words and not words.startswith("Method(") and "Callable" not in words, (name, words)
