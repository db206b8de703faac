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


def test_parts_drawn_on_threads_give_the_masks_of_one_sequential_draw(monkeypatch):
    """A large draw is split over threads; each part's generator starts where the part does, so the masks are
    those of one PCG64DXSM stream seeded from torch's generator, whatever the parts and threads."""
    import numpy as np

    from antkit.model import dropout

    x = torch.randn(301, 7)  # 8 x 2,107 = 16,856 lanes = 4,214 words, split unevenly below
    torch.manual_seed(3)
    seed = int(torch.randint(0, 2**63 - 1, (), dtype=torch.int64))
    lanes = torch.from_numpy(np.random.PCG64DXSM(seed).random_raw(4214).view(np.int16).copy())
    expected = (lanes >= -32768 + round(0.2 * 65536)).view(8, 301, 7)
    for part_words, threads in ((1 << 20, 1), (64, 2), (50, 3)):
        monkeypatch.setattr(dropout, "_PART_WORDS", part_words)
        monkeypatch.setattr(torch, "get_num_threads", lambda: threads)
        torch.manual_seed(3)
        assert torch.equal(dropout_copies(x, 8, 0.2) != 0, expected), (part_words, threads)
