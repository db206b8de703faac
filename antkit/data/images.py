"""Opening item images from the forms they come in: PIL images, encoded bytes, ``datasets`` dicts, paths."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, UnidentifiedImageError


def open_image(reference) -> Image.Image | None:
    """The image ``reference`` points to, or None when it is missing, unreadable or corrupt."""
    try:
        if isinstance(reference, Image.Image):
            return reference
        if isinstance(reference, dict):  # datasets' Image feature, undecoded
            reference = reference.get("bytes") or reference.get("path")
        if isinstance(reference, (bytes, bytearray)):
            image = Image.open(io.BytesIO(reference))
        elif isinstance(reference, (str, Path)) and reference:
            image = Image.open(reference)
        else:
            return None
        image.load()
        return image
    except (OSError, UnidentifiedImageError, ValueError):
        return None
