"""Amazon Reviews 2018 raw files (J. Ni, J. Li & J. McAuley, EMNLP 2019), and the 2014 release's (McAuley et al.,
SIGIR 2015; He & McAuley, WWW 2016).

A domain is a category: in the folder ``path``, its reviews are the first of ``NAME.json.gz``, ``NAME.json``,
``NAME_5.json.gz``, ``NAME_5.json`` (5-core), ``reviews_NAME.json.gz``, ``reviews_NAME_5.json.gz`` (2014), and
its metadata ``meta_NAME.json.gz`` or ``meta_NAME.json``. Review lines are JSON objects (``reviewerID``, ``asin``,
``unixReviewTime`` in seconds or else ``reviewTime`` like "09 13, 2009"); meta lines are JSON objects (2018) or
Python dict literals (2014).
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from pydantic import Field

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
from antkit.data.parsing import data_folder, fingerprint_files

REVIEW_FILES = ("{}.json.gz", "{}.json", "{}_5.json.gz", "{}_5.json", "reviews_{}.json.gz", "reviews_{}_5.json.gz")
META_FILES = ("meta_{}.json.gz", "meta_{}.json")


class Amazon2018Config(AmazonConfig):
    path: Path = Field(description="folder with the category files (NAME.json.gz and meta_NAME.json.gz)")


def review_time(row: dict) -> float:
    """Seconds since the epoch: ``unixReviewTime``, else the date ``reviewTime`` (midnight UTC)."""
    if row.get("unixReviewTime") is not None:
        return timestamp(row["unixReviewTime"])
    date = str(row["reviewTime"]).strip()
    try:
        return datetime.strptime(date, "%m %d, %Y").replace(tzinfo=timezone.utc).timestamp()
    except ValueError:
        raise ValueError(f"reviewTime {date!r} is not a date like '09 13, 2009'") from None


class Amazon2018Source(AmazonSource):
    """Categories of the Amazon Reviews 2018 (or 2014) release, from the raw reviews and meta files."""

    name = "amazon2018"
    description = "Amazon Reviews 2018/2014 raw files (NAME.json.gz, meta_NAME.json.gz) in a folder"
    Config = Amazon2018Config
    review_files, meta_files = REVIEW_FILES, META_FILES

    def files(self, domain: str) -> tuple[Path, Path]:
        """The reviews file and the meta file of ``domain``."""
        root = data_folder(self.config.path, "amazon2018")
        reviews, meta = first_file([root], REVIEW_FILES, domain), first_file([root], META_FILES, domain)
        if reviews is None or meta is None:
            raise self.missing_file(domain, reviews is None, str(root), root)
        return reviews, meta

    @staticmethod
    def domains(root: Path) -> list[str]:
        """The categories in ``root`` that have both a reviews and a meta file."""
        return sorted(c for c in categories(root, META_FILES) if first_file([root], REVIEW_FILES, c))

    def fingerprint(self, domain: str) -> str:
        return fingerprint_files(self.name, domain, self.config, self.files(domain))

    @staticmethod
    def _items(path: Path, table: ReviewTable) -> None:
        for number, row in json_lines(path, table.bad, literal=True):
            ids = identifiers(row, ("asin",), path, number, table.bad)
            if ids is None:
                continue
            fields = {"title": row.get("title"), "brand": row.get("brand"),
                      "categories": row.get("category", row.get("categories")),  # 2018: a path; 2014: paths
                      "description": joined(row.get("description"))}
            images = urls(row.get("imageURLHighRes")) or urls(row.get("imageURL")) or urls(row.get("imUrl"))
            table.add_item(path, number, ids[0], fields, row.get("price"), images)

    @staticmethod
    def _reviews(path: Path, table: ReviewTable) -> None:
        for number, row in json_lines(path, table.bad):
            ids = identifiers(row, ("reviewerID", "asin"), path, number, table.bad)
            if ids is None:
                continue
            if row.get("unixReviewTime") is None and row.get("reviewTime") is None:
                table.bad.report("line without a required field", path, number, "no 'unixReviewTime' or 'reviewTime'")
                continue
            try:
                seconds = review_time(row)
            except ValueError as error:
                table.bad.report("unparsable timestamp", path, number, str(error))
                continue
            table.add_review(ids[0], ids[1], seconds)
