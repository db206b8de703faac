"""Atomic file writes: a reader (or a resumed run) sees the old file or the new one, never half of one."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

import torch
from safetensors.torch import save_file

from antkit.errors import AntkitError


@contextmanager
def _atomic(path: Path):
    """A temporary file beside ``path`` to write; it replaces ``path`` when the block ends, and is removed if the
    block (or the replacing) fails."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        yield partial
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def atomic_save(tensors: dict[str, torch.Tensor], path: Path, metadata: dict[str, str] | None = None) -> None:
    """Write tensors as safetensors atomically."""
    with _atomic(path) as partial:
        save_file({k: v.contiguous() for k, v in tensors.items()}, str(partial), metadata=metadata)


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
        raise AntkitError(f"{what} {path}: cannot be used as a folder ({error.strerror or error})") from None
    return path
