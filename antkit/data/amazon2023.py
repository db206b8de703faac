"""Amazon Reviews 2023 (Y. Hou, J. Li, Z. He, A. Yan, X. Chen & J. McAuley, "Bridging Language and Items for
Retrieval and Recommendation", 2024), as the McAuley lab distributes it.

A domain is a category: reviews ``NAME.jsonl`` (or ``.jsonl.gz``) and metadata ``meta_NAME.jsonl`` (or
``.jsonl.gz``), directly in the folder ``location`` or in the hub dataset's layout ``raw/review_categories/`` and
``raw/meta_categories/``. Items are keyed by ``parent_asin`` (``asin`` is a variant); review ``timestamp``s are
milliseconds, stored as seconds.

``location: hf://datasets/McAuley-Lab/Amazon-Reviews-2023`` (the default) streams the public hub dataset through
``datasets``. The hub is not reachable from the test machines, so that path is tested only with local files in the
same layout (``reader: datasets``).
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from antkit.data.amazon import (
    AmazonConfig,
    AmazonSource,
    ReviewTable,
    categories,
    first_file,
    identifiers,
    joined,
    json_lines,
    timestamp,
    urls,
)
from antkit.data.parsing import BadRows, data_folder, fingerprint_files
from antkit.errors import DataError

HUB = "hf://datasets/McAuley-Lab/Amazon-Reviews-2023"
REVIEW_FOLDER, META_FOLDER = "raw/review_categories", "raw/meta_categories"
REVIEW_FILES = ("{}.jsonl", "{}.jsonl.gz")
META_FILES = ("meta_{}.jsonl", "meta_{}.jsonl.gz")
NO_PRICE = ("—", "None")  # what the release writes for "no price"


class Amazon2023Config(AmazonConfig):
    location: str = Field(HUB, description="a folder with the category files, or an hf:// dataset in the hub layout")
    reader: Literal["python", "datasets"] | None = Field(
        None, description="how files are read: python (default for a folder) or datasets (default for hf://)")

    @model_validator(mode="after")
    def _hub_needs_datasets(self):
        if self.location.startswith("hf://") and self.reader == "python":
            raise ValueError("an hf:// location can only be read with reader: datasets")
        return self


def dataset_rows(file: str) -> Iterator[tuple[int, dict]]:
    """(row number, object) for each line of a JSON-lines file, local or hf://, streamed by ``datasets``.

    Rows are numbered as lines when the file has no blank lines; a malformed line stops the reading.
    """
    import datasets  # slow to import, and only this reader needs it
    from huggingface_hub import constants
    from huggingface_hub.utils import httpx

    try:
        yield from enumerate(datasets.load_dataset("json", data_files=file, split="train", streaming=True), start=1)
    except httpx.TransportError as error:  # no connection (the Hub's HTTP errors are OSErrors)
        raise DataError(f"{file}: the Hub at {constants.ENDPOINT} cannot be reached ({error}); check the network "
                        "or HF_ENDPOINT") from None
    except (OSError, ValueError, EOFError, zlib.error) as error:
        raise DataError(f"{file}: datasets cannot read it ({type(error).__name__}: {error})") from None


def image_urls(images) -> list[str]:
    """The best URL of each image: ``hi_res``, else ``large``, else ``thumb`` (an entry may be the URL itself);
    anything but a list gives none."""
    if not isinstance(images, list):
        return []
    return urls([image.get("hi_res") or image.get("large") or image.get("thumb") if isinstance(image, dict)
                 else image for image in images])


class Amazon2023Source(AmazonSource):
    """Categories of the Amazon Reviews 2023 release, from a local folder or the hub dataset."""

    name = "amazon2023"
    description = "Amazon Reviews 2023 (NAME.jsonl, meta_NAME.jsonl) in a folder or the McAuley-Lab hub dataset"
    Config = Amazon2023Config
    review_files, meta_files = REVIEW_FILES, META_FILES

    @property
    def on_hub(self) -> bool:
        return self.config.location.startswith("hf://")

    def files(self, domain: str) -> tuple[Path | str, Path | str]:
        """The reviews file and the meta file of ``domain`` (hf:// addresses for a hub location)."""
        if self.on_hub:
            base = self.config.location.rstrip("/")
            return f"{base}/{REVIEW_FOLDER}/{domain}.jsonl", f"{base}/{META_FOLDER}/meta_{domain}.jsonl"
        root = data_folder(self.config.location, "amazon2023")
        reviews = first_file([root, root / REVIEW_FOLDER], REVIEW_FILES, domain)
        meta = first_file([root, root / META_FOLDER], META_FILES, domain)
        if reviews is None or meta is None:
            folder = REVIEW_FOLDER if reviews is None else META_FOLDER
            raise self.missing_file(domain, reviews is None, f"{root} or {root / folder}", root)
        return reviews, meta

    @staticmethod
    def domains(root: Path) -> list[str]:
        """The categories in ``root`` (either layout) that have both a reviews and a meta file."""
        described = categories(root, META_FILES) | categories(root / META_FOLDER, META_FILES)
        return sorted(c for c in described if first_file([root, root / REVIEW_FOLDER], REVIEW_FILES, c))

    def fingerprint(self, domain: str) -> str:
        if self.on_hub:  # the hub's files are not hashed: that would mean downloading them
            return f"{self.name}:{domain}:{hashlib.sha256(self.config.model_dump_json().encode()).hexdigest()}"
        return fingerprint_files(self.name, domain, self.config, self.files(domain))

    def _rows(self, file: Path | str, bad: BadRows) -> Iterator[tuple[int, dict]]:
        reader = self.config.reader or ("datasets" if self.on_hub else "python")
        return dataset_rows(str(file)) if reader == "datasets" else json_lines(Path(file), bad)

    def _items(self, path: Path | str, table: ReviewTable) -> None:
        for number, row in self._rows(path, table.bad):
            ids = identifiers(row, ("parent_asin",), path, number, table.bad)
            if ids is None:
                continue
            details = row.get("details")
            brand = details.get("Brand") if isinstance(details, dict) else None
            fields = {"title": row.get("title"), "categories": row.get("categories"),
                      "brand": brand or row.get("store"), "description": joined(row.get("description"))}
            price = None if row.get("price") in NO_PRICE else row.get("price")
            table.add_item(path, number, ids[0], fields, price, image_urls(row.get("images")))

    def _reviews(self, path: Path | str, table: ReviewTable) -> None:
        for number, row in self._rows(path, table.bad):
            ids = identifiers(row, ("user_id", "parent_asin", "timestamp"), path, number, table.bad)
            if ids is None:
                continue
            try:
                seconds = timestamp(ids[2], per_second=1000)
            except ValueError as error:
                table.bad.report("unparsable timestamp", path, number, str(error))
                continue
            table.add_review(ids[0], ids[1], seconds)
