"""`bench leaderboard push` against a local Hub-compatible server (tests/hub_server.py) on 127.0.0.1.

huggingface_hub runs for real (create_repo, preupload, LFS batch + upload, NDJSON commit, tree
listing, snapshot_download); the round trip ends in `datasets.load_dataset` on the download.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest
from hub_server import HubServer
from leaderboard_common import MINIMAL

from samplebench.errors import SampleBenchError
from samplebench.leaderboards import build_leaderboard
from samplebench.leaderboards.publish import PushFailed, push_folder
from samplebench.leaderboards.simulate import simulate_store
from samplebench.results import ResultStore

TOKEN = "hf_test_token_alice"


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    s = ResultStore(tmp_path_factory.mktemp("pushstore") / "store")
    simulate_store(s, n_models=6, n_tasks=3, n_samples=40, seed=11)
    return s


@pytest.fixture(scope="module")
def prebuilt(store, tmp_path_factory):
    """One build shared by the library-level tests (push_folder)."""
    root = tmp_path_factory.mktemp("prebuilt")
    (root / "board.yaml").write_text(MINIMAL)
    b = build_leaderboard(root / "board.yaml", store, root / "out")
    kw = {"spec_name": b.spec.name, "spec_hash": b.spec_hash, "run_ids": b.run_ids}
    return root / "out", kw


@pytest.fixture
def hub(monkeypatch, tmp_path):
    """A running server, the Hub client pointed at it, online, without Xet, with a private HF_HOME."""
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path / "hf_home" / "token"))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf_home"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    with HubServer({TOKEN: "alice"}) as server:
        yield server


@pytest.fixture
def spec(tmp_path):
    p = tmp_path / "board.yaml"
    p.write_text(MINIMAL)
    return p


def _push(bench, spec, store, hub, *extra):
    return bench("leaderboard", "push", spec, "--repo", "alice/board", "--store", store.root,
                 "--endpoint", hub.url, *extra)


def _local(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and not p.relative_to(folder).as_posix().startswith(".")}


def test_round_trip_build_push_download_load(bench, spec, store, hub, tmp_path):
    datasets = pytest.importorskip("datasets")
    from huggingface_hub import snapshot_download

    out = tmp_path / "build"
    r = _push(bench, spec, store, hub, "--out", out)
    assert r.exit_code == 0, r.output
    assert "published" in r.output and TOKEN not in r.output
    repo = hub.state.repo("alice/board")
    assert len(repo.history("main")) == 2  # the repo's initial commit + exactly one commit
    head = repo.resolve("main")
    b = build_leaderboard(spec, store, tmp_path / "again")
    assert b.spec_hash[:12] in head.title and b.run_ids[0] in head.title
    assert b.spec_hash in head.message and all(r in head.message for r in b.run_ids)
    # parquet and png travelled as LFS objects, text as regular blobs
    assert head.tree["leaderboard.parquet"].lfs_sha256 and head.tree["ranking.png"].lfs_sha256
    assert head.tree["README.md"].lfs_sha256 is None

    down = Path(snapshot_download("alice/board", repo_type="dataset", endpoint=hub.url, token=TOKEN,
                                  local_dir=tmp_path / "download"))
    local, remote = _local(out), _local(down)
    remote.pop(".gitattributes", None)
    assert remote == local  # byte for byte
    cache = str(tmp_path / "datasets-cache")
    lb = datasets.load_dataset(str(down), "leaderboard", split="train", cache_dir=cache)
    want = pq.read_table(out / "leaderboard.parquet")
    assert lb.num_rows == want.num_rows
    assert lb.data.table.select(want.column_names).equals(want)
    samples = datasets.load_dataset(str(down), "samples", split="train", cache_dir=cache)
    assert samples.num_rows == sum(pq.read_metadata(p).num_rows for p in (out / "samples").glob("*.parquet"))

    # a second push of the same build changes nothing and makes no commit
    r = _push(bench, spec, store, hub)
    assert r.exit_code == 0, r.output
    assert "up to date, no commit" in r.output
    assert len(repo.history("main")) == 2


def test_changed_selection_updates_in_one_commit_and_drops_stale_samples(bench, spec, store, hub):
    assert _push(bench, spec, store, hub).exit_code == 0
    spec.write_text(MINIMAL.replace("{tasks: all}", "{tasks: [task-000, task-001]}"))
    r = _push(bench, spec, store, hub)
    assert r.exit_code == 0, r.output
    files = hub.state.files("alice/board")
    assert "samples/task-002.parquet" not in files and "samples/task-000.parquet" in files
    assert hub.state.commit_count("alice/board") == 3
    assert "- samples/task-002.parquet" in r.output


def test_token_problems_exit_2(bench, spec, store, hub, monkeypatch, tmp_path):
    monkeypatch.setenv("HF_TOKEN", "hf_wrong_token_123")
    r = _push(bench, spec, store, hub)
    assert r.exit_code == 2
    assert "rejected the token" in r.output and "hf_wrong_token_123" not in r.output
    monkeypatch.delenv("HF_TOKEN")
    r = _push(bench, spec, store, hub)
    assert r.exit_code == 2 and "no Hugging Face token" in r.output
    assert ("alice/board" not in {rid for _, rid in hub.state.repos})
    # the huggingface_hub login file works too
    token_file = tmp_path / "hf_home" / "token"
    token_file.parent.mkdir(parents=True, exist_ok=True)
    token_file.write_text(TOKEN)
    r = _push(bench, spec, store, hub)
    assert r.exit_code == 0, r.output


def test_token_is_never_printed_or_written(bench, spec, store, hub, tmp_path):
    r = _push(bench, spec, store, hub, "--out", tmp_path / "kept", "--json")
    assert r.exit_code == 0, r.output
    assert TOKEN not in r.output
    for p in (tmp_path / "kept").rglob("*"):
        if p.is_file():
            assert TOKEN.encode() not in p.read_bytes(), p
    assert all(TOKEN.encode() not in b for b in hub.state.files("alice/board").values())


def test_unrelated_repo_is_refused_unless_forced(bench, spec, store, hub):
    hub.state.add_repo("alice/board", files={"README.md": b"# My dataset\n", "data.csv": b"a,b\n1,2\n"})
    before = hub.state.files("alice/board")
    r = _push(bench, spec, store, hub)
    assert r.exit_code == 2
    assert "not the samplebench leaderboard" in r.output and "--force" in r.output
    assert hub.state.files("alice/board") == before
    r = _push(bench, spec, store, hub, "--force")
    assert r.exit_code == 0, r.output
    after = hub.state.files("alice/board")
    assert after["data.csv"] == before["data.csv"] and "leaderboard.parquet" in after
    assert hub.state.commit_count("alice/board") == 2


def test_private_revision_and_dry_run(bench, spec, store, hub):
    r = _push(bench, spec, store, hub, "--dry-run")
    assert r.exit_code == 0, r.output
    assert "dry run" in r.output and "leaderboard.parquet" in r.output and "bytes)" in r.output
    assert hub.state.log == [] and hub.state.repos == {}  # nobody was contacted
    r = _push(bench, spec, store, hub, "--private", "--revision", "dev")
    assert r.exit_code == 0, r.output
    repo = hub.state.repo("alice/board")
    assert repo.private
    assert "leaderboard.parquet" in hub.state.files("alice/board", rev="dev")
    assert set(hub.state.files("alice/board", rev="main")) == {".gitattributes"}
    from huggingface_hub import HfApi
    from huggingface_hub.errors import RepositoryNotFoundError

    with pytest.raises(RepositoryNotFoundError):
        HfApi(endpoint=hub.url, token=False).repo_info("alice/board", repo_type="dataset")


def test_server_errors_and_dropped_connections_are_retried(prebuilt, hub):
    out, kw = prebuilt
    hub.state.inject(r"POST /api/datasets/alice/board/commit/", times=2)  # HTTP 500 twice
    hub.state.inject(r"PUT /lfs-upload/", times=1, kind="drop")  # one LFS upload loses its connection
    hub.state.inject(r"GET /api/datasets/alice/board/tree/", times=1, kind="drop")
    res = push_folder(out, "alice/board", **kw, endpoint=hub.url, backoff=0.01)
    assert res.committed
    assert hub.state.commit_count("alice/board") == 2
    assert hub.state.files("alice/board")["leaderboard.parquet"] == (out / "leaderboard.parquet").read_bytes()
    statuses = [s for m, p, s in hub.state.log if "/commit/" in p]
    assert statuses == [500, 500, 200]
    assert any(s == 0 for m, p, s in hub.state.log if m == "PUT")


def test_final_failure_exits_1_and_publishes_nothing(bench, spec, store, hub, prebuilt):
    assert _push(bench, spec, store, hub).exit_code == 0
    before = hub.state.files("alice/board")
    spec.write_text(MINIMAL.replace("[mean, borda]", "[mean]"))  # a different build
    hub.state.inject(r"POST /api/datasets/alice/board/commit/", times=100)
    r = _push(bench, spec, store, hub, "--retries", "1")
    assert r.exit_code == 1
    assert "HTTP 500" in r.output and "nothing was published" in r.output and "2 attempt(s)" in r.output
    assert hub.state.files("alice/board") == before
    assert hub.state.commit_count("alice/board") == 2
    # a dropped connection on every try ends the same way
    hub.state.faults.clear()
    hub.state.inject(r"POST /api/datasets/alice/fresh/commit/", times=100, kind="drop")
    out, kw = prebuilt
    with pytest.raises(PushFailed, match="nothing was published"):
        push_folder(out, "alice/fresh", **kw, endpoint=hub.url, retries=2, backoff=0.01)
    assert set(hub.state.files("alice/fresh")) == {".gitattributes"}  # created, but no leaderboard in it
    assert [s for m, p, s in hub.state.log if "/fresh/commit/" in p] == [0, 0, 0]


def test_bad_repo_id_and_offline_mode(prebuilt, hub, monkeypatch):
    out, kw = prebuilt
    kw = {**kw, "endpoint": hub.url}
    with pytest.raises(SampleBenchError, match="ORG/NAME"):
        push_folder(out, "no-namespace", **kw)
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(SampleBenchError, match="HF_HUB_OFFLINE"):
        push_folder(out, "alice/board", **kw)


def test_eval_results_go_to_the_model_repos_you_own(bench, spec, hub, tmp_path):
    import yaml
    from huggingface_hub import parse_eval_result_entries

    store = ResultStore(tmp_path / "owned")
    truth = simulate_store(store, n_models=4, n_tasks=2, n_samples=20, task_coverage=1.0, seed=2,
                           model_prefix="alice/model")
    mine = truth.models[:2]
    for m in mine:
        hub.state.add_repo(m, "model")
    r = _push(bench, spec, store, hub, "--eval-results", "--out", tmp_path / "b")
    assert r.exit_code == 0, r.output
    table = pq.read_table(tmp_path / "b" / "leaderboard.parquet").to_pylist()
    rows = {row["model"]: row for row in table}
    for m in mine:
        files = hub.state.files(m, "model")
        entries = parse_eval_result_entries(yaml.safe_load(files[".eval_results/sim-board.yaml"]))
        by_task = {e.task_id: e for e in entries}
        assert by_task["leaderboard"].value == pytest.approx(rows[m]["score"])
        assert by_task["leaderboard"].dataset_id == "alice/board"
        assert by_task["leaderboard"].dataset_revision == hub.state.repo("alice/board").branches["main"]
        for task in truth.tasks:
            assert by_task[task].value == pytest.approx(rows[m][f"task:{task}"])
        assert f"eval results {m}: committed" in r.output
    for m in truth.models[2:]:
        assert f"eval results {m}: skipped (no such model repo)" in r.output
    r = _push(bench, spec, store, hub, "--eval-results")
    assert r.exit_code == 0 and f"eval results {mine[0]}: unchanged" in r.output
    assert hub.state.commit_count(mine[0], "model") == 2


def test_other_client_errors_are_one_line_without_the_servers_text(bench, spec, store, hub):
    """A 4xx other than 401/403/404 from a server that echoes the Authorization header: one line
    with the status and the call, exit 1, no traceback, no token, no server text."""
    hub.state.inject(r"POST /api/repos/create", times=5, kind="echo:422")
    r = _push(bench, spec, store, hub)
    assert r.exit_code == 1, r.output
    assert TOKEN not in r.output and "Bearer" not in r.output and "refused" not in r.output
    assert "Traceback" not in r.output and "cannot accept" not in r.output
    assert "HTTP 422" in r.output and "POST /api/repos/create" in r.output and "creating the repo" in r.output
    assert "nothing was published" in r.output
    assert sum(1 for m, p, s in hub.state.log if p.startswith("/api/repos/create")) == 1  # a 4xx is not retried
    errors = [ln for ln in r.output.splitlines() if ln.lower().startswith("error:")]
    assert len(errors) == 1 and "HTTP 422" in errors[0]
    # a retried server error that echoes the token ends the same way: status and call only
    hub.state.faults.clear()
    hub.state.inject(r"POST /api/repos/create", times=10, kind="echo:503")
    r = _push(bench, spec, store, hub, "--retries", "1")
    assert r.exit_code == 1 and "HTTP 503" in r.output and "2 attempt(s)" in r.output
    assert TOKEN not in r.output and "refused" not in r.output


def test_a_server_that_never_answers_times_out(prebuilt, hub):
    """The connection is accepted and no answer ever comes: each try times out, the retries are
    bounded, and the push fails in seconds instead of waiting forever."""
    import time

    out, kw = prebuilt
    hub.state.inject(r"GET /api/whoami", times=100, kind="hang")
    t0 = time.monotonic()
    with pytest.raises(PushFailed, match="nothing was published") as info:
        push_folder(out, "alice/board", **kw, endpoint=hub.url, retries=2, backoff=0.01, timeout=1.0)
    assert time.monotonic() - t0 < 20
    assert "3 attempt(s)" in str(info.value) and "checking the token" in str(info.value)
    assert "alice/board" not in {rid for _, rid in hub.state.repos}
    # the deadline bounds the retries in time whatever their number
    t0 = time.monotonic()
    with pytest.raises(PushFailed):
        push_folder(out, "alice/board", **kw, endpoint=hub.url, retries=50, backoff=0.01, timeout=0.5, deadline=2.0)
    assert time.monotonic() - t0 < 10


def test_cli_refuses_a_bad_repo_id_before_building(bench, spec, store, tmp_path):
    out = tmp_path / "never-built"
    r = bench("leaderboard", "push", spec, "--repo", "no-namespace", "--store", store.root, "--out", out, "--dry-run")
    assert r.exit_code == 2 and "ORG/NAME" in r.output
    assert not out.exists()


def test_cli_timeout_and_deadline_bound_a_hanging_hub(bench, spec, store, hub):
    import time

    hub.state.inject(r"GET /api/whoami", times=100, kind="hang")
    t0 = time.monotonic()
    r = _push(bench, spec, store, hub, "--timeout", "0.5", "--deadline", "2", "--retries", "20")
    assert r.exit_code == 1 and "nothing was published" in r.output
    assert time.monotonic() - t0 < 15
    r = _push(bench, spec, store, hub, "--timeout", "0")
    assert r.exit_code == 2 and "--timeout" in r.output
