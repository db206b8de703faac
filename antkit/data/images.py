"""Opening item images from the forms they come in: PIL images, encoded bytes, ``datasets`` dicts, paths, URLs."""

from __future__ import annotations

import http.client
import io
import urllib.request
from pathlib import Path

from PIL import Image, UnidentifiedImageError

URL_TIMEOUT = 10.0  # seconds for one download, no retries
URL_MAX_BYTES = 20 * 1024 * 1024  # larger downloads count as unreadable


def _download(url: str) -> bytes | None:
    """The body at ``url``, or None when it is larger than ``URL_MAX_BYTES``."""
    with urllib.request.urlopen(url, timeout=URL_TIMEOUT) as response:
        body = response.read(URL_MAX_BYTES + 1)
    return body if len(body) <= URL_MAX_BYTES else None


def open_image(reference) -> Image.Image | None:
    """The image ``reference`` points to, or None when it is missing, unreachable, unreadable or corrupt."""
    try:
        if isinstance(reference, Image.Image):
            return reference
        if isinstance(reference, dict):  # datasets' Image feature, undecoded
            reference = reference.get("bytes") or reference.get("path")
        if isinstance(reference, str) and reference.startswith(("http://", "https://")):
            reference = _download(reference)
        if isinstance(reference, (bytes, bytearray)):
            image = Image.open(io.BytesIO(reference))
        elif isinstance(reference, (str, Path)) and reference:
            image = Image.open(reference)
        else:
            return None
        image.load()
        return image
    except (OSError, UnidentifiedImageError, ValueError, http.client.HTTPException, Image.DecompressionBombError):
        return None
