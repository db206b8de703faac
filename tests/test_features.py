"""Built-in encoders against hand-computed values, the packaged text model, and the feature store cache."""

from __future__ import annotations

import io
import json
import math
import zlib

import pytest
import torch
from PIL import Image
from safetensors.torch import save_file

from antkit.components.encoders.image import ColorLayout, ColorLayoutConfig
from antkit.components.encoders.price import (
    QuantileConfig,
    QuantilePrice,
    SinusoidalConfig,
    SinusoidalPrice,
)
from antkit.components.encoders.text import (
    HashedNgrams,
    HashedNgramsConfig,
    SentenceTransformerConfig,
    SentenceTransformerText,
)
from antkit.features.catalogue import FeatureStep, feature_line
from antkit.features.store import FeatureStore, content_key, stored_features


def png(color, size=(32, 32), mode="RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, color).save(buffer, format="PNG")
    return buffer.getvalue()


# hashed_ngrams ---------------------------------------------------------------------------------------------------


def signed_bucket(gram: str, dim: int) -> tuple[int, float]:
    """The documented hashing: bucket = (crc32 >> 1) % dim, sign = +1 if the lowest bit is set, else -1."""
    digest = zlib.crc32(gram.encode())
    return (digest >> 1) % dim, (1.0 if digest & 1 else -1.0)


def test_hashed_ngrams_single_word_by_hand():
    """One word, unigrams: a single +-1 entry at its hashed bucket (already unit length)."""
    features, present = HashedNgrams(HashedNgramsConfig(dim=64, ngrams=1)).encode(["Kettle"])
    bucket, sign = signed_bucket("kettle", 64)
    expected = torch.zeros(64)
    expected[bucket] = sign
    assert present.tolist() == [True]
    assert torch.allclose(features[0], expected)


def test_hashed_ngrams_counts_and_bigrams_by_hand():
    """'mug mug red': log term frequency of signed counts over unigrams and bigrams, then L2-normalised."""
    dim = 4096  # large, so the five grams below do not collide
    counts: dict[int, float] = {}
    for gram in ("mug", "mug", "red", "mug mug", "mug red"):
        bucket, sign = signed_bucket(gram, dim)
        counts[bucket] = counts.get(bucket, 0.0) + sign
    assert len(counts) == 4
    expected = torch.zeros(dim)
    for bucket, count in counts.items():
        expected[bucket] = math.copysign(1.0 + math.log(abs(count)), count)
    expected /= expected.norm()
    features, _ = HashedNgrams(HashedNgramsConfig(dim=dim, ngrams=2)).encode(["Mug, mug  RED!"])
    assert torch.allclose(features[0], expected, atol=1e-6)


def test_hashed_ngrams_deterministic_normalised_and_absent():
    """Same text -> same vector (any instance); present rows unit length; '', blanks and None absent, zero."""
    texts = ["Cookwell premium steel red pan", "", None, "   ", "GreenThumb basic rubber blue hose", 42]
    first, present = HashedNgrams(HashedNgramsConfig(dim=128)).encode(texts)
    second, _ = HashedNgrams(HashedNgramsConfig(dim=128)).encode(list(reversed(texts)))
    assert present.tolist() == [True, False, False, False, True, False]
    assert torch.equal(first, second.flip(0))
    assert torch.allclose(first[present].norm(dim=1), torch.ones(2))
    assert torch.count_nonzero(first[~present]) == 0
    assert not torch.allclose(first[0], first[4])
    assert first.shape == (6, 128) and first.dtype == torch.float32


# prices --------------------------------------------------------------------------------------------------------


def test_sinusoidal_price_by_hand():
    """dim 6, frequencies 0.5..50 -> 0.5, 5, 50; values sin/cos(f log(1+p)), scaled by 1/sqrt(3) to unit length."""
    encoder = SinusoidalPrice(SinusoidalConfig(dim=6, min_frequency=0.5, max_frequency=50.0))
    features, present = encoder.encode([9.0, 0.0])
    x = math.log(10.0)
    expected = [math.sin(0.5 * x), math.sin(5 * x), math.sin(50 * x), math.cos(0.5 * x), math.cos(5 * x),
                math.cos(50 * x)]
    scale = 1 / math.sqrt(3)
    assert present.tolist() == [True, True]
    assert torch.allclose(features[0], torch.tensor(expected) * scale, atol=1e-6)
    assert torch.allclose(features[1], torch.tensor([0, 0, 0, 1, 1, 1.0]) * scale, atol=1e-6)
    assert torch.allclose(features.norm(dim=1), torch.ones(2), atol=1e-6)


def test_sinusoidal_price_nearby_prices_are_close():
    """A price is closer to a nearby price than to a far one."""
    features, _ = SinusoidalPrice(SinusoidalConfig(dim=64)).encode([20.0, 20.5, 400.0])
    assert (features[0] - features[1]).norm() < (features[0] - features[2]).norm()


@pytest.mark.parametrize("missing", [None, float("nan"), -1.0, -0.01])
def test_sinusoidal_price_missing(missing):
    """None, NaN and negative prices are absent: zero rows; the other rows are unaffected."""
    encoder = SinusoidalPrice(SinusoidalConfig(dim=8))
    features, present = encoder.encode([12.5, missing, 3.0])
    alone, _ = encoder.encode([12.5, 3.0])
    assert present.tolist() == [True, False, True]
    assert torch.count_nonzero(features[1]) == 0
    assert torch.equal(features[[0, 2]], alone)


def test_sinusoidal_config_checks():
    """An odd dim or reversed frequency range is rejected."""
    with pytest.raises(ValueError, match="even"):
        SinusoidalConfig(dim=7)
    with pytest.raises(ValueError, match="max_frequency"):
        SinusoidalConfig(min_frequency=5, max_frequency=1)


def test_quantile_price_buckets():
    """Prices 1..4 in 4 buckets: quartile edges 1.75, 2.5, 3.25 -> one-hot buckets 0..3; None absent."""
    features, present = QuantilePrice(QuantileConfig(buckets=4)).encode([4.0, 1.0, None, 3.0, 2.0])
    expected = torch.zeros(5, 4)
    for row, bucket in ((0, 3), (1, 0), (3, 2), (4, 1)):
        expected[row, bucket] = 1.0
    assert present.tolist() == [True, True, False, True, True]
    assert torch.equal(features, expected)


def test_quantile_price_two_buckets_and_relative():
    """Buckets are relative to the encoded prices: the median splits them, whatever the scale."""
    cheap, _ = QuantilePrice(QuantileConfig(buckets=2)).encode([1.0, 2.0, 3.0, 4.0])
    dear, _ = QuantilePrice(QuantileConfig(buckets=2)).encode([100.0, 200.0, 300.0, 400.0])
    assert cheap.argmax(1).tolist() == [0, 0, 1, 1]
    assert torch.equal(cheap, dear)


def test_quantile_price_all_missing():
    """No known price: every row absent and zero."""
    features, present = QuantilePrice(QuantileConfig(buckets=3)).encode([None, float("nan"), -2.0])
    assert not present.any()
    assert torch.count_nonzero(features) == 0 and features.shape == (3, 3)


# color_layout --------------------------------------------------------------------------------------------------


def test_color_layout_solid_colour():
    """A solid image: every layout cell is the colour / 255 (R cells, then G, then B); one histogram bin."""
    encoder = ColorLayout(ColorLayoutConfig(grid=2, levels=2))
    features, present = encoder.encode([[png((255, 0, 51))]])
    assert encoder.dim == 3 * 4 + 8 == features.shape[1]
    layout, histogram = features[0, :12], features[0, 12:]
    assert torch.allclose(layout, torch.tensor([1.0] * 4 + [0.0] * 4 + [0.2] * 4))
    expected_histogram = torch.zeros(8)
    expected_histogram[1 * 4 + 0 * 2 + 0] = 1.0  # R in the upper half, G and B in the lower half
    assert torch.allclose(histogram, expected_histogram)
    assert present.tolist() == [True] and encoder.failed_images == 0


def test_color_layout_grid_cells():
    """A left-red / right-blue image: the layout's left cells are red, the right cells blue."""
    image = Image.new("RGB", (64, 64), (0, 0, 255))
    image.paste((255, 0, 0), (0, 0, 32, 64))
    features, _ = ColorLayout(ColorLayoutConfig(grid=2, levels=2)).encode([[image]])
    red, green, blue = features[0, :12].view(3, 2, 2)
    assert torch.allclose(red, torch.tensor([[1.0, 0.0], [1.0, 0.0]]), atol=0.01)  # resampling blurs the edge
    assert torch.allclose(blue, torch.tensor([[0.0, 1.0], [0.0, 1.0]]), atol=0.01)
    assert torch.count_nonzero(green) == 0


def test_color_layout_averages_images(tmp_path):
    """An item's vector is the mean over its images (bytes, paths and datasets dicts alike)."""
    path = tmp_path / "blue.png"
    path.write_bytes(png((0, 0, 255)))
    encoder = ColorLayout(ColorLayoutConfig(grid=1, levels=2))
    features, present = encoder.encode([[png((255, 0, 0)), str(path)], [{"bytes": None, "path": str(path)}]])
    assert torch.allclose(features[0, :3], torch.tensor([0.5, 0.0, 0.5]))
    assert torch.allclose(features[0, 3:], torch.tensor([0.0, 0.5, 0, 0, 0.5, 0, 0, 0]))
    assert torch.allclose(features[1, :3], torch.tensor([0.0, 0.0, 1.0]))
    assert present.tolist() == [True, True]


def test_color_layout_bad_images(tmp_path):
    """Corrupt bytes and missing paths are skipped and counted; an item with no usable image is absent."""
    truncated = png((10, 200, 10))[:40]
    encoder = ColorLayout(ColorLayoutConfig(grid=1, levels=2))
    features, present = encoder.encode([
        [b"this is not an image"],
        [str(tmp_path / "missing.png")],
        [truncated, png((0, 255, 0))],
        [],
        None,
    ])
    assert present.tolist() == [False, False, True, False, False]
    assert encoder.failed_images == 3
    assert encoder.failed_examples == ["<20 bytes>", str(tmp_path / "missing.png"), "<40 bytes>"]  # to name them
    step = FeatureStep("shop", "image", "color_layout", 5, 5, 1, 3, 0.5, tuple(encoder.failed_examples[1:2]))
    assert feature_line(step).endswith(f"3 images could not be opened (e.g. {tmp_path / 'missing.png'})")
    assert torch.count_nonzero(features[[0, 1, 3, 4]]) == 0
    assert torch.allclose(features[2, :3], torch.tensor([0.0, 1.0, 0.0]))


def test_color_layout_max_images():
    """Only the first max_images images count."""
    encoder = ColorLayout(ColorLayoutConfig(grid=1, levels=2, max_images=1))
    features, _ = encoder.encode([[png((255, 255, 255)), png((0, 0, 0))]])
    assert torch.allclose(features[0, :3], torch.ones(3))


def test_color_layout_greyscale_and_alpha():
    """Non-RGB images (L, RGBA) are converted, not rejected."""
    encoder = ColorLayout(ColorLayoutConfig(grid=1, levels=2))
    features, present = encoder.encode([[png(255, mode="L")], [png((0, 0, 255, 128), mode="RGBA")]])
    assert present.all()
    assert torch.allclose(features[0, :3], torch.ones(3))
    assert torch.allclose(features[1, :3], torch.tensor([0.0, 0.0, 1.0]))


# the packaged sentence-transformers model --------------------------------------------------------------------


def test_sentence_transformer_packaged_model():
    """all-MiniLM-L6-v2 from the package: 384-d unit vectors, similar texts closer, empty text absent."""
    encoder = SentenceTransformerText(SentenceTransformerConfig(device="cpu"))
    texts = ["red steel kettle for the kitchen", "red metal teapot for the kitchen", "quarterly tax report",
             "", None, "   "]
    features, present = encoder.encode(texts)
    assert features.shape == (6, 384)
    assert present.tolist() == [True, True, True, False, False, False]
    assert torch.allclose(features[:3].norm(dim=1), torch.ones(3), atol=1e-4)
    assert torch.count_nonzero(features[3:]) == 0
    similarity = features[:3] @ features[:3].T
    assert similarity[0, 1] > similarity[0, 2] + 0.2
    assert similarity[0, 1] > similarity[1, 2] + 0.2


# the feature store -----------------------------------------------------------------------------------------------


class CountingEncoder(HashedNgrams):
    """hashed_ngrams that remembers what it was asked to encode."""

    def __init__(self, config):
        super().__init__(config)
        self.seen: list = []

    def encode(self, values):
        self.seen.extend(values)
        return super().encode(values)


TEXTS = ["red pan", "blue kettle", None, "green mug"]


def test_store_computes_only_new_items(tmp_path):
    """Second call: nothing computed, same vectors; one new item: exactly that one computed."""
    encoder = CountingEncoder(HashedNgramsConfig(dim=32))
    store = FeatureStore(tmp_path, encoder)
    first, first_present = store.features(TEXTS)
    assert store.computed == 4 and len(encoder.seen) == 4
    assert len(store.shards()) == 1

    encoder.seen.clear()
    store = FeatureStore(tmp_path, encoder)
    again, again_present = store.features(TEXTS)
    assert store.computed == 0 and encoder.seen == []
    assert torch.equal(again, first) and torch.equal(again_present, first_present)

    more, _ = store.features(TEXTS + ["yellow whisk"])
    assert store.computed == 1 and encoder.seen == ["yellow whisk"]
    assert torch.equal(more[:4], first)
    assert torch.equal(more[4], encoder.encode(["yellow whisk"])[0][0])

    store.features(["green mug", "red pan"])  # a subset, reordered
    assert store.computed == 0


def test_store_encodes_a_replaced_image_file_again(tmp_path):
    """An image referenced by a local path is keyed by the path and the file's size and time: the same name
    with another picture is encoded again; the unchanged file is reused."""
    image = tmp_path / "item.png"
    image.write_bytes(png((255, 0, 0)))
    store = FeatureStore(tmp_path / "store", ColorLayout(ColorLayoutConfig(grid=1, levels=2)))
    red, _ = store.features([[str(image)], [{"bytes": None, "path": str(image)}]])
    store.features([[str(image)], [{"bytes": None, "path": str(image)}]])
    assert store.computed == 0
    image.write_bytes(png((0, 0, 255), size=(40, 40)))
    blue, _ = store.features([[str(image)], [{"bytes": None, "path": str(image)}]])
    assert store.computed == 2
    assert torch.allclose(red[0, :3], torch.tensor([1.0, 0.0, 0.0]))
    assert torch.allclose(blue[0, :3], torch.tensor([0.0, 0.0, 1.0])) and torch.equal(blue[0], blue[1])
    assert content_key("item.png") == content_key("item.png", files=True)  # no such file here: the name alone


def test_store_gives_a_whole_catalogue_encoder_every_value_at_once(tmp_path):
    """quantile_price buckets each price among all the domain's prices (repeats included), so the store passes
    it every value in one call: its vectors equal a direct call's, however small the store's chunks."""
    prices = [1.0] * 6 + [2.0, 3.0, None, 4.0]
    encoder = QuantilePrice(QuantileConfig(buckets=4))
    direct, direct_present = encoder.encode(prices)
    stored, stored_present = FeatureStore(tmp_path, encoder, chunk=2).features(prices)
    assert torch.equal(stored, direct) and torch.equal(stored_present, direct_present)
    assert stored[:6].argmax(1).tolist() == [2] * 6 and stored[8].abs().sum() == 0


def test_store_duplicates_computed_once(tmp_path):
    """The same content twice in one call is encoded once and returned for both rows."""
    encoder = CountingEncoder(HashedNgramsConfig(dim=32))
    store = FeatureStore(tmp_path, encoder)
    vectors, _ = store.features(["mug", "pan", "mug"])
    assert store.computed == 2 and encoder.seen == ["mug", "pan"]
    assert torch.equal(vectors[0], vectors[2])


def test_store_keyed_by_settings(tmp_path):
    """Different encoder settings use different stores."""
    small = FeatureStore(tmp_path, HashedNgrams(HashedNgramsConfig(dim=16)))
    large = FeatureStore(tmp_path, HashedNgrams(HashedNgramsConfig(dim=32)))
    assert small.path != large.path
    small.features(TEXTS)
    vectors, _ = large.features(TEXTS)
    assert large.computed == 4 and vectors.shape == (4, 32)


def test_store_image_bytes_and_dicts_share_keys():
    """An image given as bytes or as a datasets dict {bytes, path} has the same content key."""
    data = png((1, 2, 3))
    assert content_key([data]) == content_key([{"bytes": data, "path": None}])
    assert content_key([data]) != content_key([png((3, 2, 1))])


def _corrupt(kind: str, shard, good: bytes, vectors, present) -> None:
    if kind == "garbage":
        shard.write_bytes(b"definitely not safetensors")
    elif kind == "empty":
        shard.write_bytes(b"")
    elif kind == "truncated":
        shard.write_bytes(good[: len(good) // 2])
    elif kind == "no-metadata":  # a valid safetensors file, but not one of antkit's
        save_file({"vectors": vectors, "present": present}, str(shard))
    elif kind == "missing-tensor":
        save_file({"vectors": vectors}, str(shard), metadata={"keys": json.dumps([content_key(t) for t in TEXTS])})
    elif kind == "fewer-rows-than-keys":
        save_file({"vectors": vectors[:1].contiguous(), "present": present[:1].contiguous()}, str(shard),
                  metadata={"keys": json.dumps([content_key(t) for t in TEXTS])})


@pytest.mark.parametrize("kind", ["garbage", "empty", "truncated", "no-metadata", "missing-tensor",
                                  "fewer-rows-than-keys"])
def test_store_corrupt_shard_rebuilt(tmp_path, kind):
    """A corrupt or inconsistent shard is recomputed from the encoder, never trusted; other shards are kept."""
    encoder = CountingEncoder(HashedNgramsConfig(dim=32))
    store = FeatureStore(tmp_path, encoder)
    store.features(["yellow whisk"])
    vectors, present = store.features(TEXTS)
    kept, damaged = store.shards()
    _corrupt(kind, damaged, damaged.read_bytes(), vectors, present)

    encoder.seen.clear()
    store = FeatureStore(tmp_path, encoder)
    rebuilt, rebuilt_present = store.features(TEXTS + ["yellow whisk"])
    assert store.computed == 4 and encoder.seen == TEXTS  # the whisk came from the good shard
    assert torch.equal(rebuilt[:4], vectors) and torch.equal(rebuilt_present[:4], present)
    store.features(TEXTS)
    assert store.computed == 0  # the rebuilt store is good again


def test_store_appends_shards_without_rewriting(tmp_path):
    """New items go into a new shard; what was stored is not rewritten."""
    store = FeatureStore(tmp_path, HashedNgrams(HashedNgramsConfig(dim=16)), chunk=2)
    store.features(TEXTS)
    first = {shard.name: shard.read_bytes() for shard in store.shards()}
    assert len(first) == 2
    store.features(TEXTS + ["yellow whisk"])
    after = {shard.name: shard.read_bytes() for shard in store.shards()}
    assert len(after) == 3 and all(after[name] == data for name, data in first.items())


def test_store_merges_past_max_shards(tmp_path):
    """Past max_shards the store becomes one shard holding every item once, with the same vectors."""
    encoder = HashedNgrams(HashedNgramsConfig(dim=16))
    store = FeatureStore(tmp_path, encoder, chunk=1, max_shards=3)
    texts = [f"item {i}" for i in range(5)]
    vectors, _ = store.features(texts)
    assert len(store.shards()) == 1
    assert stored_features(tmp_path)[0].items == 5
    again, _ = FeatureStore(tmp_path, encoder).features(texts[::-1])
    assert torch.equal(again, vectors.flip(0))


def test_store_new_vector_size_starts_afresh(tmp_path):
    """An encoder whose output size changed (same settings key) replaces the store's shards."""
    store = FeatureStore(tmp_path, HashedNgrams(HashedNgramsConfig(dim=16)))
    store.features(TEXTS[:2])
    resized = FeatureStore(tmp_path, HashedNgrams(HashedNgramsConfig(dim=32)))
    resized.path = store.path
    vectors, _ = resized.features(TEXTS)
    assert vectors.shape == (4, 32) and resized.computed == 4
    assert [s.dim for s in stored_features(tmp_path)] == [32]
