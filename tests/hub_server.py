"""A local, in-memory, Hugging Face Hub-compatible HTTP server for tests (127.0.0.1 only).

It implements the endpoints `huggingface_hub` 2.x calls for publishing and downloading, with the
request and response shapes the client parses (see `huggingface_hub/hf_api.py`, `_commit_api.py`,
`lfs.py`, `file_download.py`):

    GET  /api/whoami-v2                                   token check
    POST /api/repos/create                                create_repo (409 when it exists)
    POST /api/validate-yaml                               README front matter check
    GET  /api/{type}s/{ns}/{name}[/revision/{rev}]        repo_info (sha, siblings, private)
    POST /api/{type}s/{ns}/{name}/preupload/{rev}         upload mode + remote oid per file
    POST /api/{type}s/{ns}/{name}/commit/{rev}            NDJSON commit: file / lfsFile / deleted*
    GET  /api/{type}s/{ns}/{name}/tree/{rev}[/{path}]     list_repo_tree (recursive or not)
    POST /api/{type}s/{ns}/{name}/paths-info/{rev}        get_paths_info
    GET  /api/{type}s/{ns}/{name}/commits/{rev}           list_repo_commits
    GET  /api/{type}s/{ns}/{name}/refs                    list_repo_refs
    POST /api/{type}s/{ns}/{name}/branch/{branch}         create_branch
    POST /{prefix}{ns}/{name}.git/info/lfs/objects/batch  LFS batch API (basic transfer)
    PUT  /lfs-upload/{type}/{ns}/{name}/{oid}             LFS object upload (sha256 + size checked)
    HEAD|GET /{prefix}{ns}/{name}/resolve/{rev}/{path}    hf_hub_download / snapshot_download

A commit applies all of its operations or none (as the Hub does), so a failed push leaves the
repository exactly as it was. Faults can be injected: `hub.inject("POST .*/commit/", times=2)`
answers the next two matching requests with HTTP 500, `kind="drop"` closes the connection without
an answer. Every request is logged in `hub.log` as `(method, path, status)`.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

import yaml

LFS_EXTENSIONS = (".parquet", ".png", ".arrow", ".bin", ".safetensors", ".jpg", ".zip", ".gz")
LFS_MIN_SIZE = 10 * 1024 * 1024
TYPE_PREFIX = {"model": "", "dataset": "datasets/", "space": "spaces/"}


def git_blob_sha1(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def lfs_pointer(sha256: str, size: int) -> bytes:
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n".encode()


@dataclass(frozen=True)
class Blob:
    size: int
    oid: str  # git blob sha1 of the content (regular) or of the pointer (LFS)
    data: bytes | None = None  # regular files
    lfs_sha256: str | None = None  # LFS files: the object lives in Repo.lfs

    @classmethod
    def regular(cls, data: bytes) -> Blob:
        return cls(size=len(data), oid=git_blob_sha1(data), data=data)

    @classmethod
    def lfs(cls, sha256: str, size: int) -> Blob:
        return cls(size=size, oid=git_blob_sha1(lfs_pointer(sha256, size)), lfs_sha256=sha256)

    @property
    def remote_oid(self) -> str:
        """What preupload reports: sha256 for LFS files, git sha1 for regular ones."""
        return self.lfs_sha256 or self.oid


@dataclass
class Commit:
    sha: str
    parent: str | None
    tree: dict[str, Blob]
    title: str
    message: str
    date: str


@dataclass
class Repo:
    type: str
    id: str
    private: bool
    created: str
    commits: dict[str, Commit] = field(default_factory=dict)
    branches: dict[str, str] = field(default_factory=dict)
    lfs: dict[str, bytes] = field(default_factory=dict)

    def resolve(self, rev: str) -> Commit | None:
        sha = self.branches.get(rev, rev)
        return self.commits.get(sha)

    def history(self, rev: str) -> list[Commit]:
        out, c = [], self.resolve(rev)
        while c is not None:
            out.append(c)
            c = self.commits.get(c.parent) if c.parent else None
        return out

    def read(self, blob: Blob) -> bytes:
        return blob.data if blob.data is not None else self.lfs[blob.lfs_sha256]


class HttpError(Exception):
    def __init__(self, status: int, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.code = status, message, code


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class HubState:
    """Repositories, tokens, injected faults and the request log, shared by handler threads."""

    def __init__(self, tokens: dict[str, str]) -> None:
        self.tokens = dict(tokens)  # token -> user name
        self.orgs: dict[str, set[str]] = {}  # user -> organisations they can write to
        self.repos: dict[tuple[str, str], Repo] = {}
        self.faults: list[list] = []  # [compiled pattern, remaining, kind]
        self.log: list[tuple[str, str, int]] = []
        self.lock = threading.RLock()
        self.stopping = threading.Event()  # releases requests held by "hang" faults

    # -- test helpers -----------------------------------------------------------------------
    def inject(self, pattern: str, *, times: int = 1, kind: str = "500") -> None:
        """Fail the next `times` requests whose `METHOD path` matches `pattern`.

        `kind`: a status (`"500"`), `"drop"` (close the connection without an answer), `"hang"`
        (accept the request and never answer, until the server stops) or `"echo:<status>"` (answer
        that status with the request's Authorization header in the body and the error headers, as
        a careless server would)."""
        with self.lock:
            self.faults.append([re.compile(pattern), times, kind])

    def take_fault(self, line: str) -> str | None:
        with self.lock:
            for f in self.faults:
                if f[1] > 0 and f[0].search(line):
                    f[1] -= 1
                    return f[2]
        return None

    def repo(self, repo_id: str, repo_type: str = "dataset") -> Repo:
        return self.repos[(repo_type, repo_id)]

    def files(self, repo_id: str, repo_type: str = "dataset", rev: str = "main") -> dict[str, bytes]:
        """path -> content at `rev` (for assertions)."""
        with self.lock:
            r = self.repo(repo_id, repo_type)
            c = r.resolve(rev)
            return {p: r.read(b) for p, b in sorted(c.tree.items())} if c else {}

    def commit_count(self, repo_id: str, repo_type: str = "dataset", rev: str = "main") -> int:
        with self.lock:
            return len(self.repo(repo_id, repo_type).history(rev))

    def add_repo(self, repo_id: str, repo_type: str = "dataset", *, private: bool = False,
                 files: dict[str, bytes] | None = None) -> Repo:
        """Create a repo directly (e.g. one with unrelated content), with an initial commit."""
        with self.lock:
            repo = Repo(type=repo_type, id=repo_id, private=private, created=_now())
            self.repos[(repo_type, repo_id)] = repo
            tree = {".gitattributes": Blob.regular(b"*.parquet filter=lfs diff=lfs merge=lfs -text\n")}
            for p, data in (files or {}).items():
                tree[p] = Blob.regular(data)
            self._new_commit(repo, None, tree, "initial commit", "", "main")
            return repo

    # -- internals ----------------------------------------------------------------------------
    def _new_commit(self, repo: Repo, parent: str | None, tree: dict[str, Blob], title: str,
                    message: str, branch: str) -> Commit:
        h = hashlib.sha1()
        h.update((parent or "").encode())
        for p, b in sorted(tree.items()):
            h.update(f"{p}\0{b.oid}\n".encode())
        h.update(f"{title}\0{message}\0{len(repo.commits)}".encode())
        c = Commit(sha=h.hexdigest(), parent=parent, tree=tree, title=title, message=message, date=_now())
        repo.commits[c.sha] = c
        repo.branches[branch] = c.sha
        return c


class HubHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: HubServer

    def log_message(self, format, *args) -> None:  # noqa: A002 - silence the default stderr log
        return

    # -- plumbing -----------------------------------------------------------------------------
    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().strip().split(b";")[0], 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None,
              content_type: str = "application/json", head: bool = False) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if not head:
            self.wfile.write(body)
        st = self.server.state
        with st.lock:
            st.log.append((self.command, self.path, status))

    def _json(self, status: int, data, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(data).encode(), headers)

    def _user(self) -> str | None:
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            return None
        token = auth.removeprefix("Bearer ").strip()
        user = self.server.state.tokens.get(token)
        if user is None:
            raise HttpError(401, "Invalid credentials in Authorization header")
        return user

    def _can_write(self, user: str | None, namespace: str) -> None:
        if user is None:
            raise HttpError(401, "You must be authenticated to write", None)
        if namespace != user and namespace not in self.server.state.orgs.get(user, set()):
            raise HttpError(403, f"You don't have the rights to write to {namespace}")

    def _repo(self, repo_type: str, repo_id: str, user: str | None) -> Repo:
        repo = self.server.state.repos.get((repo_type, repo_id))
        if repo is None or (repo.private and user != repo_id.split("/")[0]
                            and repo_id.split("/")[0] not in self.server.state.orgs.get(user or "", set())):
            raise HttpError(404, "Repository not found", "RepoNotFound")
        return repo

    def _commit(self, repo: Repo, rev: str) -> Commit:
        c = repo.resolve(rev)
        if c is None:
            raise HttpError(404, f"Invalid rev id: {rev}", "RevisionNotFound")
        return c

    def _dispatch(self) -> None:
        st = self.server.state
        fault = st.take_fault(f"{self.command} {self.path}")
        if fault is not None:
            self._body()
            if fault in ("drop", "hang"):
                if fault == "hang":
                    st.stopping.wait(timeout=120)  # bounded: the server's shutdown releases it sooner
                self.close_connection = True
                with st.lock:
                    st.log.append((self.command, self.path, 0))
                return
            if fault.startswith("echo:"):
                auth = self.headers.get("Authorization", "")
                self._json(int(fault[5:]), {"error": f"cannot accept this request from {auth}"},
                           {"X-Error-Message": f"refused: {auth}"})
                return
            self._json(int(fault), {"error": "injected failure"}, {"X-Error-Message": "injected failure"})
            return
        try:
            with st.lock:
                self._route()
        except HttpError as e:
            headers = {"X-Error-Message": e.message}
            if e.code:
                headers["X-Error-Code"] = e.code
            self._json(e.status, {"error": e.message}, headers)

    do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = _dispatch  # noqa: N815 - http.server's names

    # -- routing --------------------------------------------------------------------------------
    def _route(self) -> None:
        url = urlsplit(self.path)
        seg = [unquote(s) for s in url.path.split("/")[1:]]
        query = parse_qs(url.query)
        m = self.command
        if seg[:2] == ["api", "whoami-v2"]:
            return self._whoami()
        if seg[:3] == ["api", "repos", "create"] and m == "POST":
            return self._create_repo()
        if seg[:2] == ["api", "validate-yaml"] and m == "POST":
            return self._validate_yaml()
        if seg[0] == "api" and len(seg) >= 4 and seg[1] in ("models", "datasets", "spaces"):
            rtype, rid, rest = seg[1][:-1], f"{seg[2]}/{seg[3]}", seg[4:]
            return self._api_repo(rtype, rid, rest, query)
        if seg[0] == "lfs-upload" and m == "PUT":
            return self._lfs_upload(seg[1], f"{seg[2]}/{seg[3]}", seg[4])
        rtype = "model"
        if seg[0] in ("datasets", "spaces"):
            rtype, seg = seg[0][:-1], seg[1:]
        if len(seg) >= 5 and seg[1].endswith(".git") and seg[2:5] == ["info", "lfs", "objects"]:
            return self._lfs_batch(rtype, f"{seg[0]}/{seg[1][:-4]}")
        if len(seg) >= 5 and seg[2] == "resolve":
            return self._resolve(rtype, f"{seg[0]}/{seg[1]}", seg[3], "/".join(seg[4:]))
        raise HttpError(404, f"no route for {m} {url.path}")

    def _api_repo(self, rtype: str, rid: str, rest: list[str], query: dict) -> None:
        user, m = self._user(), self.command
        if not rest or (rest[0] == "revision" and m == "GET"):
            repo = self._repo(rtype, rid, user)
            return self._repo_info(repo, rest[1] if rest else "main")
        repo = self._repo(rtype, rid, user)
        op = rest[0]
        if op == "preupload" and m == "POST":
            return self._preupload(repo, rest[1])
        if op == "commit" and m == "POST":
            self._can_write(user, rid.split("/")[0])
            return self._commit_ndjson(repo, rest[1])
        if op == "tree" and m == "GET":
            recursive = query.get("recursive", ["False"])[0].lower() in ("true", "1")
            return self._tree(repo, rest[1], "/".join(rest[2:]), recursive)
        if op == "paths-info" and m == "POST":
            return self._paths_info(repo, rest[1])
        if op == "commits" and m == "GET":
            return self._commits(repo, rest[1])
        if op == "refs" and m == "GET":
            branches = [{"name": b, "ref": f"refs/heads/{b}", "targetCommit": s} for b, s in sorted(repo.branches.items())]
            return self._json(200, {"branches": branches, "converts": [], "tags": []})
        if op == "branch" and m == "POST":
            self._can_write(user, rid.split("/")[0])
            return self._create_branch(repo, "/".join(rest[1:]))
        raise HttpError(404, f"no route for {m} /api/{rtype}s/{rid}/{'/'.join(rest)}")

    # -- endpoints ---------------------------------------------------------------------------
    def _whoami(self) -> None:
        user = self._user()
        if user is None:
            raise HttpError(401, "Unauthorized")
        orgs = [{"name": o, "type": "org"} for o in sorted(self.server.state.orgs.get(user, set()))]
        self._json(200, {"type": "user", "id": user, "name": user, "fullname": user, "orgs": orgs,
                         "auth": {"type": "access_token", "accessToken": {"displayName": "test", "role": "write"}}})

    def _create_repo(self) -> None:
        user = self._user()
        payload = json.loads(self._body() or b"{}")
        ns = payload.get("organization") or user
        name = payload.get("name")
        rtype = payload.get("type") or "model"
        self._can_write(user, ns or "")
        rid = f"{ns}/{name}"
        st = self.server.state
        if (rtype, rid) in st.repos:
            raise HttpError(409, "You already created this repo")
        private = payload.get("visibility") == "private" or bool(payload.get("private"))
        st.add_repo(rid, rtype, private=private)
        self._json(200, {"url": f"{self.server.url}/{TYPE_PREFIX[rtype]}{rid}", "name": rid, "id": rid})

    def _validate_yaml(self) -> None:
        payload = json.loads(self._body() or b"{}")
        content = payload.get("content", "")
        errors = []
        if content.startswith("---"):
            parts = content.split("\n---", 1)
            try:
                meta = yaml.safe_load(parts[0].removeprefix("---")) if len(parts) == 2 else None
                if meta is not None and not isinstance(meta, dict):
                    errors.append({"message": "metadata must be a mapping"})
            except yaml.YAMLError as exc:
                errors.append({"message": f"invalid YAML: {exc}"})
        status = 400 if errors else 200
        self._json(status, {"errors": errors, "warnings": []})

    def _repo_info(self, repo: Repo, rev: str) -> None:
        c = self._commit(repo, rev)
        card = None
        if "README.md" in c.tree:
            text = repo.read(c.tree["README.md"]).decode("utf-8", "replace")
            if text.startswith("---"):
                parts = text.split("\n---", 1)
                try:
                    card = yaml.safe_load(parts[0].removeprefix("---"))
                except yaml.YAMLError:
                    card = None
        data = {
            "_id": hashlib.md5(repo.id.encode()).hexdigest()[:24], "id": repo.id, "author": repo.id.split("/")[0],
            "sha": c.sha, "lastModified": c.date, "createdAt": repo.created, "private": repo.private,
            "disabled": False, "gated": False, "downloads": 0, "likes": 0,
            "tags": (card or {}).get("tags", []) if isinstance(card, dict) else [],
            "siblings": [{"rfilename": p} for p in sorted(c.tree)],
        }
        if isinstance(card, dict):
            data["cardData"] = card
        self._json(200, data)

    def _preupload(self, repo: Repo, rev: str) -> None:
        payload = json.loads(self._body())
        c = repo.resolve(rev)
        tree = c.tree if c else {}
        out = []
        for f in payload.get("files", []):
            path, size = f["path"], int(f["size"])
            sample = base64.b64decode(f.get("sample", ""))
            existing = tree.get(path)
            lfs = (existing is not None and existing.lfs_sha256 is not None) or path.endswith(LFS_EXTENSIONS) \
                or size >= LFS_MIN_SIZE or b"\0" in sample
            out.append({"path": path, "uploadMode": "lfs" if lfs else "regular", "shouldIgnore": False,
                        "oid": existing.remote_oid if existing else None})
        self._json(200, {"files": out, "commitOid": c.sha if c else None})

    def _lfs_batch(self, rtype: str, rid: str) -> None:
        user = self._user()
        repo = self._repo(rtype, rid, user)
        self._can_write(user, rid.split("/")[0])
        payload = json.loads(self._body())
        objects = []
        for o in payload.get("objects", []):
            oid, size = o["oid"], int(o["size"])
            entry = {"oid": oid, "size": size, "authenticated": True}
            if oid not in repo.lfs:
                href = f"{self.server.url}/lfs-upload/{rtype}/{rid}/{oid}"
                entry["actions"] = {"upload": {"href": href, "header": {}, "expires_in": 3600}}
            objects.append(entry)
        self._send(200, json.dumps({"transfer": "basic", "objects": objects}).encode(),
                   content_type="application/vnd.git-lfs+json")

    def _lfs_upload(self, rtype: str, rid: str, oid: str) -> None:
        repo = self.server.state.repos.get((rtype, rid))
        data = self._body()
        if repo is None:
            raise HttpError(404, "Repository not found", "RepoNotFound")
        if hashlib.sha256(data).hexdigest() != oid:
            raise HttpError(400, f"uploaded content does not match sha256 {oid}")
        repo.lfs[oid] = data
        self._send(200, b"", content_type="text/plain")

    def _commit_ndjson(self, repo: Repo, rev: str) -> None:
        lines = [json.loads(x) for x in self._body().splitlines() if x.strip()]
        if not lines or lines[0].get("key") != "header":
            raise HttpError(400, "the first NDJSON line must be the commit header")
        header = lines[0]["value"]
        parent = repo.resolve(rev)
        if parent is None:
            raise HttpError(404, f"Invalid rev id: {rev}", "RevisionNotFound")
        if header.get("parentCommit") and header["parentCommit"] != parent.sha:
            raise HttpError(412, "A commit has happened since. Please refresh and try again.")
        tree = dict(parent.tree)
        for line in lines[1:]:
            key, v = line.get("key"), line.get("value", {})
            if key == "file":
                tree[v["path"]] = Blob.regular(base64.b64decode(v["content"]))
            elif key == "lfsFile":
                if v["oid"] not in repo.lfs:
                    raise HttpError(422, f"LFS object {v['oid']} for {v['path']} was never uploaded")
                tree[v["path"]] = Blob.lfs(v["oid"], len(repo.lfs[v["oid"]]))
            elif key == "deletedFile":
                if v["path"] not in tree:
                    raise HttpError(404, "A file with this name doesn't exist", "EntryNotFound")
                del tree[v["path"]]
            elif key == "deletedFolder":
                prefix = v["path"].rstrip("/") + "/"
                for p in [p for p in tree if p.startswith(prefix)]:
                    del tree[p]
            else:
                raise HttpError(400, f"unknown commit operation {key!r}")
        c = self.server.state._new_commit(repo, parent.sha, tree, header.get("summary", ""),
                                          header.get("description", ""), rev)
        self._json(200, {"success": True, "commitOid": c.sha, "pullRequestUrl": None,
                         "commitUrl": f"{self.server.url}/{TYPE_PREFIX[repo.type]}{repo.id}/commit/{c.sha}"})

    def _entry(self, path: str, b: Blob) -> dict:
        e = {"type": "file", "oid": b.oid, "size": b.size, "path": path}
        if b.lfs_sha256:
            e["lfs"] = {"oid": b.lfs_sha256, "size": b.size, "pointerSize": len(lfs_pointer(b.lfs_sha256, b.size))}
        return e

    def _tree(self, repo: Repo, rev: str, path: str, recursive: bool) -> None:
        c = self._commit(repo, rev)
        prefix = path.strip("/") + "/" if path.strip("/") else ""
        out, folders = [], set()
        for p, b in sorted(c.tree.items()):
            if not p.startswith(prefix):
                continue
            rel = p[len(prefix):]
            parts = rel.split("/")
            for i in range(1, len(parts)):
                if recursive or i == 1:
                    folders.add(prefix + "/".join(parts[:i]))
            if recursive or len(parts) == 1:
                out.append(self._entry(p, b))
        if prefix and not out and not folders:
            raise HttpError(404, f"{path} does not exist", "EntryNotFound")
        dirs = [{"type": "directory", "oid": hashlib.sha1(d.encode()).hexdigest(), "size": 0, "path": d}
                for d in sorted(folders)]
        self._json(200, dirs + out)

    def _paths_info(self, repo: Repo, rev: str) -> None:
        c = self._commit(repo, rev)
        body = self._body()
        ctype = self.headers.get("Content-Type", "")
        if "json" in ctype:
            paths = json.loads(body).get("paths", [])
        else:
            paths = parse_qs(body.decode()).get("paths", [])
        out = [self._entry(p, c.tree[p]) for p in paths if p in c.tree]
        self._json(200, out)

    def _commits(self, repo: Repo, rev: str) -> None:
        self._commit(repo, rev)
        out = [{"id": c.sha, "title": c.title, "message": c.message, "date": c.date,
                "authors": [{"user": repo.id.split("/")[0]}]} for c in repo.history(rev)]
        self._json(200, out)

    def _create_branch(self, repo: Repo, branch: str) -> None:
        payload = json.loads(self._body() or b"{}")
        if branch in repo.branches:
            raise HttpError(409, f"Reference already exists: refs/heads/{branch}")
        start = self._commit(repo, payload.get("startingPoint") or "main")
        repo.branches[branch] = start.sha
        self._json(200, {})

    def _resolve(self, rtype: str, rid: str, rev: str, path: str) -> None:
        repo = self._repo(rtype, rid, self._user())
        c = self._commit(repo, rev)
        blob = c.tree.get(path)
        head = self.command == "HEAD"
        if blob is None:
            self._send(404, b"Entry not found", {"X-Error-Code": "EntryNotFound", "X-Error-Message": "Entry not found",
                                                  "X-Repo-Commit": c.sha}, content_type="text/plain", head=head)
            return
        headers = {"X-Repo-Commit": c.sha, "ETag": f'"{blob.oid}"'}
        if blob.lfs_sha256:
            headers.update({"X-Linked-Etag": f'"{blob.lfs_sha256}"', "X-Linked-Size": str(blob.size)})
        self._send(200, repo.read(blob), headers, content_type="application/octet-stream", head=head)


class HubServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, tokens: dict[str, str] | None = None) -> None:
        super().__init__(("127.0.0.1", 0), HubHandler)
        self.state = HubState(tokens or {"hf_test_token_alice": "alice"})
        self.url = f"http://127.0.0.1:{self.server_address[1]}"
        self._thread: threading.Thread | None = None

    def __enter__(self) -> HubServer:
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.state.stopping.set()
        self.shutdown()
        self.server_close()


if __name__ == "__main__":  # a manual check: python tests/hub_server.py, then point HF_ENDPOINT at it
    import time

    with HubServer() as hub:
        print(hub.url, "tokens:", ", ".join(hub.state.tokens), flush=True)
        while True:
            time.sleep(3600)
