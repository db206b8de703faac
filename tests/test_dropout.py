"""The fast expert-input dropout: right drop rate, inverted scaling, independent masks, seeded."""

import torch

from antkit.model.dropout import dropout_copies, dropout_once


def test_drop_rate_and_scaling():
    """About p of the elements are zero; the rest are x / (1 - p)."""
    torch.manual_seed(0)
    x = torch.full((200, 500), 3.0)
    dropped = dropout_copies(x, 4, 0.2)
    assert dropped.shape == (4, 200, 500)
    assert abs((dropped == 0).float().mean().item() - 0.2) < 0.005
    assert torch.allclose(dropped[dropped != 0], torch.tensor(3.0 / 0.8))


def test_copies_and_elements_are_independent():
    """Masks of different copies are uncorrelated, and so are neighbouring elements."""
    torch.manual_seed(1)
    kept = (dropout_copies(torch.ones(100, 1000), 2, 0.5) != 0).float()
    between_copies = torch.corrcoef(torch.stack([kept[0].flatten(), kept[1].flatten()]))[0, 1]
    neighbours = torch.corrcoef(torch.stack([kept[0].flatten()[:-1], kept[0].flatten()[1:]]))[0, 1]
    assert abs(between_copies.item()) < 0.02
    assert abs(neighbours.item()) < 0.02


def test_same_seed_same_masks_and_odd_sizes():
    """Reproducible under torch.manual_seed; sizes that are not a multiple of 4 work."""
    x = torch.randn(7, 3)
    torch.manual_seed(5)
    first = dropout_once(x, 0.3)
    torch.manual_seed(5)
    assert torch.equal(first, dropout_once(x, 0.3))
    assert first.shape == (7, 3)


def test_empty_and_single_row_inputs():
    """An adaptor may see no item of its modality in a batch: zero rows give an empty result, not an error."""
    assert dropout_copies(torch.zeros(0, 5), 3, 0.2).shape == (3, 0, 5)
    assert dropout_once(torch.ones(1, 1), 0.2).shape == (1, 1)
