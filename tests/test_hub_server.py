"""The loopback Hub (tests/hub_server.py) against the real huggingface_hub client."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from hub_server import TEST_TOKEN, HubApp, running_hub, set_hub_offline
from huggingface_hub import (
    HfApi,
    constants,
    hf_api,
    hf_hub_download,
    hf_hub_url,
    model_info,
    scan_cache_dir,
    snapshot_download,
)
from huggingface_hub.errors import (
    EntryNotFoundError,
    HfHubHTTPError,
    OfflineModeIsEnabled,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from huggingface_hub.utils import get_session

REPO = "antkit-tests/tiny-model"
README = "---\nlicense: mit\ntags: [antkit]\n---\n# Tiny model\n"
AUTH = {"Authorization": f"Bearer {TEST_TOKEN}"}
FILES = [".gitattributes", "README.md", "config.json", "extra/vocab.txt", "weights.bin"]


@pytest.fixture
def checkpoint(tmp_path) -> Path:
    """A folder like a small saved model: a card, a JSON config, a nested text file and 300 KB of weights."""
    folder = tmp_path / "checkpoint"
    (folder / "extra").mkdir(parents=True)
    (folder / "README.md").write_text(README)
    (folder / "config.json").write_text(json.dumps({"dim": 8, "layers": 2}))
    (folder / "extra" / "vocab.txt").write_text("a\nb\nc\n")
    (folder / "weights.bin").write_bytes(random.Random(0).randbytes(300_000))
    return folder


def push(checkpoint: Path, **kwargs) -> str:
    """Create REPO (if needed), upload the checkpoint folder; the new commit's sha."""
    api = HfApi()
    api.create_repo(REPO, exist_ok=True, **kwargs)
    return api.upload_folder(repo_id=REPO, folder_path=checkpoint, commit_message="add checkpoint").oid


def test_push_and_pull_round_trip(local_hub, checkpoint, tmp_path):
    api = HfApi()
    url = api.create_repo(REPO, private=True)
    assert (url.repo_id, url.endpoint) == (REPO, local_hub.url)
    assert api.create_repo(REPO, exist_ok=True).repo_id == REPO
    with pytest.raises(HfHubHTTPError) as conflict:
        api.create_repo(REPO)
    assert conflict.value.response.status_code == 409

    sha = api.upload_folder(repo_id=REPO, folder_path=checkpoint, commit_message="add checkpoint").oid
    assert sorted(api.list_repo_files(REPO)) == FILES

    weights = Path(hf_hub_download(REPO, "weights.bin"))
    assert weights.read_bytes() == (checkpoint / "weights.bin").read_bytes()
    assert weights.is_relative_to(tmp_path / "hf-home" / "hub")
    assert [repo.repo_id for repo in scan_cache_dir().repos] == [REPO]
    snapshot = Path(snapshot_download(REPO))
    assert snapshot.name == sha
    for path in FILES[1:]:
        assert (snapshot / path).read_bytes() == (checkpoint / path).read_bytes(), path

    info = model_info(REPO, files_metadata=True)  # module-level function: its HfApi was built at import time
    assert (info.id, info.sha, info.private) == (REPO, sha, True)
    assert {sibling.rfilename: sibling.size for sibling in info.siblings}["weights.bin"] == 300_000
    with pytest.raises(RepositoryNotFoundError):  # private: hidden from requests without a token
        api.model_info(REPO, token=False)
    part = get_session().get(hf_hub_url(REPO, "weights.bin"), headers={"Range": "bytes=10-19", **AUTH})
    assert (part.status_code, part.content) == (206, (checkpoint / "weights.bin").read_bytes()[10:20])
    assert local_hub.unhandled == []


def test_branches_tags_and_revisions(local_hub, checkpoint):
    api = HfApi()
    first = push(checkpoint)
    api.create_branch(REPO, branch="experiment")
    api.create_branch(REPO, branch="experiment", exist_ok=True)
    api.create_tag(REPO, tag="v1.0")
    with pytest.raises(HfHubHTTPError):
        api.create_tag(REPO, tag="v1.0")

    new_config = b'{"dim": 16, "layers": 2}'
    second = api.upload_file(path_or_fileobj=new_config, path_in_repo="config.json", repo_id=REPO,
                             revision="experiment", commit_message="wider").oid
    assert second != first
    assert Path(hf_hub_download(REPO, "config.json", revision="v1.0")).read_bytes() == b'{"dim": 8, "layers": 2}'
    assert Path(hf_hub_download(REPO, "config.json", revision="experiment")).read_bytes() == new_config
    assert Path(hf_hub_download(REPO, "config.json")).read_bytes() == b'{"dim": 8, "layers": 2}'

    assert api.model_info(REPO, revision="experiment").sha == second
    assert api.model_info(REPO, revision="v1.0").sha == first
    assert api.model_info(REPO, revision=first[:7]).sha == first
    assert api.model_info(REPO).sha == first
    refs = api.list_repo_refs(REPO)
    assert {ref.name: ref.target_commit for ref in refs.branches} == {"main": first, "experiment": second}
    assert {ref.name: ref.target_commit for ref in refs.tags} == {"v1.0": first}
    top_level = [entry.path for entry in api.list_repo_tree(REPO, revision="experiment")]
    assert top_level == [".gitattributes", "README.md", "config.json", "extra", "weights.bin"]

    # Unchanged content is skipped by the client (preupload `oid`), so no new commit is made.
    again = api.upload_file(path_or_fileobj=new_config, path_in_repo="config.json", repo_id=REPO,
                            revision="experiment")
    assert again.oid == second
    assert api.file_exists(REPO, "weights.bin") and not api.file_exists(REPO, "missing.txt")
    assert api.revision_exists(REPO, "v1.0") and not api.revision_exists(REPO, "v2.0")
    assert api.repo_exists(REPO) and not api.repo_exists("antkit-tests/absent")
    api.delete_file("extra/vocab.txt", repo_id=REPO, revision="experiment")
    assert "extra/vocab.txt" not in api.list_repo_files(REPO, revision="experiment")
    assert "extra/vocab.txt" in api.list_repo_files(REPO)
    assert local_hub.unhandled == []


def test_missing_things_raise_the_client_errors(local_hub, checkpoint):
    api = HfApi()
    push(checkpoint)
    with pytest.raises(EntryNotFoundError):
        hf_hub_download(REPO, "missing.txt")
    with pytest.raises(RepositoryNotFoundError):
        hf_hub_download("antkit-tests/absent", "config.json")
    with pytest.raises(RevisionNotFoundError):
        hf_hub_download(REPO, "config.json", revision="no-such-branch")
    with pytest.raises(RepositoryNotFoundError):
        api.model_info("antkit-tests/absent")
    with pytest.raises(RevisionNotFoundError):
        api.model_info(REPO, revision="no-such-branch")
    with pytest.raises(EntryNotFoundError):
        api.delete_file("missing.txt", repo_id=REPO)
    with pytest.raises(RevisionNotFoundError):
        api.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id=REPO, revision="no-such-branch")


def test_cache_serves_offline_after_the_server_stops(local_hub, checkpoint, monkeypatch):
    sha = push(checkpoint)
    weights = hf_hub_download(REPO, "weights.bin")
    snapshot = snapshot_download(REPO)
    local_hub.stop()
    set_hub_offline(monkeypatch)
    with pytest.raises(OfflineModeIsEnabled):  # the client does not even try the network
        HfApi().model_info(REPO)
    assert hf_hub_download(REPO, "weights.bin") == weights
    assert hf_hub_download(REPO, "weights.bin", revision=sha) == weights
    assert snapshot_download(REPO) == snapshot
    assert (Path(snapshot) / "README.md").read_text() == README


def test_running_hub_restores_the_client_settings(tmp_path):
    def settings():
        return constants.ENDPOINT, constants.HF_HUB_CACHE, constants.HF_HUB_OFFLINE, hf_api.api.endpoint

    before = settings()
    with running_hub(tmp_path / "hf-home") as hub:
        assert constants.ENDPOINT == hub.url
        HfApi().create_repo(REPO)
        assert HfApi().model_info(REPO).siblings[0].rfilename == ".gitattributes"
    assert settings() == before


def test_range_requests_and_unknown_routes():
    app = HubApp("http://hub.test")
    create = app.handle("POST", "/api/repos/create", {}, b'{"name": "m", "organization": "ns"}')
    assert json.loads(create.body) == {"url": "http://hub.test/ns/m", "name": "ns/m", "id": "ns/m"}
    whole = app.handle("GET", "/ns/m/resolve/main/.gitattributes", {}, b"")
    part = app.handle("GET", "/ns/m/resolve/main/.gitattributes", {"Range": "bytes=2-5"}, b"")
    assert (part.status, part.body) == (206, whole.body[2:6])
    assert part.headers["Content-Range"] == f"bytes 2-5/{len(whole.body)}"
    tail = app.handle("GET", "/ns/m/resolve/main/.gitattributes", {"Range": "bytes=-3"}, b"")
    assert tail.body == whole.body[-3:]
    assert app.handle("GET", "/ns/m/resolve/main/.gitattributes", {"Range": "bytes=9999-"}, b"").status == 416
    assert app.handle("GET", "/api/models/ns/m/commits/main", {}, b"").status == 404
    assert app.unhandled == ["GET /api/models/ns/m/commits/main"]
