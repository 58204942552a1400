"""Publishing a built leaderboard folder to a Hugging Face Hub dataset repo in one commit.

`push_folder(folder, repo, ...)`:

* the token comes from `token=`, else `HF_TOKEN` / the huggingface_hub login (`get_token()`); it
  is passed to `HfApi` and never printed, logged or written. No token, or one the Hub rejects
  (`whoami` answers 401), raises `SampleBenchError` (CLI exit 2);
* the dataset repo is created when missing (`--private` applies then); a `revision` branch that
  does not exist is created from `main`;
* an existing repo whose files are not a samplebench leaderboard of the same name (its README
  lacks the `samplebench-leaderboard: NAME` marker) is refused unless `force`;
* the remote tree is compared with the local files (git blob sha1 for regular files, sha256 for
  LFS ones): when nothing differs, no commit is made;
* otherwise everything goes in **one** `create_commit` (additions plus deletions of stale
  `samples/` files), whose summary names the spec hash and the run ids. A commit is atomic on the
  Hub, so a failure leaves the repo as it was.

Every request has a `timeout` (60 s, the Hub client's own timeout set for the push) and follows
the project's one retry policy (`samplebench._network`: dropped or timed-out connections, 408,
409, 429 and 5xx are retried with exponential backoff, at most `retries` more times and `deadline`
seconds per call). When every attempt fails, or the Hub refuses a call with another status,
`PushFailed` (CLI exit 1) says so in one line: the status and the call (method and path), never
the server's text, with anything token-like redacted.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._network import RetriesExhausted, call_with_retries, describe, is_transient, redact, status_of
from ..errors import SampleBenchError
from ..results.io import file_hash
from .card import MARKER

KEEP = {".gitattributes"}


class PushFailed(SampleBenchError):
    """The Hub could not be reached or kept failing: nothing was published (exit status 1)."""

    exit_code = 1


@dataclass
class PushResult:
    repo_id: str
    revision: str
    url: str
    committed: bool
    commit_oid: str | None
    commit_message: str
    changed: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    attempts: int = 0
    dry_run: bool = False
    created_repo: bool = False
    eval_results: dict[str, str] = field(default_factory=dict)  # model repo -> what happened
    sizes: dict[str, int] = field(default_factory=dict)  # path -> bytes, for the files to upload

    def lines(self) -> list[str]:
        if self.dry_run:
            head = f"dry run: would publish to {self.url} (revision {self.revision})"
        elif not self.committed:
            head = f"{self.url}: up to date, no commit made (revision {self.revision})"
        else:
            head = f"published {self.url} (revision {self.revision}), commit {self.commit_oid}"
        out = [head, f"  message: {self.commit_message}"]
        out += [f"  + {p}" + (f"  ({self.sizes[p]:,} bytes)" if p in self.sizes else "") for p in self.changed]
        out += [f"  - {p}" for p in self.deleted]
        if self.unchanged:
            out.append(f"  = {len(self.unchanged)} file(s) unchanged")
        out += [f"  eval results {m}: {what}" for m, what in sorted(self.eval_results.items())]
        return out


def local_files(folder: Path) -> dict[str, Path]:
    """path in repo -> local file, for every regular file under `folder` (hidden ones skipped)."""
    out: dict[str, Path] = {}
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(folder).as_posix()
        if p.is_file() and not any(part.startswith(".") for part in rel.split("/")):
            out[rel] = p
    return out


def git_blob_sha1(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()



def commit_message(spec_name: str, spec_hash: str, run_ids: list[str]) -> tuple[str, str]:
    """(summary, description): the summary names the spec hash and the run ids (first 3 + count)."""
    shown = ", ".join(run_ids[:3]) + (f" and {len(run_ids) - 3} more" if len(run_ids) > 3 else "")
    summary = f"samplebench leaderboard {spec_name}: spec {spec_hash[:12]}, runs {shown or 'none'}"
    description = f"spec sha256: {spec_hash}\nrun ids:\n" + "\n".join(f"- {r}" for r in run_ids)
    return summary, description


def _call_of(exc: BaseException) -> str:
    """`METHOD /path` of the request that failed (no query string, token-like parts redacted)."""
    from urllib.parse import urlsplit

    req = getattr(getattr(exc, "response", None), "request", None)
    if req is None:
        return "the request"
    return redact(f"{req.method} {urlsplit(str(req.url)).path}")


@contextmanager
def request_timeout(seconds: float) -> Iterator[None]:
    """Every request huggingface_hub makes inside the block times out after `seconds` (connect, read, write)."""
    import httpx2
    from huggingface_hub import set_client_factory
    from huggingface_hub.utils import _http

    previous = getattr(_http, "_GLOBAL_CLIENT_FACTORY", None) or _http.default_client_factory

    def factory():
        client = previous()
        client.timeout = httpx2.Timeout(seconds)
        return client

    set_client_factory(factory)
    try:
        yield
    finally:
        set_client_factory(previous)


def _auth_error(exc: BaseException, endpoint: str, what: str) -> SampleBenchError | None:
    code = status_of(exc)
    if code == 401:
        return SampleBenchError(f"the Hub at {endpoint} rejected the token while {what} (HTTP 401)",
                                hint="set HF_TOKEN to a valid write token or run `hf auth login`")
    if code == 403:
        return SampleBenchError(f"the token has no write access while {what} (HTTP 403)",
                                hint="use a token with write permission for that namespace")
    return None


def resolve_token(token: str | None) -> str:
    from huggingface_hub import get_token

    tok = token or get_token()
    if not tok:
        raise SampleBenchError("no Hugging Face token: set HF_TOKEN or run `hf auth login`",
                               hint="pushing creates a commit, which needs a write token")
    return tok


def check_repo_id(repo_id: str) -> None:
    """Refuse a repo id that is not ORG/NAME (before anything is built or contacted)."""
    if "/" not in repo_id or repo_id.count("/") != 1 or not all(repo_id.split("/")):
        raise SampleBenchError(f"--repo {repo_id!r}: write it as ORG/NAME (a Hub dataset repo id)")


def push_folder(
    folder: str | Path,
    repo_id: str,
    *,
    spec_name: str,
    spec_hash: str,
    run_ids: list[str],
    token: str | None = None,
    private: bool = False,
    revision: str | None = None,
    endpoint: str | None = None,
    force: bool = False,
    dry_run: bool = False,
    retries: int = 4,
    backoff: float = 1.0,
    eval_results: bool = False,
    timeout: float = 60.0,
    deadline: float | None = 600.0,
) -> PushResult:
    """Publish every file of `folder` to the dataset repo `repo_id` in one commit (see module doc).

    With `eval_results`, each ranked model whose Hub repo the token's user (or one of their
    organisations) owns also gets `.eval_results/<leaderboard>.yaml` (the Hub's eval-results
    format: one entry per task with the model's per-task mean, plus its overall score and rank),
    committed to that model repo; other models are skipped and listed.
    Every request times out after `timeout` seconds; each call is retried at most `retries` times
    and for at most `deadline` seconds (see the module docstring).
    """
    from huggingface_hub import constants
    from huggingface_hub.errors import HfHubHTTPError

    folder = Path(folder)
    files = local_files(folder)
    if "README.md" not in files:
        raise SampleBenchError(f"{folder}: no README.md; build the leaderboard first (`bench leaderboard build`)")
    check_repo_id(repo_id)
    branch = revision or "main"
    endpoint = (endpoint or constants.ENDPOINT).rstrip("/")
    url = f"{endpoint}/datasets/{repo_id}" + (f"/tree/{branch}" if branch != "main" else "")
    summary, description = commit_message(spec_name, spec_hash, run_ids)
    result = PushResult(repo_id=repo_id, revision=branch, url=url, committed=False, commit_oid=None,
                        commit_message=summary, dry_run=dry_run)
    if dry_run:
        result.changed = sorted(files)
        result.sizes = {p: f.stat().st_size for p, f in files.items()}
        return result
    if constants.HF_HUB_OFFLINE:
        raise SampleBenchError("HF_HUB_OFFLINE is set, so nothing can be pushed", hint="unset HF_HUB_OFFLINE to publish")
    tok = resolve_token(None if token is None else token)
    attempts = 0

    def call(what: str, fn, *args, **kwargs):
        """`fn(*args, **kwargs)` under the retry policy; one-line errors that never carry server text."""
        nonlocal attempts

        def once():
            nonlocal attempts
            attempts += 1
            try:
                return fn(*args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - classified below
                auth = _auth_error(exc, endpoint, what)
                if auth is not None:
                    raise auth from None
                raise

        try:
            return call_with_retries(once, retries=retries, backoff=backoff, deadline=deadline,
                                     transient=lambda e: not isinstance(e, SampleBenchError) and is_transient(e))
        except RetriesExhausted as exc:
            raise PushFailed(f"publishing to {url} failed while {what} after {exc.attempts} attempt(s): "
                             f"{_reason(exc.last)}; nothing was published",
                             hint="check the endpoint and try again") from None
        except HfHubHTTPError as exc:
            code = status_of(exc)
            if code == 404:  # missing repo / revision / file: the callers decide
                raise
            raise PushFailed(f"the Hub at {endpoint} answered HTTP {code} to {_call_of(exc)} while {what}; "
                             "nothing was published", hint="check --repo, the token and the endpoint") from None

    from huggingface_hub import HfApi
    from huggingface_hub.errors import RepositoryNotFoundError

    api = HfApi(endpoint=endpoint, token=tok)
    try:
        with request_timeout(timeout):
            result = _push(api, call, files, repo_id, branch, spec_name, summary, description, result, private,
                           force, lambda: attempts)
            if eval_results:
                _push_eval_results(api, call, folder, repo_id, branch, spec_name, result)
        return result
    except RepositoryNotFoundError:
        raise SampleBenchError(f"{repo_id}: the repo exists but this token cannot see it (private, another owner?)",
                               hint="check --repo and the token's permissions") from None


def _push(api, call, files, repo_id, branch, spec_name, summary, description, result, private, force, attempts):
    from huggingface_hub import CommitOperationAdd, CommitOperationDelete
    from huggingface_hub.errors import HfHubHTTPError, RepositoryNotFoundError, RevisionNotFoundError

    endpoint = api.endpoint
    try:
        call("checking the token", api.whoami, cache=True)
    except HfHubHTTPError as exc:
        raise SampleBenchError(f"{endpoint} answered HTTP {status_of(exc)} to the token check",
                               hint="is --endpoint a Hugging Face Hub? (default: HF_ENDPOINT or huggingface.co)") from None

    try:
        info = call("reading the repo", api.repo_info, repo_id, repo_type="dataset")
    except RepositoryNotFoundError:
        info = None
    if info is None:
        call("creating the repo", api.create_repo, repo_id, repo_type="dataset", private=private, exist_ok=True)
        result.created_repo = True
    try:
        remote = _remote_tree(call, api, repo_id, branch)
    except RevisionNotFoundError:
        call(f"creating branch {branch}", api.create_branch, repo_id, repo_type="dataset", branch=branch, exist_ok=True)
        remote = _remote_tree(call, api, repo_id, branch)

    foreign = sorted(p for p in remote if p not in KEEP)
    if foreign and not force:
        readme = _remote_readme(call, api, repo_id, branch, remote)
        if f"<!-- {MARKER}: {spec_name} -->" not in readme:
            raise SampleBenchError(
                f"{repo_id} already holds {len(foreign)} file(s) that are not the samplebench leaderboard "
                f"'{spec_name}' (e.g. {', '.join(foreign[:3])})",
                hint="choose another --repo, or pass --force to publish over it",
            )

    additions, changed, unchanged = [], [], []
    for path, local in files.items():
        r = remote.get(path)
        if r is not None and _same(local, r):
            unchanged.append(path)
            continue
        changed.append(path)
        additions.append(CommitOperationAdd(path_in_repo=path, path_or_fileobj=str(local)))
    stale = sorted(p for p in remote if p.startswith("samples/") and p not in files)
    result.changed, result.unchanged, result.deleted = changed, unchanged, stale
    if not additions and not stale:
        result.attempts = attempts()
        return result
    ops = additions + [CommitOperationDelete(path_in_repo=p) for p in stale]

    def commit():
        # Fresh operation objects per attempt: huggingface_hub refuses to reuse committed ones.
        fresh = [CommitOperationAdd(path_in_repo=o.path_in_repo, path_or_fileobj=str(files[o.path_in_repo]))
                 if isinstance(o, CommitOperationAdd) else o for o in ops]
        return api.create_commit(repo_id, fresh, commit_message=summary, commit_description=description,
                                 repo_type="dataset", revision=branch)

    info = call("uploading and committing", commit)
    result.committed, result.commit_oid, result.attempts = True, info.oid, attempts()
    return result


def eval_results_yaml(table, repo_id: str, revision: str | None, url: str, title: str) -> dict[str, str]:
    """model -> `.eval_results` YAML text for every row of a leaderboard table (Hub eval-results format)."""
    import yaml
    from huggingface_hub import EvalResultEntry, eval_result_entries_to_yaml

    n = table.num_rows
    task_cols = [c for c in table.column_names if c.startswith("task:")]
    out = {}
    for row in table.to_pylist():
        common = {"dataset_id": repo_id, "dataset_revision": revision, "source_url": url, "source_name": title}
        ci = "" if row["ci_low"] is None else f", CI [{row['ci_low']:.4g}, {row['ci_high']:.4g}]"
        entries = [EvalResultEntry(task_id="leaderboard", value=row["score"],
                                   notes=f"samplebench rank {row['rank']} of {n}{ci}; coverage {row['coverage']:.1%}",
                                   **common)]
        entries += [EvalResultEntry(task_id=c.removeprefix("task:"), value=row[c],
                                    notes="mean per-sample value over the samples measured", **common)
                    for c in task_cols if row[c] is not None]
        out[row["model"]] = yaml.safe_dump(eval_result_entries_to_yaml(entries), sort_keys=False, allow_unicode=True)
    return out


def _push_eval_results(api, call, folder: Path, repo_id: str, branch: str, spec_name: str, result: PushResult) -> None:
    import pyarrow.parquet as pq
    from huggingface_hub import CommitOperationAdd
    from huggingface_hub.errors import RepositoryNotFoundError

    me = call("checking the token", api.whoami, cache=True)
    owned = {me.get("name")} | {o.get("name") for o in me.get("orgs", [])}
    info = call("reading the repo", api.repo_info, repo_id, repo_type="dataset", revision=branch)
    title = next((ln.removeprefix("# ").strip() for ln in (folder / "README.md").read_text().splitlines()
                  if ln.startswith("# ")), spec_name)
    texts = eval_results_yaml(pq.read_table(folder / "leaderboard.parquet"), repo_id, info.sha, result.url, title)
    for model, text in texts.items():
        if "/" not in model or model.split("/")[0] not in owned:
            result.eval_results[model] = "skipped (not a model repo you own)"
            continue
        try:
            call(f"reading model repo {model}", api.repo_info, model)
        except RepositoryNotFoundError:
            result.eval_results[model] = "skipped (no such model repo)"
            continue
        op = CommitOperationAdd(path_in_repo=f".eval_results/{spec_name}.yaml", path_or_fileobj=text.encode())
        before = call(f"reading model repo {model}", api.repo_info, model).sha
        info = call(f"committing eval results to {model}", api.create_commit, model, [op],
                    commit_message=f"samplebench eval results from {repo_id}")
        result.eval_results[model] = "unchanged" if info.oid == before else f"committed {info.oid[:12]}"


def _remote_tree(call, api, repo_id: str, branch: str) -> dict[str, dict[str, Any]]:
    from huggingface_hub.hf_api import RepoFile

    entries = call("listing the repo", lambda: list(api.list_repo_tree(repo_id, repo_type="dataset", revision=branch,
                                                                        recursive=True)))
    out = {}
    for e in entries:
        if isinstance(e, RepoFile):
            out[e.path] = {"size": e.size, "blob_id": e.blob_id, "lfs_sha256": e.lfs.sha256 if e.lfs else None}
    return out


def _remote_readme(call, api, repo_id: str, branch: str, remote: dict) -> str:
    if "README.md" not in remote:
        return ""
    from huggingface_hub import hf_hub_download

    path = call("reading the repo card", hf_hub_download, repo_id, "README.md", repo_type="dataset", revision=branch,
                endpoint=api.endpoint, token=api.token)
    return Path(path).read_text(encoding="utf-8", errors="replace")


def _same(local: Path, remote: dict[str, Any]) -> bool:
    if local.stat().st_size != remote["size"]:
        return False
    if remote["lfs_sha256"]:
        return file_hash(local) == remote["lfs_sha256"]
    return git_blob_sha1(local.read_bytes()) == remote["blob_id"]


def _reason(exc: BaseException | None) -> str:
    """`HTTP 500 (POST /api/...)` or the transport failure's kind; never the server's text."""
    if exc is None:
        return "unknown error"
    code = status_of(exc)
    if code is not None:
        return f"HTTP {code} ({_call_of(exc)})"
    inner = exc.__cause__ or exc.__context__
    return redact(describe(exc) if inner is None or status_of(inner) is not None else describe(inner))


def dry_run_manifest(folder: Path) -> list[dict[str, Any]]:
    """Files and sizes a push would upload (for `--dry-run --json`)."""
    return [{"path": p, "bytes": f.stat().st_size} for p, f in local_files(folder).items()]





def push_leaderboard(
    spec,
    repo_id: str,
    store=None,
    *,
    out: str | Path | None = None,
    registry=None,
    token: str | None = None,
    private: bool = False,
    revision: str | None = None,
    endpoint: str | None = None,
    force: bool = False,
    dry_run: bool = False,
    retries: int = 4,
    backoff: float = 1.0,
    eval_results: bool = False,
    progress=None,
    timeout: float = 60.0,
    deadline: float | None = 600.0,
):
    """Build `spec` from `store` (into `out`, else a temporary folder) and publish it with `push_folder`.

    Returns `(build, PushResult)`.
    """
    import tempfile

    from .build import build_leaderboard

    check_repo_id(repo_id)
    with tempfile.TemporaryDirectory(prefix="samplebench-lb-") as tmp:
        folder = Path(out) if out is not None else Path(tmp)
        build = build_leaderboard(spec, store, folder, registry=registry, progress=progress)
        result = push_folder(folder, repo_id, spec_name=build.spec.name, spec_hash=build.spec_hash,
                             run_ids=build.run_ids, token=token, private=private, revision=revision,
                             endpoint=endpoint, force=force, dry_run=dry_run, retries=retries, backoff=backoff,
                             eval_results=eval_results, timeout=timeout, deadline=deadline)
    return build, result
