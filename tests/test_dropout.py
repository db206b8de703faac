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
    """A large draw is split over threads and each part into chunks; each part's generator starts where the part
    does, so the copies are those of one PCG64DXSM stream seeded from torch's generator, whatever the parts,
    chunks (here also smaller than one copy, and crossing from one copy into the next) and threads."""
    import numpy as np

    from antkit.model import dropout

    x = torch.randn(301, 7)  # 8 x 2,107 = 16,856 lanes = 4,214 words, split unevenly below
    torch.manual_seed(3)
    seed = int(torch.randint(0, 2**63 - 1, (), dtype=torch.int64))
    lanes = torch.from_numpy(np.random.PCG64DXSM(seed).random_raw(4214).view(np.int16).copy())
    kept = (lanes >= -32768 + round(0.2 * 65536)).view(8, 301, 7)
    expected = kept * (x * (1.0 / 0.8))
    for part_words, chunk_words, threads in ((1 << 20, 1 << 18, 1), (64, 16, 2), (50, 7, 3), (1000, 333, 2)):
        monkeypatch.setattr(dropout, "_PART_WORDS", part_words)
        monkeypatch.setattr(dropout, "_CHUNK_WORDS", chunk_words)
        monkeypatch.setattr(torch, "get_num_threads", lambda: threads)
        torch.manual_seed(3)
        assert torch.equal(dropout_copies(x, 8, 0.2), expected), (part_words, chunk_words, threads)


def test_the_torch_path_draws_the_same_masks():
    """Inputs numpy cannot hold (bfloat16) or that need a gradient take torch operations on the same words."""
    x = torch.randn(40, 9)
    torch.manual_seed(8)
    reference = dropout_copies(x, 3, 0.25) != 0
    torch.manual_seed(8)
    assert torch.equal(dropout_copies(x.to(torch.bfloat16), 3, 0.25) != 0, reference)
    needs_grad = x.clone().requires_grad_()
    torch.manual_seed(8)
    dropped = dropout_copies(needs_grad, 3, 0.25)
    assert torch.equal(dropped != 0, reference)
    dropped.sum().backward()
    assert torch.equal(needs_grad.grad, reference.sum(0) / 0.75)


def test_the_result_can_be_written_into_a_given_tensor():
    x = torch.randn(5, 4)
    out = torch.full((2, 5, 4), float("nan"))
    torch.manual_seed(1)
    assert dropout_copies(x, 2, 0.2, out=out) is out
    torch.manual_seed(1)
    assert torch.equal(out, dropout_copies(x, 2, 0.2))
