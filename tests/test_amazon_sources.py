"""Raw Amazon review sources (2014/2018, 2023): content, the metadata convention, bad input, files, registry."""

from __future__ import annotations

import gzip
import json
import socket
from datetime import datetime, timezone
from pathlib import Path

import pytest
from pydantic import ValidationError

from antkit.data.amazon2018 import Amazon2018Source
from antkit.data.amazon2023 import HUB, Amazon2023Source
from antkit.data.processing import process
from antkit.errors import DataError
from antkit.plugins.manager import load_registry

NO_METADATA = "skipped: review of an item without metadata"

META_2018 = [
    {"asin": "A1", "title": "Widget &amp; Co", "brand": "Acme", "category": ["Industrial", "Tools"],
     "price": "$5.99 - $12.00", "imageURL": ["http://img/a1-small.jpg"],
     "imageURLHighRes": ["http://img/a1.jpg", "http://img/a1b.jpg"], "description": ["Line one.", "Line two."]},
    {"asin": "A2", "title": "Gadget", "category": [], "price": "$1,299", "imageURL": ["http://img/a2.jpg"]},
    {"asin": "A3", "title": "", "brand": "", "price": ""},
]
REVIEWS_2018 = [
    {"reviewerID": "u1", "asin": "A2", "unixReviewTime": 1000, "overall": 5.0},
    {"reviewerID": "u1", "asin": "A1", "unixReviewTime": 2000},
    {"reviewerID": "u2", "asin": "A3", "unixReviewTime": 1500},
    {"reviewerID": "u2", "asin": "A1", "reviewTime": "09 13, 2009"},
    {"reviewerID": "u2", "asin": "A2", "unixReviewTime": 1600000000},
    {"reviewerID": "u3", "asin": "A1", "unixReviewTime": 3000},
    {"reviewerID": "u3", "asin": "Z9", "unixReviewTime": 3100},  # no metadata
    {"reviewerID": "u4", "asin": "Z9", "unixReviewTime": 3200},  # no metadata
]
KEPT_2018 = 6

META_2023 = [
    {"parent_asin": "P1", "title": "Desk Lamp", "store": "Lumo", "details": {"Brand": "Lumo Lighting"},
     "categories": ["Home", "Lamps"], "price": 24.99, "description": ["Bright.", "Warm."],
     "images": [{"thumb": "http://t1", "large": "http://l1", "hi_res": "http://h1"},
                {"thumb": "http://t2", "large": "http://l2", "hi_res": None}]},
    {"parent_asin": "P2", "title": "Bulb", "store": "Lumo", "details": {"Color": "white"}, "categories": [],
     "price": None, "images": []},
    {"parent_asin": "P3", "title": "Shade", "store": None, "details": {}, "categories": [], "price": "—",
     "images": []},
]
REVIEWS_2023 = [
    {"user_id": "U1", "parent_asin": "P2", "asin": "P2-red", "timestamp": 1600000000000, "rating": 5.0},
    {"user_id": "U1", "parent_asin": "P1", "asin": "P1", "timestamp": 1600000001000},
    {"user_id": "U2", "parent_asin": "P1", "asin": "P1-b", "timestamp": 1600000002500},
    {"user_id": "U2", "parent_asin": "P3", "asin": "P3", "timestamp": 1600000003000},
    {"user_id": "U3", "parent_asin": "Q9", "asin": "Q9", "timestamp": 1600000004000},  # no metadata
]
KEPT_2023 = 4


def write_lines(path: Path, rows: list) -> Path:
    """One line per row: dicts as JSON, strings as they are; gzip-compressed when the name ends in .gz."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = "".join((row if isinstance(row, str) else json.dumps(row)) + "\n" for row in rows).encode()
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)
    return path


def amazon2018(folder: Path, **settings) -> Amazon2018Source:
    return Amazon2018Source(Amazon2018Source.Config(path=folder, **settings))


def amazon2023(location, **settings) -> Amazon2023Source:
    return Amazon2023Source(Amazon2023Source.Config(location=str(location), **settings))


@pytest.fixture
def folder_2018(tmp_path) -> Path:
    write_lines(tmp_path / "meta_Industrial_and_Scientific.json.gz", META_2018)
    write_lines(tmp_path / "Industrial_and_Scientific.json.gz", REVIEWS_2018)
    return tmp_path


def by_item(raw) -> dict[str, dict]:
    columns = [c for c in raw.items if c != "item_id"]
    return {item: {c: raw.items[c][row] for c in columns} for row, item in enumerate(raw.items["item_id"])}


def test_2018_content(folder_2018):
    raw = amazon2018(folder_2018).load("Industrial_and_Scientific")
    items = by_item(raw)
    assert raw.name == "Industrial_and_Scientific"
    assert items["A1"] == {"text": "Widget & Co Industrial, Tools Acme", "price": pytest.approx((5.99 + 12.0) / 2),
                           "images": ["http://img/a1.jpg", "http://img/a1b.jpg"]}
    assert items["A2"] == {"text": "Gadget", "price": 1299.0, "images": ["http://img/a2.jpg"]}
    assert items["A3"] == {"text": None, "price": None, "images": []}
    september_13 = datetime(2009, 9, 13, tzinfo=timezone.utc).timestamp()
    assert raw.interactions == {"user_id": ["u1", "u1", "u2", "u2", "u2", "u3"],
                                "item_id": ["A2", "A1", "A3", "A1", "A2", "A1"],
                                "timestamp": [1000.0, 2000.0, 1500.0, september_13, 1600000000.0, 3000.0]}
    assert raw.skipped == {NO_METADATA: 2}


def test_text_fields_choose_and_order_the_text(folder_2018):
    raw = amazon2018(folder_2018, text_fields=("description", "title")).load("Industrial_and_Scientific")
    assert raw.items["text"][0] == "Line one. Line two. Widget & Co"
    short = amazon2018(folder_2018, max_field_chars=10).load("Industrial_and_Scientific")
    assert short.items["text"][0] == "Acme"  # title and categories are longer than 10 characters


def test_unknown_text_field_is_a_config_error(tmp_path):
    with pytest.raises(ValidationError, match="text_fields"):
        amazon2018(tmp_path, text_fields=("title", "colour"))


def test_2014_files_with_python_literal_meta(tmp_path):
    meta = ["{'asin': 'B1', 'title': 'Lipstick', 'categories': [['Beauty', 'Makeup'], ['Beauty', 'Lips']], "
            "'imUrl': 'http://img/b1.jpg', 'price': 12.5, 'salesRank': {'Beauty': 5}}",
            "{'asin': 'B2', 'title': 'Mascara', 'description': 'Long lashes'}"]
    write_lines(tmp_path / "meta_Beauty.json.gz", meta)
    write_lines(tmp_path / "reviews_Beauty_5.json.gz", [
        {"reviewerID": "r1", "asin": "B1", "unixReviewTime": 10, "reviewTime": "01 01, 2014"},
        {"reviewerID": "r1", "asin": "B2", "reviewTime": "01 02, 2014"}])
    raw = amazon2018(tmp_path, text_fields=("title", "categories", "description")).load("Beauty")
    assert by_item(raw) == {
        "B1": {"text": "Lipstick Beauty, Makeup, Beauty, Lips", "price": 12.5, "images": ["http://img/b1.jpg"]},
        "B2": {"text": "Mascara Long lashes", "price": None, "images": []}}
    assert raw.interactions["timestamp"] == [10.0, datetime(2014, 1, 2, tzinfo=timezone.utc).timestamp()]


def test_plain_json_and_5_core_names(tmp_path):
    write_lines(tmp_path / "meta_Toys.json", META_2018)
    write_lines(tmp_path / "Toys_5.json", REVIEWS_2018)
    raw = amazon2018(tmp_path).load("Toys")
    assert raw.items["item_id"] == ["A1", "A2", "A3"]
    assert len(raw.interactions["user_id"]) == KEPT_2018


BAD_2018 = [
    ("reviews", "this is not json", "malformed line"),
    ("reviews", "[1, 2]", "malformed line"),
    ("reviews", "[" * 100_000, "malformed line"),  # too deep for Python's json
    ("meta", "[" * 100_000, "malformed line"),  # nor a Python literal
    ("reviews", {"asin": "A1", "unixReviewTime": 5}, "line without a required field"),
    ("reviews", {"reviewerID": "u9", "asin": "A1"}, "line without a required field"),
    ("reviews", {"reviewerID": "u9", "asin": "A1", "unixReviewTime": "soon"}, "unparsable timestamp"),
    ("reviews", {"reviewerID": "u9", "asin": "A1", "reviewTime": "13 45, 2009"}, "unparsable timestamp"),
    ("meta", {"title": "No asin"}, "line without a required field"),
    ("meta", "{'asin': 'A9', 'title': unquoted}", "malformed line"),
    ("meta", {"asin": "A9", "title": "Bad price", "price": "call us"}, "unparsable price (kept as missing)"),
    ("meta", {"asin": "A1", "title": "Second entry"}, "duplicate item metadata (first kept)"),
]


@pytest.mark.parametrize(("target", "line", "reason"), BAD_2018)
def test_2018_bad_input(tmp_path, target, line, reason):
    meta = write_lines(tmp_path / "meta_Tools.json.gz", META_2018 + ([line] if target == "meta" else []))
    reviews = write_lines(tmp_path / "Tools.json.gz", REVIEWS_2018 + ([line] if target == "reviews" else []))
    where = f"{meta}, line {len(META_2018) + 1}" if target == "meta" else f"{reviews}, line {len(REVIEWS_2018) + 1}"
    with pytest.raises(DataError) as error:
        amazon2018(tmp_path).load("Tools")
    assert str(error.value).startswith(where + ":")

    raw = amazon2018(tmp_path, lenient=True).load("Tools")
    assert raw.skipped == {f"skipped: {reason}": 1, NO_METADATA: 2}
    assert len(raw.interactions["user_id"]) == KEPT_2018
    items = by_item(raw)
    assert items["A1"]["text"].startswith("Widget")  # the first entry wins
    if "price" in reason:
        assert items["A9"] == {"text": "Bad price", "price": None, "images": []}


def test_blank_lines_are_ignored_but_counted_in_line_numbers(tmp_path):
    write_lines(tmp_path / "meta_Tools.json", META_2018)
    reviews = write_lines(tmp_path / "Tools.json", [REVIEWS_2018[0], "", "  ", "oops"])
    with pytest.raises(DataError, match=f"{reviews}, line 4: not a JSON object"):
        amazon2018(tmp_path).load("Tools")


@pytest.mark.parametrize("damage", ["truncated", "not gzip"])
def test_corrupt_gzip_names_the_file(folder_2018, damage):
    reviews = folder_2018 / "Industrial_and_Scientific.json.gz"
    data = reviews.read_bytes()
    reviews.write_bytes(data[: len(data) // 2] if damage == "truncated" else b"plain bytes, no gzip header")
    with pytest.raises(DataError, match=f"{reviews}: truncated or corrupt gzip file"):
        amazon2018(folder_2018, lenient=True).load("Industrial_and_Scientific")


def test_2018_unknown_domain_lists_available_ones(folder_2018):
    write_lines(folder_2018 / "meta_Beauty.json.gz", META_2018)
    write_lines(folder_2018 / "reviews_Beauty_5.json.gz", REVIEWS_2018)
    write_lines(folder_2018 / "meta_Orphan.json.gz", META_2018)  # no reviews: not a domain
    with pytest.raises(DataError) as error:
        amazon2018(folder_2018).load("Toys")
    message = str(error.value)
    assert "no reviews file for 'Toys'" in message and "Toys.json.gz" in message
    assert message.endswith("domains there: Beauty, Industrial_and_Scientific")


def test_2018_missing_meta_or_folder(tmp_path):
    write_lines(tmp_path / "Toys.json.gz", REVIEWS_2018)
    with pytest.raises(DataError, match="no meta file for 'Toys'.*meta_Toys.json.gz.*domains there: none"):
        amazon2018(tmp_path).load("Toys")
    with pytest.raises(DataError, match="does not exist"):
        amazon2018(tmp_path / "nowhere").load("Toys")
    with pytest.raises(DataError, match="Toys.json.gz is a file, not a folder"):
        amazon2018(tmp_path / "Toys.json.gz").load("Toys")


def test_fingerprint_follows_files_and_settings(folder_2018):
    source = amazon2018(folder_2018)
    before = source.fingerprint("Industrial_and_Scientific")
    assert source.fingerprint("Industrial_and_Scientific") == before
    assert amazon2018(folder_2018, lenient=True).fingerprint("Industrial_and_Scientific") != before
    write_lines(folder_2018 / "Industrial_and_Scientific.json.gz", REVIEWS_2018[:-1])
    assert source.fingerprint("Industrial_and_Scientific") != before


def test_processing_a_loaded_domain(folder_2018):
    domain = process(amazon2018(folder_2018).load("Industrial_and_Scientific"), min_interactions=2)
    # A3 has one review, so it goes; then u3 has one review left, so u3 goes too.
    assert domain.user_ids == ["u1", "u2"]
    assert domain.item_ids == ["A2", "A1"]
    assert [s.tolist() for s in domain.sequences] == [[1, 2], [2, 1]]  # u2 bought A1 (2009) before A2 (2020)
    assert domain.content["text"] == ["Gadget", "Widget & Co Industrial, Tools Acme"]
    assert domain.stats[NO_METADATA] == 2


@pytest.fixture
def folder_2023(tmp_path) -> Path:
    write_lines(tmp_path / "meta_Home.jsonl", META_2023)
    write_lines(tmp_path / "Home.jsonl", REVIEWS_2023)
    return tmp_path


EXPECTED_2023 = {
    "P1": {"text": "Desk Lamp Home, Lamps Lumo Lighting", "price": 24.99, "images": ["http://h1", "http://l2"]},
    "P2": {"text": "Bulb Lumo", "price": None, "images": []},
    "P3": {"text": "Shade", "price": None, "images": []},
}


def test_2023_content(folder_2023):
    raw = amazon2023(folder_2023).load("Home")
    assert by_item(raw) == EXPECTED_2023
    assert raw.interactions == {"user_id": ["U1", "U1", "U2", "U2"], "item_id": ["P2", "P1", "P1", "P3"],
                                "timestamp": [1600000000.0, 1600000001.0, 1600000002.5, 1600000003.0]}
    assert raw.skipped == {NO_METADATA: 1}
    described = amazon2023(folder_2023, text_fields=("title", "description")).load("Home")
    assert described.items["text"][0] == "Desk Lamp Bright. Warm."


@pytest.mark.parametrize(("suffix", "reader"), [(".jsonl.gz", "python"), (".jsonl", "datasets"),
                                                (".jsonl.gz", "datasets")])
def test_2023_hub_layout(tmp_path, suffix, reader):
    write_lines(tmp_path / "raw" / "meta_categories" / f"meta_Home{suffix}", META_2023)
    write_lines(tmp_path / "raw" / "review_categories" / f"Home{suffix}", REVIEWS_2023)
    raw = amazon2023(tmp_path, reader=reader).load("Home")
    expected = amazon2023(tmp_path, reader="python").load("Home") if reader == "datasets" else None
    assert by_item(raw) == EXPECTED_2023
    assert raw.interactions["item_id"] == ["P2", "P1", "P1", "P3"]
    assert raw.skipped == {NO_METADATA: 1}
    if expected is not None:
        assert (raw.items, raw.interactions) == (expected.items, expected.interactions)


BAD_2023 = [
    ("reviews", "{not json", "malformed line"),
    ("reviews", "[" * 100_000, "malformed line"),
    ("reviews", '{"user_id": "U9", "parent_asin": "P1", "timestamp": ' + "1" * 5000 + "}", "malformed line"),
    ("reviews", {"user_id": "U9", "timestamp": 5}, "line without a required field"),
    ("reviews", {"user_id": "U9", "parent_asin": "P1"}, "line without a required field"),
    ("reviews", {"user_id": "U9", "parent_asin": "P1", "timestamp": "yesterday"}, "unparsable timestamp"),
    ("meta", {"parent_asin": "P9", "title": "Odd", "price": "call us"}, "unparsable price (kept as missing)"),
    ("meta", {"parent_asin": "P1", "title": "Again"}, "duplicate item metadata (first kept)"),
]


@pytest.mark.parametrize(("target", "line", "reason"), BAD_2023)
def test_2023_bad_input(tmp_path, target, line, reason):
    meta = write_lines(tmp_path / "meta_Home.jsonl.gz", META_2023 + ([line] if target == "meta" else []))
    reviews = write_lines(tmp_path / "Home.jsonl.gz", REVIEWS_2023 + ([line] if target == "reviews" else []))
    where = f"{meta}, line {len(META_2023) + 1}" if target == "meta" else f"{reviews}, line {len(REVIEWS_2023) + 1}"
    with pytest.raises(DataError) as error:
        amazon2023(tmp_path).load("Home")
    assert str(error.value).startswith(where + ":")

    raw = amazon2023(tmp_path, lenient=True).load("Home")
    assert raw.skipped == {f"skipped: {reason}": 1, NO_METADATA: 1}
    assert len(raw.interactions["user_id"]) == KEPT_2023
    assert by_item(raw)["P1"]["text"].startswith("Desk Lamp")


def test_2023_images_that_are_not_a_list_give_none(tmp_path):
    odd = [{"parent_asin": "P4", "images": 5}, {"parent_asin": "P5", "images": "http://x"},
           {"parent_asin": "P6", "images": [5, None, ["http://n"], "http://s", {"large": "http://l"}]}]
    write_lines(tmp_path / "meta_Home.jsonl", META_2023 + odd)
    write_lines(tmp_path / "Home.jsonl", REVIEWS_2023)
    items = by_item(amazon2023(tmp_path).load("Home"))
    assert [items[item]["images"] for item in ("P4", "P5", "P6")] == [[], [], ["http://s", "http://l"]]


def test_2023_datasets_reader_errors(tmp_path):
    write_lines(tmp_path / "meta_Home.jsonl", META_2023)
    reviews = write_lines(tmp_path / "Home.jsonl", [*REVIEWS_2023, {"user_id": "U9", "parent_asin": "P1",
                                                                    "timestamp": "yesterday"}])
    with pytest.raises(DataError, match=f"{reviews}, line 6: timestamp 'yesterday' is not a number"):
        amazon2023(tmp_path, reader="datasets").load("Home")
    write_lines(reviews, [*REVIEWS_2023, "{not json"])  # datasets cannot skip a line it cannot parse
    with pytest.raises(DataError, match=f"{reviews}: datasets cannot read it"):
        amazon2023(tmp_path, reader="datasets", lenient=True).load("Home")


@pytest.mark.parametrize("reader", ["python", "datasets"])
def test_2023_truncated_gzip_names_the_file(tmp_path, reader):
    write_lines(tmp_path / "meta_Home.jsonl", META_2023)
    reviews = write_lines(tmp_path / "Home.jsonl.gz", REVIEWS_2023 * 50)
    reviews.write_bytes(reviews.read_bytes()[:-20])
    with pytest.raises(DataError, match=f"{reviews}: "):
        amazon2023(tmp_path, reader=reader).load("Home")


def test_2023_unknown_domain_lists_both_layouts(tmp_path):
    write_lines(tmp_path / "meta_Home.jsonl", META_2023)
    write_lines(tmp_path / "Home.jsonl", REVIEWS_2023)
    write_lines(tmp_path / "raw" / "meta_categories" / "meta_All_Beauty.jsonl.gz", META_2023)
    write_lines(tmp_path / "raw" / "review_categories" / "All_Beauty.jsonl.gz", REVIEWS_2023)
    with pytest.raises(DataError) as error:
        amazon2023(tmp_path).load("Toys")
    assert "no reviews file for 'Toys'" in str(error.value)
    assert str(error.value).endswith("domains there: All_Beauty, Home")


def test_2023_fingerprint_follows_files(folder_2023):
    source = amazon2023(folder_2023)
    before = source.fingerprint("Home")
    write_lines(folder_2023 / "meta_Home.jsonl", META_2023[:2])
    assert source.fingerprint("Home") != before


def test_2023_hub_location(monkeypatch):
    import datasets
    import huggingface_hub

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    source = Amazon2023Source(Amazon2023Source.Config())
    assert source.config.location == HUB
    meta = f"{HUB}/raw/meta_categories/meta_All_Beauty.jsonl"
    assert source.files("All_Beauty") == (f"{HUB}/raw/review_categories/All_Beauty.jsonl", meta)
    assert source.fingerprint("All_Beauty") != source.fingerprint("Home")
    with pytest.raises(DataError, match=f"{meta}: datasets cannot read it"):
        source.load("All_Beauty")
    with pytest.raises(ValidationError, match="reader: datasets"):
        amazon2023(HUB, reader="python")


def test_2023_unreachable_hub_is_named(tmp_path, monkeypatch):
    import datasets
    from hub_server import point_client_at

    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"
    point_client_at(monkeypatch, url, tmp_path / "hf-home")
    monkeypatch.setattr(datasets.config, "HF_ENDPOINT", url)
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", False)
    meta = "hf://datasets/x/y/raw/meta_categories/meta_Home.jsonl"
    with pytest.raises(DataError, match=f"^{meta}: the Hub at {url} cannot be reached .*check the network"):
        amazon2023("hf://datasets/x/y").load("Home")


def test_registry_lists_both_sources():
    registry = load_registry(entry_point_plugins=False)
    assert {"amazon2018", "amazon2023"} <= set(registry.names("data_source"))
    assert registry.get("data_source", "amazon2018") is Amazon2018Source
    assert registry.get("data_source", "amazon2023") is Amazon2023Source
