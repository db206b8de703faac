"""A Hub-compatible HTTP server on loopback, so tests can push and pull with the real huggingface_hub client.

`LocalHub` keeps repos in memory: each repo (model, dataset or space) has branches (`main` first) and tags, each
pointing at a commit, and a commit is an immutable snapshot {path: bytes} with a 40-hex sha. It speaks the part of
the Hub HTTP API that huggingface_hub 2.4 uses for `create_repo`, `delete_repo`, `upload_folder`/`upload_file`/
`create_commit`, `create_branch`, `create_tag` (and their deletes), `model_info`/`repo_info`, `list_repo_files`,
`list_repo_tree`, `list_repo_refs`, `hf_hub_download` and `snapshot_download`.

Not emulated, on purpose:
- large-file (LFS/Xet) uploads: preupload always answers "regular", so every push here is a regular commit with
  the content inline (base64), and downloads carry no Xet headers;
- pull requests (`create_pr=True` is refused), commit history listing, paths-info, users and organisations;
- authentication: any token is accepted; a private repo is only hidden from requests without a token.
Repo ids must be "namespace/name". A new repo starts, as on the Hub, with an "initial commit" holding a
`.gitattributes`. Requests for anything else get a plain 404 and are recorded in `LocalHub.unhandled`.

Use the `local_hub` fixture (exported through `tests/conftest.py`) or the `running_hub(home)` context manager:
both start a server and point huggingface_hub at it, with its caches and token under a temporary folder.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import importlib
import itertools
import json
import re
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import MappingProxyType
from typing import Callable, Iterator, Mapping, NoReturn
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

REPO_TYPES = {"models": "model", "datasets": "dataset", "spaces": "space"}
URL_PREFIXES = {"model": "", "dataset": "datasets/", "space": "spaces/"}
DEFAULT_BRANCH = "main"
TEST_TOKEN = "hf_local_test_token"
# A short stand-in for the `.gitattributes` the Hub puts in a new repo's initial commit.
INITIAL_GITATTRIBUTES = (
    b"*.bin filter=lfs diff=lfs merge=lfs -text\n"
    b"*.pt filter=lfs diff=lfs merge=lfs -text\n"
    b"*.safetensors filter=lfs diff=lfs merge=lfs -text\n"
    b"*.onnx filter=lfs diff=lfs merge=lfs -text\n"
)


def git_blob_sha(data: bytes) -> str:
    """The git blob id of `data` (what the Hub sends as ETag and `oid` for a regular file)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


@dataclass
class Reply:
    """An HTTP answer: status, body and extra headers."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, payload: object, status: int = 200) -> Reply:
        return cls(status, json.dumps(payload).encode(), {"Content-Type": "application/json"})


class HubError(Exception):
    """An error answer; `code` goes in `X-Error-Code`, which the client maps to its exceptions."""

    def __init__(self, status: int, message: str, code: str | None = None, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.message, self.code, self.headers = status, message, code, dict(headers or {})

    def reply(self) -> Reply:
        reply = Reply.json({"error": self.message}, self.status)
        reply.headers.update(self.headers)
        reply.headers["X-Error-Message"] = self.message
        if self.code:
            reply.headers["X-Error-Code"] = self.code
        return reply


def _revision_not_found(revision: str) -> HubError:
    return HubError(404, f"Invalid rev id: {revision}", "RevisionNotFound")


@dataclass(frozen=True)
class Commit:
    """An immutable snapshot of a repo's files."""

    sha: str
    files: Mapping[str, bytes]
    message: str
    date: str


@dataclass
class Repo:
    """One repo: its commits, branches and tags (names -> commit sha)."""

    repo_type: str
    repo_id: str
    private: bool
    created_at: str = field(default_factory=_now)
    commits: dict[str, Commit] = field(default_factory=dict)
    branches: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def url_path(self) -> str:
        return URL_PREFIXES[self.repo_type] + self.repo_id

    def resolve(self, revision: str) -> Commit:
        """The commit a branch, tag, full sha or unique sha prefix (7+ hex digits) names."""
        sha = self.branches.get(revision) or self.tags.get(revision)
        if sha is None and re.fullmatch(r"[0-9a-f]{7,40}", revision):
            matches = [known for known in self.commits if known.startswith(revision)]
            sha = matches[0] if len(matches) == 1 else None
        if sha is None:
            raise _revision_not_found(revision)
        return self.commits[sha]

    def add_commit(self, branch: str, files: Mapping[str, bytes], message: str, serial: int) -> Commit:
        """Record a new snapshot and move `branch` to it."""
        seed = [self.repo_id, branch, str(serial), message, self.branches.get(branch, "")]
        seed += [f"{path}:{git_blob_sha(data)}" for path, data in sorted(files.items())]
        sha = hashlib.sha1("\n".join(seed).encode()).hexdigest()
        commit = Commit(sha, MappingProxyType(dict(files)), message, _now())
        self.commits[sha] = commit
        self.branches[branch] = sha
        return commit


def _loads(body: bytes) -> dict:
    try:
        return json.loads(body or b"{}")
    except json.JSONDecodeError as error:
        raise HubError(400, f"invalid JSON body: {error}") from error


def _byte_range(header: str, size: int) -> tuple[int, int]:
    """(first, last) byte of a `Range: bytes=...` header, inclusive; 416 when unsatisfiable."""
    match = re.fullmatch(r"bytes=(\d*)-(\d*)", header.strip())
    if match and match.group(1):
        first, last = int(match.group(1)), int(match.group(2) or size - 1)
    elif match and match.group(2):
        first, last = max(size - int(match.group(2)), 0), size - 1
    else:
        first, last = size, 0
    if first >= size or first > last:
        raise HubError(416, f"Range not satisfiable: {header}", headers={"Content-Range": f"bytes */{size}"})
    return first, min(last, size - 1)


class HubApp:
    """The Hub API on in-memory repos, independent of HTTP plumbing: `handle` maps a request to a `Reply`."""

    def __init__(self, base_url: str = ""):
        self.base_url = base_url
        self.repos: dict[tuple[str, str], Repo] = {}
        self.unhandled: list[str] = []
        self._lock = threading.Lock()
        self._serial = itertools.count()
        self._routes: dict[tuple[str, str], Callable[[Repo, list[str], dict[str, str], bytes], Reply]] = {
            ("GET", "info"): self.repo_info,
            ("GET", "revision"): self.repo_info,
            ("GET", "tree"): self.tree,
            ("GET", "refs"): self.refs,
            ("POST", "preupload"): self.preupload,
            ("POST", "commit"): self.commit,
            ("POST", "branch"): self.create_branch,
            ("DELETE", "branch"): self.delete_branch,
            ("POST", "tag"): self.create_tag,
            ("DELETE", "tag"): self.delete_tag,
        }

    def handle(self, method: str, target: str, headers: Mapping[str, str], body: bytes) -> Reply:
        """Answer one request; `target` is the raw (still percent-encoded) request path and query."""
        url = urlsplit(target)
        # Split before unquoting: the client sends revisions and tree paths with "/" encoded as %2F.
        parts = [unquote(part) for part in url.path.strip("/").split("/")]
        query = {key: values[-1] for key, values in parse_qs(url.query).items()}
        authorized = bool(headers.get("Authorization"))
        try:
            with self._lock:
                if parts[0] == "api":
                    return self._api(method, parts[1:], query, body, authorized)
                return self.resolve(method, parts, headers.get("Range"), authorized)
        except HubError as error:
            return error.reply()

    def _api(self, method: str, parts: list[str], query: dict[str, str], body: bytes, authorized: bool) -> Reply:
        if method == "POST" and parts == ["repos", "create"]:
            return self.create_repo(_loads(body))
        if method == "DELETE" and parts == ["repos", "delete"]:
            return self.delete_repo(_loads(body), authorized)
        if method == "POST" and parts == ["validate-yaml"]:
            return Reply.json({"errors": [], "warnings": []})
        if len(parts) >= 3 and parts[0] in REPO_TYPES:
            action, args = (parts[3], parts[4:]) if len(parts) > 3 else ("info", [])
            route = self._routes.get((method, action))
            if route is not None:
                return route(self._repo(REPO_TYPES[parts[0]], f"{parts[1]}/{parts[2]}", authorized), args, query, body)
        self._unhandled(method, "/api/" + "/".join(parts))

    def _unhandled(self, method: str, path: str) -> NoReturn:
        self.unhandled.append(f"{method} {path}")
        raise HubError(404, f"{method} {path} is not emulated by the test hub")

    def _repo(self, repo_type: str, repo_id: str, authorized: bool) -> Repo:
        repo = self.repos.get((repo_type, repo_id))
        if repo is None or (repo.private and not authorized):
            raise HubError(404, f"Repository not found: {repo_id}", "RepoNotFound")
        return repo

    # --- repos -------------------------------------------------------------------------------------------------

    def create_repo(self, payload: dict) -> Reply:
        """`POST /api/repos/create`: 200 with `url`, or 409 (still with `url`) when it exists."""
        if not payload.get("organization") or not payload.get("name"):
            raise HubError(400, "the test hub needs repo ids of the form 'namespace/name'")
        repo_type = payload.get("type") or "model"
        repo_id = f"{payload['organization']}/{payload['name']}"
        url = f"{self.base_url}/{URL_PREFIXES[repo_type]}{repo_id}"
        if (repo_type, repo_id) in self.repos:
            return Reply.json({"error": "You already created this repo", "url": url}, 409)
        private = payload.get("visibility") == "private" or payload.get("private") is True
        repo = self.repos[repo_type, repo_id] = Repo(repo_type, repo_id, private)
        repo.add_commit(DEFAULT_BRANCH, {".gitattributes": INITIAL_GITATTRIBUTES}, "initial commit", self._next())
        return Reply.json({"url": url, "name": repo_id, "id": repo_id})

    def delete_repo(self, payload: dict, authorized: bool) -> Reply:
        """`DELETE /api/repos/delete`."""
        repo = self._repo(payload.get("type") or "model", f"{payload.get('organization')}/{payload.get('name')}",
                          authorized)
        del self.repos[repo.repo_type, repo.repo_id]
        return Reply.json({})

    def repo_info(self, repo: Repo, args: list[str], query: dict[str, str], body: bytes) -> Reply:
        """`GET /api/{type}s/{id}[/revision/{rev}]` (`?blobs=true` adds sizes and blob ids)."""
        commit = repo.resolve("/".join(args) or DEFAULT_BRANCH)
        siblings = [{"rfilename": path} for path in sorted(commit.files)]
        if query.get("blobs", "").lower() in ("1", "true"):
            for sibling in siblings:
                data = commit.files[sibling["rfilename"]]
                sibling.update(size=len(data), blobId=git_blob_sha(data))
        info = {
            "_id": hashlib.sha1(repo.repo_id.encode()).hexdigest()[:24],
            "id": repo.repo_id,
            "author": repo.repo_id.split("/")[0],
            "sha": commit.sha,
            "lastModified": commit.date,
            "createdAt": repo.created_at,
            "private": repo.private,
            "disabled": False,
            "gated": False,
            "downloads": 0,
            "likes": 0,
            "tags": [],
            "siblings": siblings,
        }
        if repo.repo_type == "model":
            info["modelId"] = repo.repo_id
        return Reply.json(info)

    def tree(self, repo: Repo, args: list[str], query: dict[str, str], body: bytes) -> Reply:
        """`GET /api/{type}s/{id}/tree/{rev}[/{path}]?recursive=...`: one page, files and directories."""
        commit = repo.resolve(args[0] if args else DEFAULT_BRANCH)
        folder = "/".join(args[1:]).strip("/")
        prefix = f"{folder}/" if folder else ""
        recursive = query.get("recursive", "").lower() in ("1", "true")
        entries: dict[str, dict] = {}
        for path, data in commit.files.items():
            if not path.startswith(prefix):
                continue
            names = path[len(prefix):].split("/")
            depth = len(names) if recursive else 1
            for level in range(1, min(depth, len(names) - 1) + 1):
                sub = prefix + "/".join(names[:level])
                entries[sub] = {"type": "directory", "oid": hashlib.sha1(sub.encode()).hexdigest(), "size": 0,
                                "path": sub}
            if len(names) <= depth:
                entries[path] = {"type": "file", "oid": git_blob_sha(data), "size": len(data), "path": path}
        if folder and not entries:
            raise HubError(404, f"Entry not found: {folder}", "EntryNotFound", {"X-Repo-Commit": commit.sha})
        return Reply.json([entries[path] for path in sorted(entries)])

    def refs(self, repo: Repo, args: list[str], query: dict[str, str], body: bytes) -> Reply:
        """`GET /api/{type}s/{id}/refs`."""

        def listing(names: dict[str, str], kind: str) -> list[dict]:
            return [{"name": name, "ref": f"refs/{kind}/{name}", "targetCommit": sha} for name, sha in names.items()]

        return Reply.json({"branches": listing(repo.branches, "heads"), "converts": [],
                           "tags": listing(repo.tags, "tags"), "pullRequests": []})

    # --- commits, branches and tags -------------------------------------------------------------------------------

    def preupload(self, repo: Repo, args: list[str], query: dict[str, str], body: bytes) -> Reply:
        """`POST .../preupload/{rev}`: always "regular"; `oid` of the current file lets the client skip no-ops."""
        commit = repo.resolve("/".join(args) or DEFAULT_BRANCH)
        files = []
        for entry in _loads(body).get("files", []):
            answer = {"path": entry["path"], "uploadMode": "regular", "shouldIgnore": False}
            if entry["path"] in commit.files:
                answer["oid"] = git_blob_sha(commit.files[entry["path"]])
            files.append(answer)
        return Reply.json({"files": files, "commitOid": commit.sha})

    def commit(self, repo: Repo, args: list[str], query: dict[str, str], body: bytes) -> Reply:
        """`POST .../commit/{branch}` with NDJSON lines: header, file, deletedFile, deletedFolder."""
        if query.get("create_pr"):
            raise HubError(400, "pull requests are not emulated by the test hub")
        branch = "/".join(args) or DEFAULT_BRANCH
        if branch not in repo.branches:
            raise _revision_not_found(branch)
        try:
            lines = [json.loads(line) for line in body.splitlines() if line.strip()]
        except json.JSONDecodeError as error:
            raise HubError(400, f"invalid NDJSON body: {error}") from error
        if not lines or lines[0].get("key") != "header":
            raise HubError(400, "a commit starts with a 'header' line")
        header = lines[0]["value"]
        head = repo.commits[repo.branches[branch]]
        if header.get("parentCommit") and not head.sha.startswith(header["parentCommit"]):
            raise HubError(412, "A commit has happened since. Please refresh and try again.")
        files = dict(head.files)
        for line in lines[1:]:
            key, path = line["key"], line["value"]["path"]
            if key == "file":
                files[path] = base64.b64decode(line["value"]["content"])
            elif key == "deletedFile":
                if files.pop(path, None) is None:
                    raise HubError(404, f"A file with this name doesn't exist: {path}", "EntryNotFound")
            elif key == "deletedFolder":
                inside = [name for name in files if name.startswith(path.rstrip("/") + "/")]
                if not inside:
                    raise HubError(404, f"A folder with this name doesn't exist: {path}", "EntryNotFound")
                for name in inside:
                    del files[name]
            else:
                raise HubError(400, f"'{key}' operations are not emulated by the test hub (no LFS/Xet)")
        commit = repo.add_commit(branch, files, header.get("summary", ""), self._next())
        return Reply.json({"commitOid": commit.sha, "commitUrl": f"{self.base_url}/{repo.url_path}/commit/{commit.sha}",
                           "success": True, "pullRequestUrl": None, "hookOutput": ""})

    def create_branch(self, repo: Repo, args: list[str], query: dict[str, str], body: bytes) -> Reply:
        """`POST .../branch/{branch}` with optional `startingPoint` (defaults to the head of main)."""
        branch = "/".join(args)
        if branch in repo.branches:
            raise HubError(409, f"Reference already exists: refs/heads/{branch}")
        start = repo.resolve(_loads(body).get("startingPoint") or DEFAULT_BRANCH)
        repo.branches[branch] = start.sha
        return Reply.json({})

    def delete_branch(self, repo: Repo, args: list[str], query: dict[str, str], body: bytes) -> Reply:
        """`DELETE .../branch/{branch}` (never the default branch)."""
        branch = "/".join(args)
        if branch == DEFAULT_BRANCH:
            raise HubError(403, "the default branch cannot be deleted")
        if repo.branches.pop(branch, None) is None:
            raise _revision_not_found(branch)
        return Reply.json({})

    def create_tag(self, repo: Repo, args: list[str], query: dict[str, str], body: bytes) -> Reply:
        """`POST .../tag/{revision}` with `tag` in the body."""
        tag = _loads(body).get("tag")
        if not tag:
            raise HubError(400, "a tag name is required")
        if tag in repo.tags:
            raise HubError(409, f"Reference already exists: refs/tags/{tag}")
        repo.tags[tag] = repo.resolve("/".join(args) or DEFAULT_BRANCH).sha
        return Reply.json({})

    def delete_tag(self, repo: Repo, args: list[str], query: dict[str, str], body: bytes) -> Reply:
        """`DELETE .../tag/{tag}`."""
        tag = "/".join(args)
        if repo.tags.pop(tag, None) is None:
            raise _revision_not_found(tag)
        return Reply.json({})

    # --- file downloads -------------------------------------------------------------------------------------------

    def resolve(self, method: str, parts: list[str], range_header: str | None, authorized: bool) -> Reply:
        """`HEAD`/`GET /[datasets/|spaces/]{id}/resolve/{rev}/{path}`, with Range support."""
        repo_type = REPO_TYPES[parts[0]] if parts[0] in ("datasets", "spaces") else "model"
        parts = parts[1:] if repo_type != "model" else parts
        if method not in ("GET", "HEAD") or len(parts) < 5 or parts[2] != "resolve":
            self._unhandled(method, "/" + "/".join(parts))
        repo = self._repo(repo_type, f"{parts[0]}/{parts[1]}", authorized)
        commit = repo.resolve(parts[3])
        path = "/".join(parts[4:])
        headers = {"X-Repo-Commit": commit.sha}
        if path not in commit.files:
            raise HubError(404, f"Entry not found: {path}", "EntryNotFound", headers)
        data = commit.files[path]
        headers.update({"ETag": f'"{git_blob_sha(data)}"', "Accept-Ranges": "bytes",
                        "Content-Type": "application/octet-stream"})
        if not range_header:
            return Reply(200, data, headers)
        first, last = _byte_range(range_header, len(data))
        headers["Content-Range"] = f"bytes {first}-{last}/{len(data)}"
        return Reply(206, data[first:last + 1], headers)

    def _next(self) -> int:
        return next(self._serial)


class _HubHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, app: HubApp):
        super().__init__(("127.0.0.1", 0), _HubRequestHandler)
        self.app = app


class _HubRequestHandler(BaseHTTPRequestHandler):
    """Reads a request, asks the `HubApp`, writes the reply (one request per connection: HTTP/1.0)."""

    server: _HubHTTPServer

    def do_GET(self) -> None:
        self._answer("GET")

    def do_HEAD(self) -> None:
        self._answer("HEAD")

    def do_POST(self) -> None:
        self._answer("POST")

    def do_PUT(self) -> None:
        self._answer("PUT")

    def do_DELETE(self) -> None:
        self._answer("DELETE")

    def _answer(self, method: str) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        reply = self.server.app.handle(method, self.path, self.headers, body)
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        if method != "HEAD":
            self.wfile.write(reply.body)

    def log_message(self, format: str, *args: object) -> None:
        """Keep test output quiet."""


class LocalHub:
    """A Hub-compatible server on 127.0.0.1 (random free port), served from a daemon thread."""

    def __init__(self):
        self.app = HubApp()
        self._httpd = _HubHTTPServer(self.app)
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self.app.base_url = self.url
        serve = functools.partial(self._httpd.serve_forever, poll_interval=0.05)  # a quick `stop`
        self._thread = threading.Thread(target=serve, name="local-hub", daemon=True)

    @property
    def unhandled(self) -> list[str]:
        """Requests for endpoints the test hub does not emulate ("METHOD /path")."""
        return self.app.unhandled

    def start(self) -> LocalHub:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and free the port (safe to call twice)."""
        if self._thread.is_alive():
            self._httpd.shutdown()
            self._thread.join()
        self._httpd.server_close()


def point_client_at(patch: pytest.MonkeyPatch, url: str, home: Path) -> None:
    """Point huggingface_hub at `url`, online, with HF_HOME, caches and a dummy token under `home`.

    huggingface_hub reads its settings into `huggingface_hub.constants` at import time, and the module-level
    `HfApi` behind `huggingface_hub.model_info` etc. keeps the endpoint it was created with, so both are patched
    as well as the environment (for anything imported later).
    """
    from huggingface_hub import constants, hf_api

    home, hub_cache = Path(home), Path(home) / "hub"
    hub_cache.mkdir(parents=True, exist_ok=True)
    env = {
        "HF_ENDPOINT": url,
        "HF_HOME": str(home),
        "HF_HUB_CACHE": str(hub_cache),
        "HF_XET_CACHE": str(home / "xet"),
        "HF_ASSETS_CACHE": str(home / "assets"),
        "HF_TOKEN_PATH": str(home / "token"),
        "HF_TOKEN": TEST_TOKEN,
        "HF_HUB_OFFLINE": "0",
        "HF_HUB_DISABLE_XET": "1",
        "HF_HUB_DISABLE_TELEMETRY": "1",
    }
    for name, value in env.items():
        patch.setenv(name, value)
    for name in ("HUGGING_FACE_HUB_TOKEN", "HF_OIDC_RESOURCE", "HUGGINGFACE_CO_STAGING", "TRANSFORMERS_OFFLINE"):
        patch.delenv(name, raising=False)
    settings = {
        "ENDPOINT": url,
        "HUGGINGFACE_CO_URL_TEMPLATE": url + "/{repo_id}/resolve/{revision}/{filename}",
        "HF_HOME": str(home),
        "HF_HUB_CACHE": str(hub_cache),
        "HUGGINGFACE_HUB_CACHE": str(hub_cache),
        "HF_XET_CACHE": env["HF_XET_CACHE"],
        "HF_ASSETS_CACHE": env["HF_ASSETS_CACHE"],
        "HUGGINGFACE_ASSETS_CACHE": env["HF_ASSETS_CACHE"],
        "HF_TOKEN_PATH": env["HF_TOKEN_PATH"],
        "HF_STORED_TOKENS_PATH": str(home / "stored_tokens"),
        "HF_HUB_OFFLINE": False,
        "HF_HUB_DISABLE_XET": True,
        "HF_HUB_DISABLE_TELEMETRY": True,
    }
    for name, value in settings.items():
        patch.setattr(constants, name, value)
    patch.setattr(hf_api.api, "endpoint", url)
    # Modules that copied a setting at import time (`from ..constants import X`).
    for module, name in (("huggingface_hub.utils._cache_manager", "HF_HUB_CACHE"),
                         ("huggingface_hub.utils._cache_assets", "HF_ASSETS_CACHE")):
        patch.setattr(importlib.import_module(module), name, settings[name], raising=False)


def set_hub_offline(patch: pytest.MonkeyPatch, offline: bool = True) -> None:
    """Switch the client's offline mode (`HF_HUB_OFFLINE`), which it reads from `constants` at call time."""
    from huggingface_hub import constants

    patch.setenv("HF_HUB_OFFLINE", "1" if offline else "0")
    patch.setattr(constants, "HF_HUB_OFFLINE", offline)


@contextmanager
def running_hub(home: Path) -> Iterator[LocalHub]:
    """Start a `LocalHub`, point the client at it (see `point_client_at`), and undo both on exit."""
    hub = LocalHub().start()
    try:
        with pytest.MonkeyPatch.context() as patch:
            point_client_at(patch, hub.url, home)
            yield hub
    finally:
        hub.stop()


@pytest.fixture
def local_hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalHub]:
    """A running `LocalHub` with huggingface_hub pointed at it; HF_HOME is `tmp_path / "hf-home"`."""
    hub = LocalHub().start()
    point_client_at(monkeypatch, hub.url, tmp_path / "hf-home")
    yield hub
    hub.stop()


if __name__ == "__main__":  # a server to try the docs/hub.md workflow by hand: python tests/hub_server.py
    server = LocalHub().start()
    print(f"a local Hub is running; in another shell:\n  export HF_ENDPOINT={server.url} HF_HUB_DISABLE_XET=1 "
          f"HF_TOKEN={TEST_TOKEN}\nCtrl-C stops it (everything pushed is forgotten).", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.stop()
