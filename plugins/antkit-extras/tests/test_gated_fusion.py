"""Gated fusion: a two-modality example by hand, masking of absent modalities, items without any, reset."""

from __future__ import annotations

import math

import pytest
import torch

from antkit_extras import GatedConfig, GatedFusion

MODALITIES = ["text", "image"]


def hand_set(temperature: float = 1.0) -> GatedFusion:
    """dim 2; text scores w = (1, 0), b = 0; image scores w = (0, 1), b = 0.5."""
    fusion = GatedFusion(GatedConfig(temperature=temperature), MODALITIES, 2)
    with torch.no_grad():
        fusion.score_weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0]]))
        fusion.score_bias.copy_(torch.tensor([0.0, 0.5]))
    return fusion


# four items: both modalities, text only, image only, none (absent rows are zero, as the item tower gives them)
VECTORS = {"text": torch.tensor([[2.0, 0.0], [3.0, -1.0], [0.0, 0.0], [0.0, 0.0]]),
           "image": torch.tensor([[0.0, 1.0], [0.0, 0.0], [-1.0, 4.0], [0.0, 0.0]])}
PRESENT = {"text": torch.tensor([True, True, False, False]), "image": torch.tensor([True, False, True, False])}


@pytest.mark.parametrize("temperature", [1.0, 2.0])
def test_two_modalities_by_hand(temperature):
    """Item 0: s_text = 2, s_image = 1 + 0.5; gates = softmax(s / T); output = gate_text v_text + gate_image v_image.
    Items with one modality get exactly that modality's vector; the item with none gets zero."""
    fusion = hand_set(temperature)
    text_gate = 1 / (1 + math.exp((1.5 - 2.0) / temperature))
    image_gate = 1 - text_gate
    expected = torch.tensor([[2.0 * text_gate, image_gate], [3.0, -1.0], [-1.0, 4.0], [0.0, 0.0]])
    with torch.no_grad():
        torch.testing.assert_close(fusion(VECTORS, PRESENT), expected)
        gates = torch.tensor([[text_gate, image_gate], [1.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
        torch.testing.assert_close(fusion.gates(VECTORS, PRESENT), gates)
    assert temperature != 1.0 or abs(text_gate - 0.6224593) < 1e-6  # e^0.5 / (e^0.5 + 1)


def test_absent_rows_never_change_the_output():
    """Whatever an absent modality's row holds (even inf or NaN), its gate is zero and the output is the same."""
    fusion = hand_set()
    reference = fusion(VECTORS, PRESENT)
    for filler in (torch.full((4, 2), 1e6), torch.randn(4, 2), torch.full((4, 2), float("nan")),
                   torch.full((4, 2), float("inf"))):
        polluted = {m: torch.where(PRESENT[m][:, None], VECTORS[m], filler) for m in MODALITIES}
        assert torch.equal(fusion(polluted, PRESENT), reference)
        assert torch.equal(fusion.gates(polluted, PRESENT) * ~torch.stack(list(PRESENT.values()), 1), torch.zeros(4, 2))


def test_item_without_modalities_is_zero_with_finite_gradients():
    fusion = GatedFusion(GatedConfig(), ["text", "image", "price"], 4)
    vectors = {m: torch.randn(3, 4, requires_grad=True) for m in fusion.modalities}
    present = {m: torch.tensor([True, False, False]) for m in fusion.modalities}
    fused = fusion(vectors, present)
    assert torch.equal(fused[1:], torch.zeros(2, 4))
    fused.sum().backward()
    for parameter in (fusion.score_weight, fusion.score_bias, *vectors.values()):
        assert torch.isfinite(parameter.grad).all()
    assert fusion.score_weight.grad.abs().sum() > 0


def test_gates_are_learned():
    """A gradient step on the scores moves the gates: the fusion trains."""
    fusion = GatedFusion(GatedConfig(), MODALITIES, 2)
    before = fusion.gates(VECTORS, PRESENT)[0].detach()
    optimiser = torch.optim.SGD(fusion.parameters(), lr=10.0)
    (-fusion(VECTORS, PRESENT)[0, 0]).backward()  # a larger first coordinate favours text (2, 0) over image (0, 1)
    optimiser.step()
    assert fusion.gates(VECTORS, PRESENT)[0, 0] > before[0]


def test_reset_parameters_redraws_the_scores():
    fusion = hand_set()
    fusion.reset_parameters()
    assert not torch.equal(fusion.score_weight, torch.tensor([[1.0, 0.0], [0.0, 1.0]]))
    assert fusion.score_weight.abs().max() < 0.2  # N(0, 0.02), as antkit initialises
    assert torch.count_nonzero(fusion.score_bias) == 0
    again = fusion.score_weight.detach().clone()
    fusion.reset_parameters()
    assert not torch.equal(fusion.score_weight, again)
