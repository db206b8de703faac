"""The RecBole atomic-file source on small hand-written files, its bad-input cases, and the shared real data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from antkit.components.encoders.image import PrecomputedImage, PrecomputedImageConfig
from antkit.data.processing import process
from antkit.data.recbole import RecBoleConfig, RecBoleSource
from antkit.data.store import load_domain, save_domain
from antkit.errors import DataError

ITEMS = (
    "item_id:token\ttitle:token_seq\tbrand:token\tcategories:token_seq\tprice:float\n"
    "A\tRed &amp; blue pen\tInko\tOffice , Pens\t$1,299\n"
    "B\tStapler\t\tOffice\t\n"
    "C\t\t\t\t$5.99 - $12.00\n"
)
INTER = (
    "user_id:token\titem_id:token\ttimestamp:float\n"
    "u1\tB\t20\n"
    "u1\tA\t10\n"
    "u2\tC\t5\n"
    "u2\tA\t5\n"
    "u1\tA\t10\n"  # an exact repeat of line 3
)


def write_domain(root: Path, name: str = "shop", items: str = ITEMS, inter: str = INTER, nested: bool = True) -> Path:
    folder = root / name if nested else root
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.item").write_text(items)
    (folder / f"{name}.inter").write_text(inter)
    return folder


def source(root: Path, **settings) -> RecBoleSource:
    return RecBoleSource(RecBoleConfig(path=root, **settings))


def test_reads_items_and_interactions(tmp_path):
    raw = source(tmp_path).load(write_domain(tmp_path).name)
    assert raw.items["item_id"] == ["A", "B", "C"]
    assert raw.items["text"] == ["Red & blue pen Office , Pens Inko", "Stapler Office", None]
    assert raw.items["price"] == [1299.0, None, pytest.approx(8.995)]
    assert raw.interactions["user_id"] == ["u1", "u1", "u2", "u2", "u1"]
    assert raw.interactions["timestamp"] == [20.0, 10.0, 5.0, 5.0, 10.0]
    assert raw.skipped == {}
    assert "image_vector" not in raw.items


def test_processing_orders_by_time_breaks_ties_by_file_order_and_drops_repeats(tmp_path):
    domain = process(source(tmp_path).load(write_domain(tmp_path).name), min_interactions=1)
    # u1: A (10) then B (20); u2: C and A both at 5, file order C first. A=1, B=2, C=3.
    assert domain.item_ids == ["A", "B", "C"]
    assert [s.tolist() for s in domain.sequences] == [[1, 2], [3, 1]]
    assert domain.stats["duplicate_interactions"] == 1


def test_files_directly_in_the_folder_and_text_fields(tmp_path):
    write_domain(tmp_path, nested=False)
    raw = source(tmp_path, text_fields=("brand", "title")).load("shop")
    assert raw.items["text"][0] == "Inko Red & blue pen"


def test_no_timestamp_column_keeps_file_order(tmp_path):
    write_domain(tmp_path, inter="user_id:token\titem_id:token\nu1\tB\nu1\tA\n")
    domain = process(source(tmp_path).load("shop"), min_interactions=1)
    assert domain.item_ids == ["B", "A"]


def test_image_vectors_and_references(tmp_path):
    items = "item_id:token\ttitle:token_seq\timages:token_seq\nA\tpen\tpics/a.jpg http://x/a2.jpg\nB\tbox\t\n"
    folder = write_domain(tmp_path, items=items, inter="user_id:token\titem_id:token\nu1\tA\nu1\tB\n")
    np.save(folder / "shop.image.npy", np.array([[1.0, 2.0], [3.0, 4.0]], dtype=np.float32))
    (folder / "shop.image_ids.txt").write_text("B\nA\n")
    raw = source(tmp_path).load("shop")
    assert raw.items["image_vector"] == [[3.0, 4.0], [1.0, 2.0]]
    assert raw.items["images"] == [[str(folder / "pics/a.jpg"), "http://x/a2.jpg"], []]
    # the vectors survive the datasets cache and become features, absent where missing
    domain = process(raw, min_interactions=1)
    save_domain(domain, tmp_path / "cache")
    stored = load_domain(tmp_path / "cache", "shop")
    assert stored.item_ids == ["A", "B"] and list(stored.content["image_vector"]) == [[3.0, 4.0], [1.0, 2.0]]
    features, present = PrecomputedImage(PrecomputedImageConfig(dim=2)).encode(list(stored.content["image_vector"]) + [None])
    assert features.tolist() == [[3.0, 4.0], [1.0, 2.0], [0.0, 0.0]] and present.tolist() == [True, True, False]
    with pytest.raises(DataError, match=r"have 2 values, but model\.modalities\.image\.encoder\.dim is 3; set it to 2"):
        PrecomputedImage(PrecomputedImageConfig(dim=3)).encode(stored.content["image_vector"])


# (id, item file, interaction file, message fragments in strict mode, skip reason in lenient mode)
BAD = [
    ("malformed-line", ITEMS + "D\tonly two fields\n", INTER,
     ["shop.item, line 5", "2 tab-separated fields, the header has 5"], "skipped: malformed line"),
    ("unknown-item", ITEMS, INTER + "u2\tZ\t7\n",
     ["shop.inter, line 7", "item 'Z' is not in the .item file"], "skipped: interaction with an unknown item"),
    ("bad-price", ITEMS.replace("$5.99 - $12.00", "call us"), INTER,
     ["shop.item, line 4", "cannot read a price from 'call us'"], "skipped: unparsable price (kept as missing)"),
    ("bad-timestamp", ITEMS, INTER.replace("u2\tC\t5", "u2\tC\tyesterday"),
     ["shop.inter, line 4", "timestamp 'yesterday' is not a number"], "skipped: unparsable timestamp"),
    ("duplicate-item", ITEMS + "A\tagain\t\t\t\n", INTER,
     ["shop.item, line 5", "item id 'A' is empty or repeated"], "skipped: duplicate or empty item id"),
]



@pytest.mark.parametrize("items, inter, fragments, reason", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_input_strict_and_lenient(tmp_path, items, inter, fragments, reason):
    write_domain(tmp_path, items=items, inter=inter)
    with pytest.raises(DataError) as caught:
        source(tmp_path).load("shop")
    for fragment in fragments:
        assert fragment in str(caught.value)
    raw = source(tmp_path, lenient=True).load("shop")
    assert raw.skipped == {reason: 1}
    assert process(raw, min_interactions=1).stats[reason] == 1  # the count reaches the data summary


def test_undecodable_line(tmp_path):
    folder = write_domain(tmp_path)
    (folder / "shop.inter").write_bytes(INTER.encode() + b"u3\t\xff\xfe\t1\n")
    with pytest.raises(DataError, match="shop.inter, line 7: not UTF-8"):
        source(tmp_path).load("shop")


def test_missing_pieces_are_named(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        source(tmp_path / "nowhere").load("shop")
    (tmp_path / "a-file").write_text("")
    with pytest.raises(DataError, match="a-file is a file, not a folder"):
        source(tmp_path / "a-file").load("shop")
    write_domain(tmp_path)
    write_domain(tmp_path, "other")
    with pytest.raises(DataError, match="no shp.inter .*domains there: other, shop"):
        source(tmp_path).load("shp")
    (tmp_path / "shop" / "shop.item").unlink()
    with pytest.raises(DataError, match=r"shop\.item is missing"):
        source(tmp_path).load("shop")
    write_domain(tmp_path, inter="user:token\titem_id:token\nu1\tA\n")
    with pytest.raises(DataError, match="the header has no user_id column"):
        source(tmp_path).load("shop")


def test_image_vector_file_problems(tmp_path):
    folder = write_domain(tmp_path)
    np.save(folder / "shop.image.npy", np.zeros((2, 4), dtype=np.float32))
    with pytest.raises(DataError, match="shop.image_ids.txt go together"):
        source(tmp_path).load("shop")
    (folder / "shop.image_ids.txt").write_text("A\n")
    with pytest.raises(DataError, match=r"shape \(2, 4\) does not match the 1 lines"):
        source(tmp_path).load("shop")
    expected = r"expected a 2-D float array, one row per id in shop.image_ids.txt"
    (folder / "shop.image.npy").write_bytes(b"not numpy")
    with pytest.raises(DataError, match=rf"shop.image.npy: not a readable .npy array \({expected}\)$"):
        source(tmp_path).load("shop")
    (folder / "shop.image_ids.txt").write_text("A\nB\n")
    np.save(folder / "shop.image.npy", np.array([["a", "b"], ["c", "d"]]))
    with pytest.raises(DataError, match=rf"shop.image.npy: holds a 2-D array of <U1 \({expected}\)"):
        source(tmp_path).load("shop")
    np.save(folder / "shop.image.npy", np.zeros(2, dtype=np.float32))
    with pytest.raises(DataError, match=rf"holds a 1-D array of float32 \({expected}\)"):
        source(tmp_path).load("shop")
    np.save(folder / "shop.image.npy", np.zeros((2, 4), dtype=np.float32))
    (folder / "shop.image_ids.txt").write_bytes(b"A\n\xff\n")
    with pytest.raises(DataError, match="shop.image_ids.txt, line 2: not UTF-8 text"):
        source(tmp_path).load("shop")
    np.save(folder / "shop.image.npy", np.zeros((2, 4), dtype=np.float32))
    (folder / "shop.image_ids.txt").write_text("A\nQ\n")
    with pytest.raises(DataError, match="shop.image_ids.txt, line 2: item 'Q' is not in shop.item"):
        source(tmp_path).load("shop")


def test_image_vector_header_is_checked_before_reading(tmp_path):
    folder = write_domain(tmp_path)
    (folder / "shop.image_ids.txt").write_text("A\nB\n")
    path = folder / "shop.image.npy"
    with path.open("wb") as handle:  # a header claiming 32 TB, and no data
        np.lib.format.write_array_header_1_0(handle, {"shape": (10**12, 8), "fortran_order": False, "descr": "<f4"})
    with pytest.raises(DataError, match=rf"{path}: its header says shape \(1000000000000, 8\) of float32"):
        source(tmp_path).load("shop")
    np.save(path, np.zeros((2, 4), dtype=np.float32))
    path.write_bytes(path.read_bytes()[:-8])
    with pytest.raises(DataError, match=r"\(32 bytes\), but the file holds 24 bytes of data \(truncated"):
        source(tmp_path).load("shop")
    np.save(path, np.zeros((2, 0), dtype=np.float32))
    with pytest.raises(DataError, match=rf"{path}: holds an array of shape \(2, 0\), vectors of width 0"):
        source(tmp_path).load("shop")


def test_a_folder_in_place_of_a_file_is_named(tmp_path):
    folder = write_domain(tmp_path)
    (folder / "shop.inter").unlink()
    (folder / "shop.inter").mkdir()
    with pytest.raises(DataError, match=rf"^data source 'recbole': {folder / 'shop.inter'} is not a file$"):
        source(tmp_path).load("shop")
    (folder / "shop.inter").rmdir()
    write_domain(tmp_path)
    (folder / "shop.item").unlink()
    (folder / "shop.item").mkdir()
    with pytest.raises(DataError, match=r"shop\.item is not a file"):
        source(tmp_path).load("shop")


def test_repeated_image_vector(tmp_path):
    folder = write_domain(tmp_path)
    np.save(folder / "shop.image.npy", np.array([[1.0], [2.0], [3.0]], dtype=np.float32))
    (folder / "shop.image_ids.txt").write_text("A\nB\nA\n")
    with pytest.raises(DataError, match="shop.image_ids.txt, line 3: item 'A' is repeated \\(first on line 1\\)"):
        source(tmp_path).load("shop")
    raw = source(tmp_path, lenient=True).load("shop")
    assert raw.items["image_vector"] == [[1.0], [2.0], None]  # the first is kept
    assert raw.skipped == {"skipped: repeated image vector": 1}


def test_text_fields_named_explicitly_must_exist(tmp_path):
    write_domain(tmp_path, items=ITEMS.replace("\tbrand:token", "\tmaker:token"))
    assert source(tmp_path).load("shop").items["text"][0] == "Red & blue pen Office , Pens"  # the default: those there
    with pytest.raises(DataError, match=r"shop.item: the header has no titel column \(it has: item_id, title, maker,"):
        source(tmp_path, text_fields=("titel",)).load("shop")
    with pytest.raises(DataError, match="the header has no brand column"):
        source(tmp_path, text_fields=("title", "categories", "brand")).load("shop")


@pytest.mark.parametrize("separator, hint", [
    (",", "; RecBole atomic files are tab-separated, and this header has commas but no tab: separate its columns "
          "with tabs"),
    (";", "; RecBole atomic files are tab-separated, and this header has semicolons but no tab"),
    ("\t", None),
], ids=["commas", "semicolons", "tabs"])
def test_a_header_separated_by_something_else_than_tabs_is_named(tmp_path, separator, hint):
    """A comma-separated .inter reads as one column: the message says why, not only that item_id is missing."""
    write_domain(tmp_path, inter=INTER.replace("\t", separator).replace("user_id", "user"))
    with pytest.raises(DataError) as caught:
        source(tmp_path).load("shop")
    message = str(caught.value)
    assert "shop.inter: the header has no " in message
    assert hint in message if hint else "tab-separated" not in message


def test_header_problems(tmp_path):
    folder = write_domain(tmp_path, items=ITEMS.replace("\tbrand:token", "\ttitle:token"))
    with pytest.raises(DataError, match="shop.item, line 1: the header has the column 'title' more than once"):
        source(tmp_path).load("shop")
    (folder / "shop.item").write_bytes(ITEMS.replace("title", "ti\xe9tle").encode("latin-1"))
    with pytest.raises(DataError, match="shop.item, line 1: the header is not UTF-8 text"):
        source(tmp_path).load("shop")
    (folder / "shop.item").write_bytes(b"\xef\xbb\xbf" + ITEMS.encode())  # a byte order mark is accepted
    (folder / "shop.inter").write_bytes(b"\xef\xbb\xbf" + INTER.encode())
    raw = source(tmp_path).load("shop")
    assert raw.items["item_id"] == ["A", "B", "C"] and raw.interactions["user_id"][0] == "u1"


@pytest.mark.parametrize("which, content, message", [
    ("item", "", "shop.item: the file has no items"),
    ("item", ITEMS.splitlines()[0] + "\n", "shop.item: the file has no items"),
    ("inter", "", "shop.inter: the file has no interactions"),
    ("inter", INTER.splitlines()[0] + "\n\n", "shop.inter: the file has no interactions"),
], ids=["empty-item", "header-only-item", "empty-inter", "header-only-inter"])
def test_files_without_data(tmp_path, which, content, message):
    (write_domain(tmp_path) / f"shop.{which}").write_text(content)
    with pytest.raises(DataError, match=message):
        source(tmp_path, lenient=True).load("shop")


def test_fingerprint_follows_the_files_and_settings(tmp_path):
    folder = write_domain(tmp_path)
    first = source(tmp_path).fingerprint("shop")
    assert source(tmp_path).fingerprint("shop") == first
    assert source(tmp_path, text_fields=("title",)).fingerprint("shop") != first
    (folder / "shop.inter").write_text(INTER + "u3\tA\t1\n")
    assert source(tmp_path).fingerprint("shop") != first


SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "amazon"
needs_shared = pytest.mark.skipif(not (SHARED / "scientific2018").is_dir(), reason="the shared Amazon data is absent")


@needs_shared
def test_shared_amazon_domain_reads_as_its_readme_says():
    """scientific2018's README: 8,317 users, 4,344 items, 58,492 interactions, image vectors for 1,585 items."""
    raw = source(SHARED).load("scientific2018")
    domain = process(raw, min_interactions=5)
    assert (len(domain.user_ids), domain.n_items, domain.n_interactions) == (8317, 4344, 58492)
    assert sum(v is not None for v in domain.content["image_vector"]) == 1585
    assert all(text for text in domain.content["text"])
    assert all(price is None for price in domain.content["price"])


@needs_shared
@pytest.mark.slow
def test_real_data_run(tmp_path):
    """The real-data recipe, shrunk (hashed text features, small model, one epoch per stage): pre-train on
    office2014, adapt to scientific2018 with its precomputed image vectors, and evaluate both ways."""
    import antkit

    recipe = Path(__file__).resolve().parents[1] / "recipes" / "amazon" / "scientific2018.yaml"
    results = antkit.run(recipe, tmp_path / "run", [
        f"data.source.path={SHARED}", "data.auxiliary=[office2014]",
        "model.modalities.text.encoder={name: hashed_ngrams, dim: 64}", "model.dim=32",
        "model.backbone={name: sasrec, layers: 1, heads: 2, inner: 32}",
        "pretrain.epochs=1", "adapt.epochs=1",
        "arms=[{label: relearn, strategy: {name: relearn}}, {label: text, strategy: {name: finetune}, modalities: [text]}]",
    ])
    arms = results.targets["scientific2018"]
    assert set(arms) == {"relearn", "text"}
    assert results.data["scientific2018"] == {"users": 8317, "items": 4344, "interactions": 58492}
    for arm in arms.values():
        assert 0.0 < arm["test"]["recall@10"] <= arm["test"]["recall@50"] <= 1.0
        assert arm["test"]["recall@10"] >= arm["test_unmasked"]["recall@10"]
    assert arms["text"]["modalities"] == ["text"]
    assert set(results.pretrain) == {"pretrain", "pretrain-text"}
    # the adapted arm, measured again and recommending, from its folder alone (images from the shipped vectors)
    arm = tmp_path / "run" / "scientific2018" / "relearn"
    assert antkit.evaluate(arm)["test"] == pytest.approx(arms["relearn"]["test"], abs=1e-9)
    recommendation = antkit.recommend(arm, ["u000000"], k=5)[0]
    assert len(recommendation.items) == 5 and not set(recommendation.items) & set(recommendation.history)
    assert all(text for text in recommendation.texts)  # every scientific2018 item has a title
