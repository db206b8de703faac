"""What the raw Amazon review releases share: JSON-lines files (plain or gzip), their settings, and the field's
convention (UniSRec, ANT) for turning reviews and metadata into a raw domain: the first metadata entry of
each item is kept, and reviews of items without metadata are dropped and counted."""

from __future__ import annotations

import ast
import gzip
import json
import math
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field

from antkit.components.base import ComponentConfig, DataSource
from antkit.data.domain import RawDomain
from antkit.data.parsing import DEFAULT_TEXT_FIELDS, BadRows, item_text, price_or_report
from antkit.errors import DataError

TextField = Literal["title", "categories", "brand", "description"]
NO_METADATA = "review of an item without metadata"


class AmazonConfig(ComponentConfig):
    text_fields: tuple[TextField, ...] = Field(
        DEFAULT_TEXT_FIELDS, min_length=1, description="item fields joined into its text, in this order")
    max_field_chars: int = Field(2000, ge=1, description="a text field longer than this is left out")
    lenient: bool = Field(False, description="skip and count bad lines instead of stopping at the first")


def first_file(folders: Iterable[Path], names: Iterable[str], domain: str) -> Path | None:
    """The first existing file among ``names`` (patterns filled with ``domain``) in ``folders``, in that order."""
    for folder in folders:
        for name in names:
            if (folder / name.format(domain)).is_file():
                return folder / name.format(domain)
    return None


def categories(folder: Path, names: Iterable[str]) -> set[str]:
    """The categories that have a file in ``folder`` named by one of ``names`` (``{}`` stands for the category)."""
    found = set()
    for name in names:
        prefix, suffix = name.split("{}")
        found |= {path.name[len(prefix):-len(suffix)] for path in folder.glob(f"{prefix}*{suffix}")}
    return found


def json_lines(path: Path, bad: BadRows, literal: bool = False) -> Iterator[tuple[int, dict]]:
    """(line number, object) for each non-blank line of a JSON-lines file, gzip-compressed if its name ends in .gz.

    With ``literal``, a line that is not JSON may be a Python dict literal (the 2014 meta files).
    """
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as handle:
            for number, raw in enumerate(handle, start=1):
                if not raw.strip():
                    continue
                row = _parse_line(raw, literal)
                if isinstance(row, dict):
                    yield number, row
                else:
                    kind = "a JSON object or a Python dict" if literal else "a JSON object"
                    bad.report("malformed line", path, number, f"not {kind}: {raw[:80].decode(errors='replace')!r}")
    except (EOFError, zlib.error, gzip.BadGzipFile) as error:
        raise DataError(f"{path}: truncated or corrupt gzip file ({error})") from None
    except OSError as error:
        raise DataError(f"{path}: cannot be read ({error.strerror or error})") from None


def _parse_line(raw: bytes, literal: bool):
    """The line's value, or None when it is neither JSON nor (with ``literal``) a Python literal, or when Python
    cannot hold it (nested too deep, a number of thousands of digits)."""
    try:
        text = raw.decode("utf-8")
        return json.loads(text)
    except UnicodeDecodeError:
        return None
    except (ValueError, RecursionError):  # a JSONDecodeError is a ValueError
        if not literal:
            return None
    try:
        return ast.literal_eval(text.strip())
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None


def identifiers(row: dict, keys: tuple[str, ...], path: Path | str, number: int, bad: BadRows) -> list[str] | None:
    """The values of ``keys`` as non-empty strings, or None (reported) when one is missing or empty."""
    values = []
    for key in keys:
        value = row.get(key)
        text = "" if value is None else str(value).strip()
        if not text:
            bad.report("line without a required field", path, number, f"no {key!r}")
            return None
        values.append(text)
    return values


def timestamp(value, per_second: float = 1.0) -> float:
    """A time in seconds from a number (or numeric string) counting ``per_second`` units per second."""
    try:
        seconds = float(value) / per_second
    except (TypeError, ValueError):
        raise ValueError(f"timestamp {value!r} is not a number") from None
    if not math.isfinite(seconds):
        raise ValueError(f"timestamp {value!r} is not finite")
    return seconds


def joined(value) -> str | None:
    """A list of paragraphs (a description) as one string, joined by spaces."""
    if isinstance(value, (list, tuple)):
        return " ".join(str(part) for part in value if part)
    return value


def urls(value) -> list[str]:
    """Image URLs from one URL or a list of them; anything else gives none."""
    if isinstance(value, str):
        return [value] if value.strip() else []
    if isinstance(value, (list, tuple)):
        return [url for url in value if isinstance(url, str) and url.strip()]
    return []


class ReviewTable:
    """Collects items and reviews under the field's convention, then gives the raw domain."""

    def __init__(self, config: AmazonConfig, bad: BadRows):
        self.config = config
        self.bad = bad
        self.items: dict[str, list] = {"item_id": [], "text": [], "price": [], "images": []}
        self.interactions: dict[str, list] = {"user_id": [], "item_id": [], "timestamp": []}
        self.known: set[str] = set()

    def add_item(self, path: Path | str, number: int, item: str, fields: dict, price, images: list[str]) -> None:
        """``fields``: the raw text fields by the names of ``text_fields``; ``price`` as the file writes it."""
        if item in self.known:
            self.bad.report("duplicate item metadata (first kept)", path, number, f"item {item!r} is described again")
            return
        price = price_or_report(self.bad, price, path, number)
        self.known.add(item)
        self.items["item_id"].append(item)
        self.items["text"].append(item_text(fields, self.config.text_fields, self.config.max_field_chars))
        self.items["price"].append(price)
        self.items["images"].append(images)

    def add_review(self, user: str, item: str, seconds: float) -> None:
        """Keeps the review if its item has metadata, else counts it (the convention, not an error)."""
        if item not in self.known:
            self.bad.skipped[NO_METADATA] += 1
            return
        self.interactions["user_id"].append(user)
        self.interactions["item_id"].append(item)
        self.interactions["timestamp"].append(seconds)

    def domain(self, name: str) -> RawDomain:
        return RawDomain(name, self.items, self.interactions, self.bad.counts())


class AmazonSource(DataSource):
    """What the Amazon releases' sources share: a domain is a reviews file and a meta file, read into a
    ``ReviewTable`` (metadata first, so that reviews of items without it are dropped)."""

    review_files: ClassVar[tuple[str, ...]] = ()  # file name patterns, ``{}`` standing for the domain
    meta_files: ClassVar[tuple[str, ...]] = ()

    def files(self, domain: str) -> tuple[Path | str, Path | str]:
        """The reviews file and the meta file of ``domain``."""
        raise NotImplementedError

    @staticmethod
    def domains(root: Path) -> list[str]:
        """The domains in ``root`` that have both a reviews and a meta file."""
        raise NotImplementedError

    def load(self, domain: str) -> RawDomain:
        reviews, meta = self.files(domain)
        table = ReviewTable(self.config, BadRows(self.config.lenient))
        self._items(meta, table)
        self._reviews(reviews, table)
        return table.domain(domain)

    def _items(self, path: Path | str, table: ReviewTable) -> None:
        raise NotImplementedError

    def _reviews(self, path: Path | str, table: ReviewTable) -> None:
        raise NotImplementedError

    def missing_file(self, domain: str, reviews: bool, where: str, root: Path) -> DataError:
        """The error for a domain without its reviews file (``reviews``) or else its meta file, searched
        for ``where`` (folders, as the message says them) and listing the domains ``root`` has."""
        kind, names = ("reviews", self.review_files) if reviews else ("meta", self.meta_files)
        return DataError(f"data source '{self.name}': no {kind} file for '{domain}' in {where} (looked for "
                         f"{', '.join(n.format(domain) for n in names)}); domains there: "
                         f"{', '.join(self.domains(root)) or 'none'}")
