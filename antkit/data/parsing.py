"""What every importer of real data needs: item text from metadata fields, prices from the strings shops
write, one policy for bad rows (stop with the file and line, or skip and count them), and a fingerprint of
the files a domain is read from (the processed-data cache key)."""

from __future__ import annotations

import hashlib
import html
import math
import re
from collections import Counter
from pathlib import Path
from typing import Iterable

from antkit.components.base import ComponentConfig
from antkit.errors import DataError

DEFAULT_TEXT_FIELDS = ("title", "categories", "brand")
_TAG = re.compile(r"</?[A-Za-z][^<>]*>")  # an HTML tag; "<" before a digit or space is text ("ages 3<10")
_DECIMAL_COMMA = re.compile(r",\d{1,2}(?!\d)")  # "5,99": a comma before one or two final digits
_SPACE = re.compile(r"\s+")
_NUMBER = re.compile(r"\d+(?:\.\d+)?|\.\d+")


def clean_text(value) -> str:
    """HTML entities unescaped, tags removed, whitespace collapsed; lists (category paths) joined by ', '."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ", ".join(part for part in (clean_text(v) for v in value) if part)
    text = html.unescape(_TAG.sub(" ", str(value)))  # tags first: an escaped "&lt;" is text, not a tag
    return _SPACE.sub(" ", text).strip()


def item_text(fields: dict, names: tuple[str, ...] = DEFAULT_TEXT_FIELDS, max_field_chars: int = 2000) -> str | None:
    """The item's text: the cleaned ``names`` fields in that order, joined by spaces; a field longer than
    ``max_field_chars`` is dropped (as the field's convention does). None when nothing is left."""
    parts = [clean_text(fields.get(name)) for name in names]
    text = " ".join(p for p in parts if p and len(p) <= max_field_chars)
    return text or None


def _number_text(text: str) -> str:
    """``text`` with thousands separators removed and a decimal comma made a point: "1,299" -> "1299",
    "5,99" -> "5.99", "1.299,00" -> "1299.00", "1,299.99" -> "1299.99"."""
    if _DECIMAL_COMMA.search(text) and text.rfind(",") > text.rfind("."):
        return text.replace(".", "").replace(",", ".")
    return text.replace(",", "")


def parse_price(value) -> float | None:
    """A price as a number: ``12.5``, ``"$1,299"``, ``"USD 5"``, ``"€5,99"``, a range ``"$5.99 - $12.00"``
    (its midpoint; an en or em dash works too).

    Empty or missing gives None; text without a usable number raises ValueError.
    """
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        price = float(value)
    else:
        text = str(value).strip().replace("\u2013", "-").replace("\u2014", "-")
        if not text:
            return None
        numbers = _NUMBER.findall(_number_text(text))
        if text.lstrip("$ ").startswith("-"):
            raise ValueError(f"a price must be >= 0, not {text!r}")
        if not numbers or len(numbers) > 2 or (len(numbers) == 2 and "-" not in text):
            raise ValueError(f"cannot read a price from {text!r}")
        price = sum(float(n) for n in numbers) / len(numbers)
    if not math.isfinite(price) or price < 0:
        raise ValueError(f"a price must be a finite number >= 0, not {value!r}")
    return price


class BadRows:
    """The importer's policy for bad input: strict (default) raises a ``DataError`` naming the file and line;
    lenient skips the row and counts it by reason, for the data summary."""

    def __init__(self, lenient: bool):
        self.lenient = lenient
        self.skipped: Counter[str] = Counter()

    def report(self, reason: str, path: Path | str, line: int | None, detail: str) -> None:
        if not self.lenient:
            where = f"{path}, line {line}" if line is not None else str(path)
            raise DataError(f"{where}: {detail} (set 'lenient: true' on the data source to skip such rows)")
        self.skipped[reason] += 1

    def counts(self) -> dict[str, int]:
        return {f"skipped: {reason}": n for reason, n in sorted(self.skipped.items())}


def price_or_report(bad: BadRows, value, path: Path | str, line: int | None) -> float | None:
    """``parse_price(value)``; a price it cannot read is reported to ``bad`` (the row is kept, without a price)."""
    try:
        return parse_price(value)
    except ValueError as error:
        bad.report("unparsable price (kept as missing)", path, line, str(error))
        return None


def fingerprint_files(source: str, domain: str, config: ComponentConfig, paths: Iterable[Path]) -> str:
    """A hash of the settings and of the files' names and contents."""
    digest = hashlib.sha256(config.model_dump_json().encode())
    for path in paths:
        digest.update(path.name.encode())
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return f"{source}:{domain}:{digest.hexdigest()}"


def data_folder(path: str | Path, source: str) -> Path:
    """The folder a data source reads (``~`` expanded); a missing folder or a file in its place is an error."""
    try:
        root = Path(path).expanduser()
    except RuntimeError:  # "~user/..." of a user without a home folder here
        raise DataError(f"data source '{source}': folder {path}: cannot expand '~' (no such user's home)") from None
    if root.is_file():
        raise DataError(f"data source '{source}': {root} is a file, not a folder")
    if not root.is_dir():
        raise DataError(f"data source '{source}': folder {root} does not exist")
    return root
