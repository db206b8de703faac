"""Atomic file writes: a reader (or a resumed run) sees the old file or the new one, never half of one."""

from __future__ import annotations

import os
from pathlib import Path

import torch
from safetensors.torch import save_file


def _partial(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.with_name(f".{path.name}.{os.getpid()}.partial")


def atomic_save(tensors: dict[str, torch.Tensor], path: Path, metadata: dict[str, str] | None = None) -> None:
    """Write tensors as safetensors atomically."""
    path = Path(path)
    partial = _partial(path)
    save_file({k: v.contiguous() for k, v in tensors.items()}, str(partial), metadata=metadata)
    os.replace(partial, path)


def atomic_write_text(path: Path, text: str) -> None:
    path = Path(path)
    partial = _partial(path)
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    path = Path(path)
    partial = _partial(path)
    partial.write_bytes(data)
    os.replace(partial, path)
