"""The built-in synthetic domains, their k-core processing, and the on-disk domain cache."""

from __future__ import annotations

import hashlib
import io
import json
from collections import Counter

import numpy as np
import pytest
from PIL import Image

import antkit.data.store as store_module
from antkit.data.processing import k_core, process
from antkit.data.sources import SyntheticConfig, SyntheticSource
from antkit.data.store import prepared_domain, save_domain
from antkit.data.synthetic import COLORS, DOMAINS, KIND_WORDS, KINDS, NOUNS, WorldSettings, generate
from antkit.errors import DataError
from antkit.features.store import content_key

SMALL = WorldSettings(users=200, items_per_cell=1)  # 288 items, ~1800 interactions, fast
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def office():
    return generate("office", 0, SMALL)


def test_deterministic_for_a_seed(office):
    """Same name, seed and settings: identical items (text, price, picture bytes) and interactions."""
    again = generate("office", 0, SMALL)
    assert again.items == office.items
    assert again.interactions == office.interactions


def test_differs_across_seeds(office):
    """Another seed gives other item texts, prices and interactions."""
    other = generate("office", 1, SMALL)
    assert other.items["text"] != office.items["text"]
    assert other.items["price"] != office.items["price"]
    assert other.interactions["item_id"] != office.interactions["item_id"]


def product_words(domain):
    """Each item's words after its colour: the product noun (family 0, "rename"), or collection and kind word."""
    return [text.split(" ", 3)[3] for text in domain.items["text"]]


def test_families_disagree_about_what_content_means(office):
    """Items are generated in the same (kind, colour, tier) order everywhere. Family 0 names each kind with one
    of NOUNS; family 1 ("regroup") borrows those nouns for its collections (one per colour and tier, shared by
    every kind) and names kinds with words of its own, so grouping family 1's items by family 0's nouns groups
    them by collection, not by kind."""
    kitchen, garden = generate("kitchen", 0, SMALL), generate("garden", 0, SMALL)
    assert product_words(kitchen) == product_words(garden)
    assert set(product_words(kitchen)) == set(NOUNS)
    cells = [(kind, colour, tier) for kind in range(KINDS) for colour in range(len(COLORS)) for tier in range(3)]
    collection = {}
    for (kind, colour, tier), words in zip(cells, product_words(office)):
        noun, kind_word = words.split(" ")
        assert noun in NOUNS and kind_word == KIND_WORDS[kind]
        assert collection.setdefault((colour, tier), noun) == noun
    assert len(set(collection.values())) == len(COLORS) * 3
    assert not set(KIND_WORDS) & set(NOUNS)
    assert DOMAINS["kitchen"].look != DOMAINS["office"].look
    assert all(i.startswith("office-") for i in office.items["item_id"])
    assert not set(office.items["item_id"]) & set(kitchen.items["item_id"])


def test_rename_keeps_the_grouping_under_other_names():
    """With words="rename" family 1 names each kind with another noun: the same grouping, other names; the
    interactions are those of "regroup" (only the words differ)."""
    rename = WorldSettings(users=200, items_per_cell=1, words="rename")
    kitchen, office = generate("kitchen", 0, rename), generate("office", 0, rename)
    assert all(a != b for a, b in zip(product_words(kitchen), product_words(office)))
    assert set(product_words(office)) == set(NOUNS)
    kinds_of = {}
    for index, noun in enumerate(product_words(office)):
        kinds_of.setdefault(noun, set()).add(index // (len(COLORS) * 3))
    assert all(len(kinds) == 1 for kinds in kinds_of.values())
    assert generate("office", 0, SMALL).interactions == office.interactions


def test_scatter_names_a_random_series_beside_the_kind(office):
    """With words="scatter" family 1's nouns are regroup's twelve, drawn per item regardless of colour and tier;
    the kind word, the rest of the text, prices, pictures and interactions are regroup's."""
    scatter = generate("office", 0, WorldSettings(users=200, items_per_cell=1, words="scatter"))
    cells = [(colour, tier) for kind in range(KINDS) for colour in range(len(COLORS)) for tier in range(3)]
    series = {}
    for cell, words, regrouped in zip(cells, product_words(scatter), product_words(office)):
        assert words.split(" ")[1] == regrouped.split(" ")[1]
        series.setdefault(cell, set()).add(words.split(" ")[0])
    assert set().union(*series.values()) == {words.split(" ")[0] for words in product_words(office)}
    assert all(len(nouns) > 3 for nouns in series.values())
    assert [t.rsplit(" ", 2)[0] for t in scatter.items["text"]] == [t.rsplit(" ", 2)[0] for t in office.items["text"]]
    assert scatter.items["price"] == office.items["price"] and scatter.items["images"] == office.items["images"]
    assert scatter.interactions == office.interactions


def test_item_counts_and_interactions(office):
    """24 kinds x 4 colours x 3 tiers x items_per_cell items; interactions refer to them, in time order."""
    assert len(office.items["item_id"]) == KINDS * len(COLORS) * 3 * SMALL.items_per_cell
    assert len(set(office.items["item_id"])) == len(office.items["item_id"])
    assert set(office.interactions["item_id"]) <= set(office.items["item_id"])
    per_user = Counter(office.interactions["user_id"])
    assert len(per_user) == SMALL.users and min(per_user.values()) >= 5
    last = {}
    for user, time in zip(office.interactions["user_id"], office.interactions["timestamp"]):
        assert time > last.get(user, -1)
        last[user] = time


def test_images_are_32x32_pngs(office):
    """Every picture is a decodable 32x32 RGB PNG."""
    pictures = [p for images in office.items["images"] for p in images]
    assert len(pictures) > 100
    for data in pictures:
        assert data.startswith(PNG_SIGNATURE)
        image = Image.open(io.BytesIO(data))
        assert image.format == "PNG"
        image.load()
        assert image.size == (32, 32) and image.mode == "RGB"


def test_some_prices_and_images_missing(office):
    """About 10% of items lack a price or a picture by default; none with the rates set to 0."""
    n = len(office.items["item_id"])
    no_price = sum(p is None for p in office.items["price"])
    no_image = sum(not images for images in office.items["images"])
    assert 0.02 * n < no_price < 0.25 * n
    assert 0.02 * n < no_image < 0.25 * n
    assert all(p is None or p > 0 for p in office.items["price"])
    complete = generate("office", 0, WorldSettings(users=10, items_per_cell=1, missing_image=0, missing_price=0))
    assert all(p is not None for p in complete.items["price"])
    assert all(len(images) == 1 for images in complete.items["images"])


def world_digest(domain) -> str:
    """sha256 of a raw domain's ids, texts, prices, interactions and decoded pixels (not the PNG bytes, which
    depend on the zlib build)."""
    digest = hashlib.sha256(json.dumps([domain.items["item_id"], domain.items["text"], domain.items["price"],
                                        domain.interactions]).encode())
    for images in domain.items["images"]:
        for data in images:
            digest.update(np.asarray(Image.open(io.BytesIO(data))).tobytes())
    return digest.hexdigest()


@pytest.mark.parametrize("name, expected", [
    ("office", "f937106b786f177ea230d515170e4ce7ef4dc813150737bc3d4907395f6ac219"),
    ("kitchen", "b256d71d9a9b842ba585959706ff69344c4acdbd31efe744225b1f676baa365e"),
])
def test_rename_is_the_earlier_world_exactly(name, expected):
    """words="rename" generates what the generator of commit 7c0e294 (data VERSION 9) generated, so the runs on
    the earlier world (docs/generated-experiments.md) stay reproducible (digests computed with that commit's code)."""
    assert world_digest(generate(name, 0, WorldSettings(users=200, items_per_cell=1, words="rename"))) == expected


def test_the_default_world_is_unchanged():
    """words="regroup" (the default) generates what it generated when README's tables were measured (VERSION 10;
    digest computed with commit eace2a7's code), so those runs stay reproducible."""
    expected = "c3bbcd8277b3f0489d8021bb7a074b0940da20319fbf7bfc0e4e2d37a4966e99"
    assert world_digest(generate("office", 0, SMALL)) == expected


def test_an_unknown_world_is_refused():
    with pytest.raises(ValueError, match="words must be one of regroup, rename, scatter, not 'Regroup'"):
        generate("office", 0, WorldSettings(users=5, words="Regroup"))


def test_the_source_passes_words_on_and_caches_each_world_apart():
    """``data.source.words`` reaches the generator, and the two worlds have different cache fingerprints."""
    regroup = SyntheticSource(SyntheticConfig(users=20))
    rename = SyntheticSource(SyntheticConfig(users=20, words="rename"))
    assert regroup.fingerprint("office") != rename.fingerprint("office")
    expected = generate("office", 0, WorldSettings(users=20, words="rename"))
    assert product_words(rename.load("office")) == product_words(expected)
    assert product_words(regroup.load("office")) != product_words(expected)


def test_a_fingerprint_covers_what_generates_its_domain():
    """A domain's cache fingerprint changes with its own settings only: the target family's words or a target's
    size leave the pre-training family's fingerprints (and so a pre-training on them) as they are."""
    base = SyntheticSource(SyntheticConfig())
    changed = SyntheticSource(SyntheticConfig(words="rename", domains={"office": {"users": 50}}))
    assert base.fingerprint("kitchen") == changed.fingerprint("kitchen")
    assert base.fingerprint("office") != changed.fingerprint("office")
    assert base.fingerprint("sports") != changed.fingerprint("sports")  # words
    assert base.fingerprint("kitchen") != SyntheticSource(SyntheticConfig(seed=1)).fingerprint("kitchen")
    with pytest.raises(DataError, match="no domain 'garage'"):
        base.fingerprint("garage")


def test_unknown_domain_is_data_error():
    """The synthetic source names the available domains for an unknown one."""
    with pytest.raises(DataError, match="no domain 'garage'; available: garden, kitchen, office, pets, sports, toys"):
        SyntheticSource(SyntheticConfig()).load("garage")


# processing -----------------------------------------------------------------------------------------------------


def test_k_core_by_hand():
    """Removing a user can drop an item below k, which drops another user: iterate to a fixed point."""
    pairs = [("a", "x"), ("a", "y"), ("b", "x"), ("b", "y"), ("c", "x"), ("c", "z")]
    assert sorted(k_core(pairs, 2)) == [("a", "x"), ("a", "y"), ("b", "x"), ("b", "y")]
    assert k_core(pairs, 3) == []


def test_processed_domain_is_5_core(office):
    """After processing every user and every item has >= 5 interactions; ids are 1..n in first-seen order."""
    domain = process(office, 5)
    users = [len(s) for s in domain.sequences]
    items = Counter(int(i) for s in domain.sequences for i in s)
    assert domain.n_items > 20 and len(domain.user_ids) > 20
    assert min(users) >= 5 and min(items.values()) >= 5
    assert set(items) == set(range(1, domain.n_items + 1))
    first_seen = list(dict.fromkeys(int(i) for s in domain.sequences for i in s))
    assert first_seen == list(range(1, domain.n_items + 1))
    assert domain.user_ids == sorted(domain.user_ids)
    assert domain.stats["interactions_before_filter"] == len(office.interactions["user_id"])
    assert domain.n_interactions < len(office.interactions["user_id"])


def test_processed_content_aligned(office):
    """Content row i belongs to item id i+1 (the raw item of that item_id)."""
    domain = process(office, 5)
    raw_row = {item: row for row, item in enumerate(office.items["item_id"])}
    for index, item in enumerate(domain.item_ids):
        row = raw_row[item]
        assert domain.content["text"][index] == office.items["text"][row]
        assert domain.content["price"][index] == office.items["price"][row]
        assert domain.content["images"][index] == office.items["images"][row]


def test_too_strict_filter_is_data_error(office):
    """A k-core that leaves nobody is a DataError naming the domain."""
    with pytest.raises(DataError, match="office"):
        process(office, 50)


# the domain cache -------------------------------------------------------------------------------------------------


def test_prepared_domain_cached(tmp_path, monkeypatch):
    """The second call loads the saved datasets folder (no generation, no processing) with equal data."""
    source = SyntheticSource(SyntheticConfig(users=200, items_per_cell=1))
    first = prepared_domain(source, "office", 5, tmp_path)
    folders = list((tmp_path / "domains").iterdir())
    assert len(folders) == 1 and folders[0].name.startswith("office-")
    assert (folders[0] / "stats.json").exists() and (folders[0] / "items").is_dir()

    def fail(*args, **kwargs):
        raise AssertionError("the cached domain should have been used")

    monkeypatch.setattr(source, "load", fail)
    monkeypatch.setattr(store_module, "process", fail)
    second = prepared_domain(source, "office", 5, tmp_path)

    assert second.item_ids == first.item_ids and second.user_ids == first.user_ids
    assert len(second.sequences) == len(first.sequences)
    assert all(np.array_equal(a, b) and b.dtype == np.int64 for a, b in zip(first.sequences, second.sequences))
    assert second.content["text"] == first.content["text"]
    assert second.content["price"] == first.content["price"]
    assert None in second.content["price"]
    stored = [[cell["bytes"] for cell in images] for images in second.content["images"]]
    assert stored == first.content["images"]
    assert [content_key(v) for v in second.content["images"]] == [content_key(v) for v in first.content["images"]]
    assert second.stats == first.stats


def test_prepared_domain_key_follows_settings(tmp_path):
    """Other source settings or another k get their own cache folder."""
    prepared_domain(SyntheticSource(SyntheticConfig(users=200, items_per_cell=1)), "office", 5, tmp_path)
    prepared_domain(SyntheticSource(SyntheticConfig(users=200, items_per_cell=1, seed=3)), "office", 5, tmp_path)
    prepared_domain(SyntheticSource(SyntheticConfig(users=200, items_per_cell=1)), "office", 4, tmp_path)
    assert len(list((tmp_path / "domains").iterdir())) == 3


def test_two_runs_preparing_one_domain_at_once(tmp_path):
    """Runs sharing a cache may both prepare a domain: the one finishing second keeps the first one's folder
    (no error, nothing removed) and its own processed domain; a damaged folder (no stats.json) is replaced."""
    source = SyntheticSource(SyntheticConfig(users=200, items_per_cell=1))
    processed = prepared_domain(source, "office", 5, tmp_path)
    folder = next((tmp_path / "domains").iterdir())
    marker = folder / "items" / "first-run-was-here"
    marker.write_text("")
    save_domain(processed, folder)  # as if finishing after the other run placed its copy
    assert marker.exists() and not list((tmp_path / "domains").glob(".*partial"))
    (folder / "stats.json").unlink()  # damaged
    save_domain(processed, folder)
    assert (folder / "stats.json").exists() and not marker.exists()
