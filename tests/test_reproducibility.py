"""Training is bitwise reproducible on a CPU: the same seed gives the same weights, step after step.

The backward of advanced indexing (``table[index]`` with an item repeated across positions) adds the repeated
rows' gradients in an order that varies from call to call on a CPU; two runs of the default recipe drifted apart
by it (a re-learning arm's test Recall@10 moved by 0.01). The model gathers item vectors with ``gather_rows``.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import yaml

from antkit.data.catalogue import Catalogue
from antkit.data.splits import collate, pack_batches, training_segments
from antkit.model.build import build_model
from antkit.model.recommender import gather_rows
from antkit.recipe import validate_recipe


def test_gathered_rows_have_one_gradient_every_time():
    torch.manual_seed(0)
    table = torch.randn(300, 64, requires_grad=True)
    index = torch.randint(0, 300, (256, 50))  # every row about 40 times
    weights = torch.randn(256, 50, 64)
    gradients = []
    for _ in range(10):
        table.grad = None
        (gather_rows(table, index) * weights).sum().backward()
        gradients.append(table.grad.clone())
    assert all(torch.equal(gradients[0], gradient) for gradient in gradients[1:])
    exact = torch.zeros(300, 64, dtype=torch.float64).index_add_(0, index.flatten(), weights.double().view(-1, 64))
    assert torch.allclose(gradients[0].double(), exact, atol=1e-4)
    assert gather_rows(table, index).shape == (256, 50, 64)


@pytest.mark.parametrize("objective", ["full", "in_batch"])
def test_training_steps_repeat_bit_for_bit(tiny_recipe_path, registry, objective):
    data = yaml.safe_load(tiny_recipe_path.read_text())
    data["model"] |= {"dim": 64, "max_length": 50}  # enough repeated items per batch for the CPU to split the work
    recipe = validate_recipe(data, registry)
    generator = torch.Generator().manual_seed(0)
    dims = {"text": 64, "image": 24, "price": 8}
    features = {m: torch.randn(401, d, generator=generator) for m, d in dims.items()}
    for tensor in features.values():
        tensor[0] = 0
    catalogue = Catalogue(features, {m: torch.arange(401) > 0 for m in dims})
    rng = np.random.default_rng(0)
    sequences = [rng.integers(1, 401, size=int(n)) for n in rng.integers(30, 60, size=300)]
    segments = training_segments(sequences, recipe.model.max_length)
    batches = pack_batches(segments, 256, np.random.default_rng(1))[:3]

    def trained() -> list[torch.Tensor]:
        torch.manual_seed(0)
        model = build_model(recipe, registry, dims).train()
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        for indices in batches:
            loss = model(collate(segments, indices), catalogue, objective, 0.001)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        return [parameter.detach().clone() for parameter in model.parameters()]

    first, second = trained(), trained()
    assert all(torch.equal(a, b) for a, b in zip(first, second))
