"""Catalogues of several domains keep each item's features with its id; a batch of one sequence trains."""

import torch

from antkit.data.catalogue import Catalogue
from antkit.data.splits import collate, training_segments


def _catalogue(n: int, fill: float) -> Catalogue:
    features = {"text": torch.arange(n + 1, dtype=torch.float32)[:, None].repeat(1, 3) + fill}
    features["text"][0] = 0
    return Catalogue(features, {"text": torch.arange(n + 1) > 0})


def test_concat_keeps_features_with_their_items():
    """Item i of domain d is row offsets[d] + i, holding exactly that item's features (no misaligned offsets)."""
    first, second = _catalogue(3, 100.0), _catalogue(2, 200.0)
    merged, offsets = Catalogue.concat([first, second])
    assert offsets == [0, 3] and merged.n_items == 5
    for catalogue, offset in zip((first, second), offsets):
        for item in range(1, catalogue.n_items + 1):
            assert torch.equal(merged.features["text"][offset + item], catalogue.features["text"][item])
    assert not merged.present["text"][0] and torch.all(merged.features["text"][0] == 0)


def test_segments_with_offset_point_into_the_merged_catalogue():
    sequences = [torch.tensor([1, 2, 3, 1, 2]).numpy()]
    (inputs, targets), = training_segments(sequences, 50, offset=3)
    assert inputs.tolist() == [4, 5] and targets.tolist() == [5, 6]


def test_batch_of_one_sequence_trains(registry, tiny_recipe_path):
    """The reference breaks on a batch of size 1 (squeeze); here one user with one prefix is a valid batch."""
    import yaml

    from antkit.model.build import build_model
    from antkit.recipe import validate_recipe

    recipe = validate_recipe(yaml.safe_load(tiny_recipe_path.read_text()), registry)
    n = 6
    catalogue = Catalogue(
        {"text": torch.randn(n + 1, 64), "image": torch.randn(n + 1, 12), "price": torch.randn(n + 1, 8)},
        {m: torch.arange(n + 1) > 0 for m in ("text", "image", "price")},
    )
    model = build_model(recipe, registry, catalogue.dims)
    segments = training_segments([torch.tensor([1, 2, 3, 4]).numpy()], 20)
    batch = collate(segments, [0])
    assert batch.inputs.shape == (1, 1)
    for objective in ("full", "in_batch"):
        loss = model(batch, catalogue, objective, 0.001)
        loss.backward()
        assert torch.isfinite(loss)
