"""Atomic file writes: a reader (or a resumed run) sees the old file or the new one, never half of one."""

from __future__ import annotations

import json
import math
import os
from contextlib import contextmanager
from pathlib import Path

import torch
from safetensors.torch import save_file

from antkit.errors import AntkitError


def _read_umask() -> int:
    """The process's umask. Reading it sets it (put back at once), so it is read once, at import, rather than
    while other threads may be creating files."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


FILE_MODE = 0o666 & ~_read_umask()  # what open() gives a new file (safetensors gives 0600)


@contextmanager
def _atomic(path: Path):
    """A temporary file beside ``path`` to write; it replaces ``path`` when the block ends, and is removed if the
    block (or the replacing) fails. A file system error is an AntkitError naming ``path``."""
    path = Path(path)
    writable_folder(path.parent, "folder")
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        yield partial
        os.chmod(partial, FILE_MODE)
        os.replace(partial, path)
    except BaseException as error:
        partial.unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise AntkitError(f"{path}: cannot be written ({error.strerror or error})") from None
        raise


def atomic_save(tensors: dict[str, torch.Tensor], path: Path, metadata: dict[str, str] | None = None) -> None:
    """Write tensors as safetensors atomically."""
    with _atomic(path) as partial:
        save_file({k: v.contiguous() for k, v in tensors.items()}, str(partial), metadata=metadata)


def read_json_object(path: Path, error: type[AntkitError] = AntkitError, advice: str = "") -> dict:
    """The JSON object in ``path``; an unreadable file, bad JSON or another JSON value raises ``error`` naming the
    file, followed by ``advice``."""
    try:
        value = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as problem:
        raise error(f"{path}: not readable JSON ({problem}){advice}") from None
    if not isinstance(value, dict):
        raise error(f"{path}: not a JSON object{advice}")
    return value


def finite_number(value) -> bool:
    """An int or float (not a bool, not infinite or NaN), as numbers in antkit's JSON records must be."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def atomic_write_text(path: Path, text: str) -> None:
    with _atomic(path) as partial:
        partial.write_text(text, encoding="utf-8")


def atomic_write_bytes(path: Path, data: bytes) -> None:
    with _atomic(path) as partial:
        partial.write_bytes(data)


def writable_folder(path: Path, what: str) -> Path:
    """``path``, created if missing; a clear error when it cannot be a folder (a file is in the way)."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        in_the_way = _file_in_the_way(path)
        problem = f"the file {in_the_way} is in the way" if in_the_way else error.strerror or error
        raise AntkitError(f"{what} {path}: cannot be used as a folder ({problem})") from None
    return path


def check_folder_path(path: Path, what: str) -> None:
    """The error ``writable_folder`` would give for a file in the way of ``path``, without creating anything."""
    path = Path(path)
    in_the_way = _file_in_the_way(path)
    if in_the_way:
        raise AntkitError(f"{what} {path}: cannot be used as a folder (the file {in_the_way} is in the way)")


def _file_in_the_way(path: Path) -> Path | None:
    """``path`` or the first of its parents that exists and is not a folder, if any."""
    return next((p for p in (path, *path.parents) if p.exists() and not p.is_dir()), None)
