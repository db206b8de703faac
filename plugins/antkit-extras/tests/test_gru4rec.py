"""GRU4Rec: the GRU equations by hand, torch.nn.GRU on every prefix, causality, padding, last states, init."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from antkit_extras import GRU4Rec, GRU4RecConfig

DIM, LENGTH = 8, 6


def backbone(**settings) -> GRU4Rec:
    torch.manual_seed(0)
    return GRU4Rec(GRU4RecConfig(**settings), DIM, LENGTH).eval()


def batch() -> tuple[torch.Tensor, torch.Tensor]:
    """Three left-aligned sequences of lengths 6, 3, 1 (padding rows random: they must not matter)."""
    return torch.randn(3, LENGTH, DIM, generator=torch.Generator().manual_seed(1)), torch.tensor([6, 3, 1])


def gru_step(gru: nn.GRU, x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    """One step of a one-layer GRU, written out (Cho et al., 2014, as torch.nn.GRU orders its gates r, z, n)."""
    w_ir, w_iz, w_in = gru.weight_ih_l0.chunk(3)
    w_hr, w_hz, w_hn = gru.weight_hh_l0.chunk(3)
    b_ir, b_iz, b_in = gru.bias_ih_l0.chunk(3)
    b_hr, b_hz, b_hn = gru.bias_hh_l0.chunk(3)
    r = torch.sigmoid(x @ w_ir.T + b_ir + h @ w_hr.T + b_hr)
    z = torch.sigmoid(x @ w_iz.T + b_iz + h @ w_hz.T + b_hz)
    n = torch.tanh(x @ w_in.T + b_in + r * (h @ w_hn.T + b_hn))
    return (1 - z) * n + z * h


@torch.no_grad()
def test_states_follow_the_gru_equations():
    """One layer, hidden = dim: the state after item t is the GRU recurrence run by hand up to t."""
    model = backbone()
    for parameter in model.gru.parameters():  # non-zero biases, so every term of the equations is exercised
        parameter.normal_(std=0.3)
    items, lengths = batch()
    states = model(items, lengths)
    h = torch.zeros(3, DIM)
    for t in range(LENGTH):
        h = gru_step(model.gru, items[:, t], h)
        torch.testing.assert_close(states[:, t], h)


@torch.no_grad()
def test_each_prefix_matches_torch_gru_and_projection():
    """Two layers, hidden 12 != dim 8: forward at t equals a separate nn.GRU run on the prefix 0..t alone,
    followed by the linear map back to the model dim."""
    model = backbone(layers=2, hidden=12)
    reference = nn.GRU(DIM, 12, num_layers=2, batch_first=True)
    reference.load_state_dict(model.gru.state_dict())
    items, lengths = batch()
    states = model(items, lengths)
    assert states.shape == (3, LENGTH, DIM)
    for row, length in enumerate(lengths.tolist()):
        for t in range(length):
            prefix_states, _ = reference(items[row : row + 1, : t + 1])
            expected = prefix_states[0, -1] @ model.output.weight.T + model.output.bias
            torch.testing.assert_close(states[row, t], expected)


@torch.no_grad()
def test_later_items_never_change_earlier_states():
    model = backbone(layers=2)
    items, lengths = batch()
    states = model(items, lengths)
    for t in range(LENGTH - 1):
        changed = items.clone()
        changed[:, t + 1 :] = torch.randn_like(changed[:, t + 1 :]) * 10
        assert torch.equal(model(changed, lengths)[:, : t + 1], states[:, : t + 1])


@torch.no_grad()
def test_padding_never_changes_real_positions():
    model = backbone(hidden=16)
    items, lengths = batch()
    states = model(items, lengths)
    padded = items.clone()
    for row, length in enumerate(lengths.tolist()):
        padded[row, length:] = 0.0 if row % 2 else 1e3
    changed = model(padded, lengths)
    for row, length in enumerate(lengths.tolist()):
        assert torch.equal(changed[row, :length], states[row, :length])


@torch.no_grad()
@pytest.mark.parametrize("settings", [{}, {"layers": 2, "hidden": 12}])
def test_last_states_are_the_states_at_the_last_real_position(settings):
    model = backbone(**settings)
    items, lengths = batch()
    torch.testing.assert_close(model.last_states(items, lengths), model(items, lengths)[torch.arange(3), lengths - 1])


def test_input_dropout_only_while_training():
    """The configured dropout is applied to the input vectors in training, not in evaluation."""
    model = backbone(dropout=0.5)
    items, lengths = batch()
    assert model.input_dropout.p == 0.5
    with torch.no_grad():
        assert torch.equal(model(items, lengths), model(items, lengths))
        model.train()
        assert not torch.equal(model(items, lengths), model.eval()(items, lengths))


def test_sequence_modules_hold_every_parameter_and_there_are_no_positions():
    """Transfer keeps (and re-learning freezes) the GRU and the output layer: all of GRU4Rec's parameters."""
    model = backbone(layers=2, hidden=12)
    kept = {id(p) for module in model.sequence_modules() for p in module.parameters()}
    assert kept == {id(p) for p in model.parameters()}
    assert tuple(model.position_modules()) == ()
    assert not any(True for _ in backbone().output.parameters())  # hidden = dim: no output layer


def test_initialisation():
    """GRU: Xavier-uniform weights, zero biases (RecBole's GRU4Rec); output layer: N(0, 0.02), zero bias (antkit)."""
    model = GRU4Rec(GRU4RecConfig(hidden=64), 32, LENGTH)
    for key, parameter in model.gru.named_parameters():
        if key.startswith("bias"):
            assert torch.count_nonzero(parameter) == 0
        else:
            bound = (6 / sum(parameter.shape)) ** 0.5
            assert parameter.abs().max() <= bound and parameter.std() > bound / 3
    assert torch.count_nonzero(model.output.bias) == 0
    assert 0.017 < model.output.weight.std().item() < 0.023
