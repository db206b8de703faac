"""Item text and prices from the strings real metadata holds; the strict and lenient bad-row policy."""

from __future__ import annotations

import pytest

from antkit.data.parsing import BadRows, clean_text, data_folder, item_text, parse_price
from antkit.errors import DataError


@pytest.mark.parametrize("raw, price", [
    ("$5.99", 5.99), ("$1,299", 1299.0), ("$5.99 - $12.00", 8.995), ("USD 12", 12.0), ("12.5", 12.5),
    (".99", 0.99), (7, 7.0), (3.25, 3.25), ("", None), ("   ", None), (None, None),
    ("$5.99 \u2013 $12.00", 8.995), ("\u20ac5,99", 5.99), ("1.299,00", 1299.0), ("$1,299.99", 1299.99),
])
def test_parse_price(raw, price):
    assert parse_price(raw) == pytest.approx(price) if price is not None else parse_price(raw) is None


@pytest.mark.parametrize("raw", ["abc", "$", "1 2 3", "5 10", "-3", float("nan"), float("inf")])
def test_unparsable_prices_raise(raw):
    """No number, more than two, two without a range dash, negative or non-finite: ValueError."""
    with pytest.raises(ValueError):
        parse_price(raw)


def test_clean_text_unescapes_strips_tags_and_joins_category_paths():
    assert clean_text("Tom &amp; Jerry <b>mug</b>\n  big") == "Tom & Jerry mug big"
    assert clean_text([["Office", "Pens"], ["Gifts"]]) == "Office, Pens, Gifts"
    assert clean_text(None) == ""


def test_clean_text_keeps_comparisons_that_are_not_tags():
    """Escaped angle brackets and a "<" before a digit are text; only tags are removed."""
    assert clean_text("Size 5 &lt; 10 mm and 20 &gt; 3 widgets") == "Size 5 < 10 mm and 20 > 3 widgets"
    assert clean_text("Kids toy (ages 3<10) > fun") == "Kids toy (ages 3<10) > fun"
    assert clean_text("a <br/>b <a href='x'>link</a>") == "a b link"


def test_item_text_order_missing_and_long_fields():
    fields = {"title": "Blue pen", "brand": "Inko", "categories": "Office , Pens", "description": "x" * 30}
    assert item_text(fields) == "Blue pen Office , Pens Inko"
    assert item_text(fields, ("brand", "title")) == "Inko Blue pen"
    assert item_text(fields, ("title", "description"), max_field_chars=20) == "Blue pen"  # too long: left out
    assert item_text({"title": "  ", "brand": ""}) is None


def test_bad_rows_strict_names_file_and_line_lenient_counts(tmp_path):
    with pytest.raises(DataError, match=r"items\.item, line 7: bad thing .*lenient: true"):
        BadRows(lenient=False).report("bad", tmp_path / "items.item", 7, "bad thing")
    lenient = BadRows(lenient=True)
    for _ in range(3):
        lenient.report("malformed line", "f", 1, "x")
    lenient.report("unparsable price", "f", 2, "y")
    assert lenient.counts() == {"skipped: malformed line": 3, "skipped: unparsable price": 1}


def test_data_folder_of_an_unknown_user_is_a_clear_error():
    with pytest.raises(DataError, match=r"data source 'recbole': folder ~no-such-user-here/x: cannot expand '~'"):
        data_folder("~no-such-user-here/x", "recbole")
