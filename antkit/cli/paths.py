"""Paths the CLI writes to, given as options: an empty one is refused rather than read as the current folder."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from antkit.errors import AntkitError


def path_to_write(option: str, example: str) -> Callable[[str], Path]:
    """A typer ``parser`` for ``option``: the path given; an empty or blank one is an AntkitError naming it."""
    def parse(text: str) -> Path:
        if not text.strip():
            raise AntkitError(f"{option} {text!r}: an empty path (it would mean the current folder); give one, "
                              f"e.g. {option} {example}")
        return Path(text)
    return parse
