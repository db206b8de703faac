"""SumProduct fusion and the item tower (adaptors on present rows only, zero rows for absent modalities)."""

from __future__ import annotations

import torch
from torch import nn

from antkit.components.base import Adaptor, ComponentConfig
from antkit.data.catalogue import Catalogue
from antkit.model.item_tower import ItemTower
from antkit.plugins.registry import tagged_config

MODALITIES = ["text", "image", "price"]


def make_fusion(registry, modalities=MODALITIES, dim=2, **settings):
    cls = registry.get("fusion", "sum_product")
    return cls(cls.Config(**settings), modalities, dim)


def test_sum_product_by_hand(registry):
    """item = image + text + price + beta * image * text."""
    fusion = make_fusion(registry, beta=0.5)
    vectors = {
        "image": torch.tensor([[1.0, 2.0], [0.0, -1.0]]),
        "text": torch.tensor([[3.0, 4.0], [2.0, 5.0]]),
        "price": torch.tensor([[0.5, 0.5], [1.0, 1.0]]),
    }
    present = {m: torch.ones(2, dtype=torch.bool) for m in MODALITIES}
    # row 0: (1+3+0.5 + 0.5*3, 2+4+0.5 + 0.5*8) = (6.0, 10.5)
    # row 1: (0+2+1 + 0.5*0, -1+5+1 + 0.5*-5) = (3.0, 2.5)
    assert torch.allclose(fusion(vectors, present), torch.tensor([[6.0, 10.5], [3.0, 2.5]]))


def test_sum_product_default_beta_is_01(registry):
    """The default beta is 0.1 (ANT)."""
    fusion = make_fusion(registry, modalities=["text", "image"], dim=1)
    vectors = {"image": torch.tensor([[2.0]]), "text": torch.tensor([[3.0]])}
    present = {m: torch.ones(1, dtype=torch.bool) for m in ("text", "image")}
    assert torch.allclose(fusion(vectors, present), torch.tensor([[5.0 + 0.1 * 6.0]]))


def test_sum_product_beta_zero_is_plain_sum(registry):
    """beta 0: the plain sum of the modality vectors."""
    fusion = make_fusion(registry, beta=0.0)
    vectors = {
        "image": torch.tensor([[1.0, 2.0]]),
        "text": torch.tensor([[3.0, 4.0]]),
        "price": torch.tensor([[-1.0, 0.25]]),
    }
    present = {m: torch.ones(1, dtype=torch.bool) for m in MODALITIES}
    assert torch.allclose(fusion(vectors, present), torch.tensor([[3.0, 6.25]]))


def test_sum_product_without_image_has_no_product_term(registry):
    """Without the image modality (ablation): text + price only."""
    fusion = make_fusion(registry, modalities=["text", "price"], beta=0.5)
    vectors = {"text": torch.tensor([[3.0, 4.0]]), "price": torch.tensor([[1.0, 1.0]])}
    present = {m: torch.ones(1, dtype=torch.bool) for m in ("text", "price")}
    assert torch.allclose(fusion(vectors, present), torch.tensor([[4.0, 5.0]]))


# ----------------------------------------------------------------------------------------------- item tower


class CountingConfig(ComponentConfig):
    pass


class CountingAdaptor(Adaptor):
    """A registered-style adaptor: y = x W + 1 (nonzero even for zero input); records the rows it receives."""

    name = "counting"
    Config = CountingConfig

    def __init__(self, config, in_dim, dim):
        super().__init__(config, in_dim, dim)
        self.linear = nn.Linear(in_dim, dim)
        self.calls: list[torch.Tensor] = []
        self.reset_parameters()

    def reset_parameters(self):
        with torch.no_grad():
            self.linear.weight.normal_()
            self.linear.bias.fill_(1.0)

    def forward(self, x):
        self.calls.append(x.detach().clone())
        return self.linear(x)


def make_catalogue():
    """5 rows (row 0 padding): text everywhere but row 0 and 3; image on rows 1 and 4 only."""
    torch.manual_seed(0)
    text_present = torch.tensor([False, True, True, False, True])
    image_present = torch.tensor([False, True, False, False, True])
    text = torch.randn(5, 3) * text_present[:, None]
    image = torch.randn(5, 4) * image_present[:, None]
    return Catalogue({"text": text, "image": image}, {"text": text_present, "image": image_present})


def make_tower(registry, beta=0.1):
    """The counting adaptor is registered like a plugin's and built through the registry."""
    registry.add("adaptor", CountingAdaptor, "tests")
    config = tagged_config(CountingAdaptor)(name="counting")
    adaptors = {"text": registry.build("adaptor", config, 3, 2), "image": registry.build("adaptor", config, 4, 2)}
    assert all(isinstance(a, CountingAdaptor) for a in adaptors.values())
    return ItemTower(adaptors, make_fusion(registry, modalities=["text", "image"], beta=beta))


def test_tower_calls_adaptor_only_on_present_rows(registry):
    """Each adaptor receives exactly the rows that have its modality, in order."""
    catalogue = make_catalogue()
    tower = make_tower(registry)
    tower(catalogue)
    text_calls, image_calls = tower.adaptors["text"].calls, tower.adaptors["image"].calls
    assert sum(len(c) for c in text_calls) == 3
    assert sum(len(c) for c in image_calls) == 2
    assert torch.equal(torch.cat(text_calls), catalogue.features["text"][[1, 2, 4]])
    assert torch.equal(torch.cat(image_calls), catalogue.features["image"][[1, 4]])


def test_tower_absent_rows_get_zero_adapted_vector(registry):
    """Rows lacking a modality get an all-zero adapted vector (although the adaptor maps 0 to nonzero)."""
    catalogue = make_catalogue()
    tower = make_tower(registry)
    tower.eval()
    fused, adapted = tower(catalogue)
    text_adaptor, image_adaptor = tower.adaptors["text"], tower.adaptors["image"]
    assert torch.equal(adapted["text"][[0, 3]], torch.zeros(2, 2))
    assert torch.equal(adapted["image"][[0, 2, 3]], torch.zeros(3, 2))
    with torch.no_grad():
        assert torch.allclose(adapted["text"][[1, 2, 4]], text_adaptor.linear(catalogue.features["text"][[1, 2, 4]]))
        assert torch.allclose(adapted["image"][[1, 4]], image_adaptor.linear(catalogue.features["image"][[1, 4]]))
    # fusion of zero and nonzero parts: row 2 has text only, row 0 and 3 nothing
    assert torch.allclose(fused[2], adapted["text"][2])
    assert torch.equal(fused[[0, 3]], torch.zeros(2, 2))
    expected_1 = adapted["text"][1] + adapted["image"][1] + 0.1 * adapted["text"][1] * adapted["image"][1]
    assert torch.allclose(fused[1], expected_1)


def test_tower_all_present_and_none_present(registry):
    """All rows present: the adaptor sees all of them; none present: it is not called and rows are zero."""
    tower = make_tower(registry)
    features = {"text": torch.randn(3, 3), "image": torch.zeros(3, 4)}
    present = {"text": torch.ones(3, dtype=torch.bool), "image": torch.zeros(3, dtype=torch.bool)}
    fused, adapted = tower(Catalogue(features, present))
    assert sum(len(c) for c in tower.adaptors["text"].calls) == 3
    assert sum(len(c) for c in tower.adaptors["image"].calls) == 0
    assert torch.equal(adapted["image"], torch.zeros(3, 2))
    assert torch.allclose(fused, adapted["text"])


def test_tower_gradient_reaches_adaptor_through_present_rows(registry):
    """The scatter into the zero table keeps the gradient path to the adaptor."""
    catalogue = make_catalogue()
    tower = make_tower(registry)
    fused, _ = tower(catalogue)
    fused.sum().backward()
    assert tower.adaptors["image"].linear.weight.grad is not None
    assert torch.count_nonzero(tower.adaptors["image"].linear.weight.grad) > 0


def test_tower_reset_parameters_resets_every_adaptor(registry):
    """ItemTower.reset_parameters re-draws each adaptor."""
    tower = make_tower(registry)
    with torch.no_grad():
        for adaptor in tower.adaptors.values():
            adaptor.linear.bias.fill_(7.0)
    tower.reset_parameters()
    for adaptor in tower.adaptors.values():
        assert torch.equal(adaptor.linear.bias, torch.ones_like(adaptor.linear.bias))
