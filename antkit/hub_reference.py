"""Hub repository ids and ``hf://ORG/NAME[@REVISION]`` references, checked without touching the network (and
without importing the model code, so that recipe validation can use them)."""

from __future__ import annotations

from antkit.errors import AntkitError

PREFIX = "hf://"


def _is_repo_id(text: str) -> bool:
    """Whether ``text`` is a valid Hub repository id of the form ``ORG/NAME``."""
    from huggingface_hub.errors import HFValidationError
    from huggingface_hub.utils import validate_repo_id

    try:
        validate_repo_id(text)
    except HFValidationError:
        return False
    return text.count("/") == 1


def check_repo_id(repo_id: str) -> str:
    """``repo_id`` itself when it is ``ORG/NAME``; an AntkitError naming it otherwise."""
    if not _is_repo_id(repo_id):
        raise AntkitError(f"'{repo_id}': not a Hub repository id; expected ORG/NAME "
                          "(letters, digits, '-', '_' and '.')")
    return repo_id


def parse_reference(reference: str) -> tuple[str, str | None]:
    """``hf://ORG/NAME@REV`` -> (``ORG/NAME``, ``REV`` or None); an ``@`` with nothing after it is refused."""
    repo, at, revision = reference.removeprefix(PREFIX).partition("@")
    if not _is_repo_id(repo):
        raise AntkitError(f"'{reference}': a Hub reference is hf://ORG/NAME or hf://ORG/NAME@REVISION")
    if at and not revision.strip():
        raise AntkitError(f"'{reference}': no revision after '@'; write hf://{repo} for the main branch, or "
                          f"hf://{repo}@REVISION (a branch, tag or commit)")
    return repo, revision or None


def check_revision(revision: str | None) -> str | None:
    """``revision`` itself, None meaning main; an empty one is an AntkitError, not taken for main."""
    if revision is not None and not revision.strip():
        raise AntkitError(f"revision {revision!r}: empty; give a branch, tag or commit (or none, for main)")
    return revision
