"""antkit.testing: every built-in component keeps its kind's contract, and each check catches a component
that breaks it (so a plugin author's test fails for the right reason)."""

from __future__ import annotations

import pytest
import torch
from test_features import png

from antkit.components.adaptors import LinearAdaptor, MixtureOfExperts
from antkit.components.backbones import SASRec
from antkit.components.encoders.image import ColorLayout
from antkit.components.encoders.price import QuantilePrice, SinusoidalPrice
from antkit.components.encoders.text import HashedNgrams
from antkit.components.fusions import SumProduct
from antkit.components.strategies import Finetune, Relearn, Scratch
from antkit.data.sources import SyntheticSource
from antkit.plugins.manager import load_registry
from antkit.testing import check_component, check_data_source, check_encoder, check_fusion


@pytest.mark.parametrize("cls", [SASRec, SumProduct, MixtureOfExperts, LinearAdaptor, Relearn, Finetune, Scratch])
def test_built_in_components_keep_the_contract(cls):
    check_component(cls)


def test_built_in_encoders_and_source_keep_the_contract():
    check_encoder(HashedNgrams, ["red pan", None, "", "blue mug"])
    check_encoder(SinusoidalPrice, [12.5, None, 3.0])
    check_encoder(QuantilePrice, [12.5, None, 3.0, 7.0])
    check_encoder(ColorLayout, [[png((200, 10, 10))], [], None])
    check_data_source(SyntheticSource, "office", SyntheticSource.Config(users=20))


def test_every_registered_kind_has_a_check():
    registry = load_registry(entry_point_plugins=False)
    for kind in ("backbone", "fusion", "adaptor", "strategy"):
        for name in registry.names(kind):
            check_component(registry.get(kind, name))


class PeekingSASRec(SASRec):
    """Breaks causality: every position also sees the mean of the whole sequence."""

    name = "peeking"

    def forward(self, items, lengths):
        return super().forward(items, lengths) + items.mean(dim=1, keepdim=True)


class LeakyFusion(SumProduct):
    """Breaks item independence: adds the batch mean."""

    name = "leaky"

    def forward(self, vectors, present):
        fused = super().forward(vectors, present)
        return fused + fused.mean(dim=0, keepdim=True)


class ForgetfulAdaptor(LinearAdaptor):
    """Breaks re-learning: reset_parameters does nothing."""

    name = "forgetful"

    def reset_parameters(self):
        pass


class EndCountingSASRec(SASRec):
    """Breaks padding: a position's extra input depends on how far the batch is padded."""

    name = "end_counting"

    def forward(self, items, lengths):
        distance = torch.arange(items.shape[1] - 1, -1, -1, dtype=items.dtype)  # from the padded end
        ramp = torch.linspace(0, 1, items.shape[2], dtype=items.dtype)  # (not constant over features: LayerNorm)
        return super().forward(items + distance[None, :, None] * ramp, lengths)


class ScaledAdaptor(LinearAdaptor):
    """Keeps the contract, with a constant buffer that reset_parameters rightly leaves alone."""

    name = "scaled"

    def __init__(self, *args):
        super().__init__(*args)
        self.register_buffer("scale", torch.tensor(0.5))

    def forward(self, features):
        return super().forward(features) * self.scale


class UnstableEncoder(HashedNgrams):
    """Breaks per-item independence: scales by the number of items."""

    name = "unstable"

    def encode(self, values):
        features, present = super().encode(values)
        return features * len(values), present


@pytest.mark.parametrize("check, message", [
    (lambda: check_component(PeekingSASRec), "not causal"),
    (lambda: check_fusion(LeakyFusion), "depends on the other items"),
    (lambda: check_component(ForgetfulAdaptor), "does not re-draw every parameter"),
    (lambda: check_encoder(UnstableEncoder, ["a", "b c"]), "depends on the other items"),
    (lambda: check_component(EndCountingSASRec), "change with how far a batch is padded"),
])
def test_checks_catch_broken_components(check, message):
    with pytest.raises(AssertionError, match=message):
        check()


def test_a_buffer_is_not_a_parameter_to_reset():
    check_component(ScaledAdaptor)


def test_check_component_needs_examples_for_encoders():
    with pytest.raises(TypeError, match="check_encoder"):
        check_component(HashedNgrams)
