"""RecBole atomic files: ``NAME.inter`` and ``NAME.item``, tab-separated with ``field:type`` headers, plus
optional precomputed image vectors ``NAME.image.npy`` whose row order is ``NAME.image_ids.txt``.

A domain ``NAME`` lives in ``PATH/NAME/`` (one folder per domain, as RecBole's dataset folders) or directly
in ``PATH``. Interactions need ``user_id`` and ``item_id``; ``timestamp`` is optional (file order then).
Items need ``item_id``; the text comes from the configured fields, ``price`` is parsed, and an ``images`` /
``image_url`` / ``imUrl`` column gives space-separated image paths (relative to the folder) or URLs.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from pydantic import Field

from antkit.components.base import ComponentConfig, DataSource
from antkit.data.domain import RawDomain
from antkit.data.parsing import (
    DEFAULT_TEXT_FIELDS,
    BadRows,
    data_folder,
    fingerprint_files,
    item_text,
    price_or_report,
)
from antkit.errors import DataError

IMAGE_COLUMNS = ("images", "image_url", "imUrl")


class RecBoleConfig(ComponentConfig):
    path: Path = Field(description="folder with one sub-folder per domain (NAME/NAME.inter), or the files themselves")
    text_fields: tuple[str, ...] = Field(DEFAULT_TEXT_FIELDS, min_length=1, description="item fields joined into its text")
    max_field_chars: int = Field(2000, ge=1, description="a text field longer than this is left out")
    lenient: bool = Field(False, description="skip and count bad rows instead of stopping at the first")


def _rows(path: Path, bad: BadRows, required: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, {field: value}) for each data row of an atomic file whose header has the ``required``
    columns; an empty file has no rows."""
    try:
        handle = path.open("rb")
    except OSError as error:
        raise DataError(f"{path}: cannot be read ({error.strerror})") from None
    with handle:
        first = handle.readline()
        if not first:
            return
        names = _header(path, first)
        _require(path, names, required, first)
        for number, raw in enumerate(handle, start=2):
            try:
                line = raw.decode("utf-8").rstrip("\r\n")
            except UnicodeDecodeError:
                bad.report("undecodable line", path, number, "not UTF-8 text")
                continue
            if not line.strip():
                continue
            values = line.split("\t")
            if len(values) != len(names):
                bad.report("malformed line", path, number, f"{len(values)} tab-separated fields, the header has {len(names)}")
                continue
            yield number, dict(zip(names, values))


def _header(path: Path, line: bytes) -> list[str]:
    """The column names of a header line, without their types; a leading BOM is dropped."""
    try:
        text = line.decode("utf-8-sig").rstrip("\r\n")
    except UnicodeDecodeError:
        raise DataError(f"{path}, line 1: the header is not UTF-8 text") from None
    names = [column.split(":", 1)[0].strip() for column in text.split("\t")]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise DataError(f"{path}, line 1: the header has the column {', '.join(map(repr, repeated))} more than once")
    return names


def _require(path: Path, names: list[str], fields: tuple[str, ...], header: bytes) -> None:
    """Refuse a header (the raw first line) without ``fields``; one separated by commas or semicolons gets a hint."""
    missing = [f for f in fields if f not in names]
    if missing:
        marks = [name for mark, name in ((b",", "commas"), (b";", "semicolons")) if mark in header]
        hint = "" if b"\t" in header or not marks else (
            f"; RecBole atomic files are tab-separated, and this header has {marks[0]} but no tab: separate its "
            "columns with tabs")
        raise DataError(f"{path}: the header has no {', '.join(missing)} column (it has: {', '.join(names)}){hint}")


def _require_rows(path: Path, rows: list, what: str) -> None:
    if not rows:
        raise DataError(f"{path}: the file has no {what} (no usable data line)")


def _read_text(path: Path) -> str:
    """A whole UTF-8 file (a leading BOM dropped); a byte that is not UTF-8 is an error naming its line."""
    try:
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = error.object[:error.start].count(b"\n") + 1
        raise DataError(f"{path}, line {line}: not UTF-8 text") from None


def _read_array(path: Path, ids_path: Path) -> np.ndarray:
    """The 2-D array of numbers in the .npy file ``path``; anything else is an error saying what is expected.

    The header is checked before the data are read: a shape the file is too small for is an error.
    """
    expected = f"expected a 2-D float array, one row per id in {ids_path.name}"
    npy = np.lib.format
    try:
        with path.open("rb") as handle:
            read_header = npy.read_array_header_1_0 if npy.read_magic(handle) == (1, 0) else npy.read_array_header_2_0
            shape, _, dtype = read_header(handle)
            if len(shape) != 2 or dtype.kind not in "fiu":
                raise DataError(f"{path}: holds a {len(shape)}-D array of {dtype} ({expected})")
            if shape[1] == 0:
                raise DataError(f"{path}: holds an array of shape {shape}, vectors of width 0 ({expected})")
            size, stored = math.prod(shape) * dtype.itemsize, path.stat().st_size - handle.tell()
            if size > stored:
                raise DataError(f"{path}: its header says shape {shape} of {dtype} ({size} bytes), but the file "
                                f"holds {stored} bytes of data (truncated or damaged)")
            handle.seek(0)
            return npy.read_array(handle, allow_pickle=False)
    except (OSError, ValueError, EOFError):
        raise DataError(f"{path}: not a readable .npy array ({expected})") from None


class RecBoleSource(DataSource):
    """Domains stored as RecBole atomic files (the layout of UniSRec's and RecBole's processed datasets)."""

    name = "recbole"
    description = "RecBole atomic files (NAME.inter, NAME.item, optional NAME.image.npy) in a folder"
    Config = RecBoleConfig

    def folder(self, domain: str) -> Path:
        root = data_folder(self.config.path, "recbole")
        for folder in (root / domain, root):
            if (folder / f"{domain}.inter").is_file():
                return folder
            if (folder / f"{domain}.inter").exists():
                raise DataError(f"data source 'recbole': {folder / f'{domain}.inter'} is not a file")
        available = sorted(p.stem for p in root.glob("*/*.inter") if p.parent.name == p.stem) or sorted(
            p.stem for p in root.glob("*.inter"))
        raise DataError(f"data source 'recbole': no {domain}.inter in {root} or {root / domain}; "
                        f"domains there: {', '.join(available) or 'none'}")

    def files(self, domain: str) -> list[Path]:
        folder = self.folder(domain)
        names = (f"{domain}.inter", f"{domain}.item", f"{domain}.image.npy", f"{domain}.image_ids.txt")
        return [folder / name for name in names if (folder / name).is_file()]

    def fingerprint(self, domain: str) -> str:
        return fingerprint_files("recbole", domain, self.config, self.files(domain))

    def load(self, domain: str) -> RawDomain:
        folder = self.folder(domain)
        bad = BadRows(self.config.lenient)
        items = self._items(folder / f"{domain}.item", bad)
        vectors = self._image_vectors(folder, domain, items["item_id"], bad)
        if vectors is not None:
            items["image_vector"] = vectors
        interactions = self._interactions(folder / f"{domain}.inter", set(items["item_id"]), bad)
        return RawDomain(domain, items, interactions, bad.counts())

    def _items(self, path: Path, bad: BadRows) -> dict[str, list]:
        if not path.is_file():
            problem = "is not a file" if path.exists() else "is missing"
            raise DataError(f"data source 'recbole': {path} {problem} (items need their content)")
        items: dict[str, list] = {"item_id": [], "text": [], "price": []}
        seen: set[str] = set()
        named = self.config.text_fields if "text_fields" in self.config.model_fields_set else ()
        for number, row in _rows(path, bad, ("item_id", *named)):
            item = row["item_id"].strip()
            if not item or item in seen:
                bad.report("duplicate or empty item id", path, number, f"item id {item!r} is empty or repeated")
                continue
            price = price_or_report(bad, row.get("price"), path, number)
            seen.add(item)
            items["item_id"].append(item)
            items["text"].append(item_text(row, self.config.text_fields, self.config.max_field_chars))
            items["price"].append(price)
            column = next((c for c in IMAGE_COLUMNS if c in row), None)
            if column is not None:
                items.setdefault("images", []).append(
                    [ref if "://" in ref else str(path.parent / ref) for ref in row[column].split()])
        _require_rows(path, items["item_id"], "items")
        return items

    def _image_vectors(self, folder: Path, domain: str, item_ids: list[str], bad: BadRows) -> list | None:
        array_path, ids_path = folder / f"{domain}.image.npy", folder / f"{domain}.image_ids.txt"
        if not array_path.exists() and not ids_path.exists():
            return None
        if not (array_path.is_file() and ids_path.is_file()):
            raise DataError(f"{folder}: {array_path.name} and {ids_path.name} go together; one of them is missing")
        array = _read_array(array_path, ids_path)
        ids = _read_text(ids_path).split("\n")
        ids = ids[:-1] if ids and ids[-1] == "" else ids
        if len(array) != len(ids):
            raise DataError(f"{array_path}: shape {array.shape} does not match the {len(ids)} lines of {ids_path.name}")
        rows = {item: row for row, item in enumerate(item_ids)}
        vectors: list = [None] * len(item_ids)
        seen: dict[str, int] = {}
        for number, item in enumerate(ids, start=1):
            item = item.strip()
            if item not in rows:
                bad.report("image vector of an unknown item", ids_path, number, f"item {item!r} is not in {domain}.item")
                continue
            if item in seen:
                bad.report("repeated image vector", ids_path, number, f"item {item!r} is repeated (first on line {seen[item]})")
                continue
            seen[item] = number
            vector = array[number - 1].astype(np.float32)
            if not np.isfinite(vector).all():
                bad.report("non-finite image vector", array_path, number, f"the vector of item {item!r} is not finite")
                continue
            vectors[rows[item]] = vector.tolist()
        return vectors

    def _interactions(self, path: Path, known: set[str], bad: BadRows) -> dict[str, list]:
        columns: dict[str, list] = {"user_id": [], "item_id": [], "timestamp": []}
        for number, row in _rows(path, bad, ("user_id", "item_id")):
            user, item = row["user_id"].strip(), row["item_id"].strip()
            if item not in known:
                bad.report("interaction with an unknown item", path, number, f"item {item!r} is not in the .item file")
                continue
            timestamp = float(number)  # no timestamp column: the file's order
            if "timestamp" in row:
                try:
                    timestamp = float(row["timestamp"])
                    if not math.isfinite(timestamp):
                        raise ValueError
                except ValueError:
                    bad.report("unparsable timestamp", path, number, f"timestamp {row['timestamp']!r} is not a number")
                    continue
            columns["user_id"].append(user)
            columns["item_id"].append(item)
            columns["timestamp"].append(timestamp)
        _require_rows(path, columns["user_id"], "interactions")
        return columns
