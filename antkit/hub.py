"""Checkpoints on the Hugging Face Hub: ``push`` a run's pre-trained model (or any checkpoint folder),
``pull`` one into the local cache (usable offline afterwards), ``info`` about one, and ``from_pretrained``.

References: a local folder, or ``hf://ORG/NAME`` with an optional ``@REVISION`` (branch, tag or commit).
The token comes from the usual huggingface_hub sources (``HF_TOKEN``, ``hf auth login``).
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from antkit.errors import AntkitError, CheckpointError
from antkit.hub_reference import PREFIX, check_repo_id, check_revision, parse_reference
from antkit.io import atomic_write_text, read_json_object, writable_folder
from antkit.layout import PRETRAIN, RESULTS
from antkit.model.checkpoint_config import read_config
from antkit.model.pretrained import model_from_checkpoint
from antkit.model.recommender import SequentialRecommender
from antkit.model.saving import read_checkpoint
from antkit.plugins.manager import load_registry
from antkit.plugins.registry import Registry
from antkit.report.model_card import render_model_card
from antkit.report.results import read_results

CHECKPOINT_FILES = ["model.safetensors", "config.json", "recipe.json", "README.md"]
PULL_MARKER = Path(".cache") / "antkit" / "pull.json"  # in a pull's local folder: which repository it holds


def _hub_error(action: str, repo_id: str, error: Exception) -> AntkitError:
    """The AntkitError for a Hub client error, saying in words what went wrong."""
    from huggingface_hub import constants
    from huggingface_hub.errors import (
        EntryNotFoundError,
        LocalEntryNotFoundError,
        OfflineModeIsEnabled,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )
    from huggingface_hub.utils import httpx

    unreachable = f"cannot reach the Hub at {constants.ENDPOINT}: {str(error) or type(error).__name__}"
    reasons = [  # most specific first: LocalEntryNotFoundError is an EntryNotFoundError
        (LocalEntryNotFoundError, "not in the local cache, and the Hub cannot be reached (offline?)"),
        (RepositoryNotFoundError, "no such repository (or no access: check your token)"),
        (RevisionNotFoundError, "no such revision"),
        (EntryNotFoundError, "a file is missing in the repository"),
        (OfflineModeIsEnabled, "offline mode is on (HF_HUB_OFFLINE), and this needs the Hub"),
        (httpx.TransportError, f"{unreachable}; check the network or HF_ENDPOINT"),
    ]
    reason = next((text for kind, text in reasons if isinstance(error, kind)), str(error))
    return AntkitError(f"hub {action} {repo_id}: {reason}")


@contextmanager
def _hub_call(action: str, repo_id: str) -> Iterator[None]:
    """Turn the Hub client's errors (HTTP, missing file, offline, no connection) into one AntkitError."""
    from huggingface_hub.errors import EntryNotFoundError, HfHubHTTPError, OfflineModeIsEnabled
    from huggingface_hub.utils import httpx

    try:
        yield
    except (HfHubHTTPError, EntryNotFoundError, OfflineModeIsEnabled, httpx.TransportError) as error:
        raise _hub_error(action, repo_id, error) from None


def checkpoint_folder(path: Path) -> Path:
    """The checkpoint a path means: the folder itself, or a run folder's pre-training (``RUN/pretrain``)."""
    path = Path(path)
    if (path / "config.json").exists():
        return path
    if (path / PRETRAIN / "config.json").exists():
        return path / PRETRAIN
    raise CheckpointError(f"{path}: neither a checkpoint (config.json, model.safetensors) nor a run folder "
                          "with a finished pre-training (pretrain/)")


def push(path: str | Path, repo_id: str, *, private: bool = False, revision: str | None = None,
         token: str | None = None, registry: Registry | None = None) -> str:
    """Upload a checkpoint (or a run's pre-trained model, with the run's results in its card) to
    ``repo_id``; returns the commit URL. The checkpoint is read and checked first."""
    from huggingface_hub import HfApi

    check_repo_id(repo_id)
    check_revision(revision)
    folder = checkpoint_folder(Path(path))
    checkpoint = read_checkpoint(folder, registry or load_registry())
    card = render_model_card(checkpoint.config, repo_id, _card_results(folder, checkpoint.config))
    api = HfApi(token=token)
    with _hub_call("push to", repo_id):
        api.create_repo(repo_id, private=private, exist_ok=True)
        if revision and revision != "main":
            api.create_branch(repo_id, branch=revision, exist_ok=True)
        operations = _operations(folder, card)
        commit = api.create_commit(repo_id, operations, commit_message=f"antkit {checkpoint.config['antkit_version']} "
                                   "checkpoint", revision=revision)
    return commit.commit_url


def _card_results(folder: Path, config: dict) -> dict | None:
    """What the model card reports: for an adapted arm its result.json, for a run's pre-training the run's
    results (``RUN/results.json``, checked); None when there is none."""
    if config.get("stage") == "adapt":
        path = folder / "result.json"
        return read_json_object(path, CheckpointError) if path.exists() else None
    path = folder.parent / RESULTS
    if folder.name != PRETRAIN or not path.exists():
        return None
    return read_results(path)


def _operations(folder: Path, card: str) -> list:
    from huggingface_hub import CommitOperationAdd

    operations = [CommitOperationAdd(name, str(folder / name)) for name in CHECKPOINT_FILES[:-1]
                  if (folder / name).exists()]
    return operations + [CommitOperationAdd("README.md", card.encode())]


def pull(repo_id: str, revision: str | None = None, local_dir: str | Path | None = None,
         token: str | None = None) -> Path:
    """Download a checkpoint (the Hub cache is used, and works offline once filled); returns its folder.

    Its config.json comes first, into the Hub cache: a repository that is not an antkit checkpoint is refused
    before any weights come (and nothing is left in ``local_dir``), and the rest is taken from the commit
    whose config.json was checked (the cache's snapshot folder is named by it), even if the branch moves.
    ``local_dir`` must be new, empty, or an earlier pull of ``repo_id``: no other file is ever replaced.
    """
    from huggingface_hub import snapshot_download

    check_repo_id(repo_id)
    check_revision(revision)
    if local_dir is not None:
        local_dir = _local_folder(local_dir, repo_id)
    with _hub_call("pull", repo_id):
        checked = Path(snapshot_download(repo_id, revision=revision, token=token, allow_patterns=["config.json"]))
        _hub_config(checked / "config.json", repo_id)
        if local_dir is not None:  # marked before any file comes, so that an interrupted pull can be repeated
            atomic_write_text(local_dir / PULL_MARKER, json.dumps({"repo_id": repo_id}))
        return Path(snapshot_download(repo_id, revision=checked.name, local_dir=local_dir, token=token,
                                      allow_patterns=CHECKPOINT_FILES))


def _local_folder(local_dir: str | Path, repo_id: str) -> Path:
    """The folder to pull ``repo_id`` into, made if missing; an empty name, or a folder holding files that are
    not an earlier pull of ``repo_id``, is an AntkitError naming it."""
    what = "hub pull: the local folder"
    if not str(local_dir).strip():
        raise AntkitError(f"{what} {str(local_dir)!r}: empty; give a new or empty folder (the current folder is "
                          "never taken for an empty name)")
    local_dir = Path(local_dir)
    try:
        held = sorted(p.name for p in local_dir.iterdir()) if local_dir.is_dir() else []
    except OSError as error:
        raise AntkitError(f"{what} {local_dir}: cannot be read ({error.strerror or error})") from None
    if held and _pulled_into(local_dir) != repo_id:
        shown = ", ".join(held[:3]) + (", ..." if len(held) > 3 else "")
        raise AntkitError(f"{what} {local_dir} holds files ({shown}) and is not an earlier pull of {repo_id}; "
                          "use a new or empty folder (a pull replaces files of the same names)")
    return writable_folder(local_dir, what)


def _pulled_into(local_dir: Path) -> str | None:
    """The repository an earlier pull put into ``local_dir`` (its marker), None when there is no readable one."""
    try:
        return read_json_object(local_dir / PULL_MARKER).get("repo_id")
    except AntkitError:
        return None


def _hub_config(path: Path, repo_id: str) -> dict:
    """The config.json of Hub repository ``repo_id``, downloaded to ``path``, checked as ``read_checkpoint``
    checks a local one; a repository without one, or with another program's, is a CheckpointError."""
    where = f"config.json of {repo_id} on the Hub"
    if not path.is_file():
        raise CheckpointError(f"{repo_id}: not an antkit checkpoint (no config.json on the Hub)")
    return read_config(path, where, f" ({where})")


def resolve(reference: str | Path) -> Path:
    """A checkpoint folder for a local path or an ``hf://`` reference (pulled into the cache)."""
    if str(reference).startswith(PREFIX):
        return pull(*parse_reference(str(reference)))
    return checkpoint_folder(Path(reference))


def resolve_all(reference: str | Path) -> list[Path]:
    """Every checkpoint a reference means: one for ``hf://`` or a checkpoint folder; for a run folder, each
    of its pre-trainings (``pretrain``, ``pretrain-text``, ...)."""
    path = Path(reference)
    if not str(reference).startswith(PREFIX) and not (path / "config.json").exists() and path.is_dir():
        runs = sorted(p.parent for p in path.glob(f"{PRETRAIN}*/config.json"))
        if runs:
            return runs
    return [resolve(reference)]


def info(repo_id: str, revision: str | None = None, token: str | None = None) -> dict:
    """What a Hub checkpoint holds, from its config.json: commit, files, components, encoders, sizes."""
    from huggingface_hub import HfApi, snapshot_download

    check_revision(revision)
    with _hub_call("info", check_repo_id(repo_id)):
        details = HfApi(token=token).model_info(repo_id, revision=revision)
        folder = Path(snapshot_download(repo_id, revision=details.sha, token=token, allow_patterns=["config.json"]))
    return {"repo_id": repo_id, "revision": revision or "main", "commit": details.sha,
            "files": sorted(s.rfilename for s in details.siblings or []),
            "config": _hub_config(folder / "config.json", repo_id)}


def from_pretrained(reference: str | Path, registry: Registry | None = None) -> SequentialRecommender:
    """The model of a local checkpoint folder or an ``hf://ORG/NAME[@REV]`` checkpoint, strictly loaded."""
    registry = registry or load_registry()
    return model_from_checkpoint(read_checkpoint(resolve(reference), registry), registry)
