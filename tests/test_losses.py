"""Losses of antkit.model.losses against hand computations and the reference's formulation."""

from __future__ import annotations

import math

import torch

from antkit.model.losses import (
    cosine_scores,
    full_softmax_loss,
    image_text_loss,
    in_batch_loss,
)


def cos(a, b):
    dot = sum(x * y for x, y in zip(a, b))
    return dot / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))


def cross_entropy(logits, label):
    top = max(logits)
    return -(logits[label] - top - math.log(sum(math.exp(v - top) for v in logits)))


def test_cosine_scores_by_hand():
    """cosine / temperature; zero vectors score 0."""
    users = torch.tensor([[3.0, 4.0]])
    items = torch.tensor([[1.0, 0.0], [0.0, 2.0], [0.0, 0.0]])
    assert torch.allclose(cosine_scores(users, items, 0.5), torch.tensor([[0.6 / 0.5, 0.8 / 0.5, 0.0]]))


def test_full_softmax_loss_by_hand_2x3():
    """Two users, three items (table rows 1..3), temperature 0.5."""
    users = torch.tensor([[1.0, 0.0], [1.0, 1.0]])
    table = torch.tensor([[9.0, 9.0], [1.0, 0.0], [0.0, 1.0], [-1.0, 1.0]])
    targets = torch.tensor([2, 3])
    t = 0.5
    items = [[1.0, 0.0], [0.0, 1.0], [-1.0, 1.0]]
    row0 = [cos([1.0, 0.0], v) / t for v in items]  # (2, 0, -sqrt(2))
    row1 = [cos([1.0, 1.0], v) / t for v in items]  # (sqrt(2), sqrt(2), 0)
    expected = (cross_entropy(row0, 1) + cross_entropy(row1, 2)) / 2
    assert math.isclose(full_softmax_loss(users, targets, table, t).item(), expected, rel_tol=1e-5)


def test_full_softmax_padding_row_is_never_a_candidate():
    """Changing row 0 of the table (the padding item) changes nothing."""
    torch.manual_seed(0)
    users = torch.randn(4, 5)
    table = torch.randn(7, 5)
    targets = torch.tensor([1, 6, 3, 3])
    base = full_softmax_loss(users, targets, table, 0.07)
    for row0 in (torch.zeros(5), users[0] * 10, torch.randn(5) * 100):
        changed = table.clone()
        changed[0] = row0
        assert torch.allclose(full_softmax_loss(users, targets, changed, 0.07), base)
    # while changing a real row does change it
    changed = table.clone()
    changed[2] = users[0]
    assert not torch.allclose(full_softmax_loss(users, targets, changed, 0.07), base)


def reference_in_batch(users, item_of_row, temperature):
    """The reference: one column per row (its target's vector); for row i, other columns whose target equals
    row i's target are masked out of the denominator; cross-entropy with label i, mean over rows."""
    rows = users.shape[0]
    losses = []
    for i in range(rows):
        logits = []
        for j in range(rows):
            if j != i and item_of_row[j][0] == item_of_row[i][0]:
                continue
            u, v = users[i], item_of_row[j][1]
            logits.append((j, (u @ v / (u.norm() * v.norm())).item() / temperature))
        own = [pos for pos, (j, _) in enumerate(logits) if j == i][0]
        losses.append(cross_entropy([value for _, value in logits], own))
    return sum(losses) / rows


def test_in_batch_loss_equals_reference_with_duplicate_targets():
    """in_batch_loss over distinct targets equals the reference's per-row masked formulation."""
    torch.manual_seed(0)
    for trial in range(3):
        rows, distinct, dim = 9, 4, 6
        users = torch.randn(rows, dim)
        candidates = torch.randn(distinct, dim)
        target_index = torch.tensor([0, 1, 1, 2, 0, 0, 3, 1, 2]) if trial == 0 else torch.randint(0, distinct, (rows,))
        # make every candidate used at least once (as the model builds it: distinct targets of the batch)
        target_index[:distinct] = torch.arange(distinct)
        item_of_row = [(int(target_index[i]), candidates[target_index[i]]) for i in range(rows)]
        expected = reference_in_batch(users, item_of_row, 0.1)
        got = in_batch_loss(users, target_index, candidates, 0.1).item()
        assert math.isclose(got, expected, rel_tol=1e-5), (trial, got, expected)


def test_in_batch_loss_without_duplicates_is_plain_cross_entropy():
    """All targets distinct: the ordinary in-batch softmax (diagonal labels)."""
    torch.manual_seed(1)
    users, candidates = torch.randn(4, 3), torch.randn(4, 3)
    logits = cosine_scores(users, candidates, 0.2)
    expected = torch.nn.functional.cross_entropy(logits, torch.arange(4))
    assert torch.allclose(in_batch_loss(users, torch.arange(4), candidates, 0.2), expected)


def test_image_text_loss_by_hand():
    """Rows: items with an image (and text); candidates: all items with text; image -> text direction."""
    image = torch.tensor([[1.0, 0.0], [7.0, 7.0], [0.0, 1.0]])
    text = torch.tensor([[1.0, 1.0], [0.0, 1.0], [1.0, 0.0]])
    has_image = torch.tensor([True, False, True])
    has_text = torch.tensor([True, True, True])
    t = 0.5
    texts = [[1.0, 1.0], [0.0, 1.0], [1.0, 0.0]]
    row0 = [cos([1.0, 0.0], v) / t for v in texts]
    row2 = [cos([0.0, 1.0], v) / t for v in texts]
    expected = (cross_entropy(row0, 0) + cross_entropy(row2, 2)) / 2
    got = image_text_loss(image, text, has_image, has_text, t)
    assert math.isclose(got.item(), expected, rel_tol=1e-5)


def test_image_text_loss_ignores_rows_without_image():
    """The image vector of an item without image has no effect; its text is still a candidate."""
    torch.manual_seed(0)
    image, text = torch.randn(5, 4), torch.randn(5, 4)
    has_image = torch.tensor([True, False, True, False, True])
    has_text = torch.ones(5, dtype=torch.bool)
    base = image_text_loss(image, text, has_image, has_text, 0.1)
    changed = image.clone()
    changed[[1, 3]] = torch.randn(2, 4) * 50
    assert torch.allclose(image_text_loss(changed, text, has_image, has_text, 0.1), base)
    changed_text = text.clone()
    changed_text[1] = image[0] * 3  # a text of an imageless item is a negative for the others
    assert not torch.allclose(image_text_loss(image, changed_text, has_image, has_text, 0.1), base)


def test_image_text_loss_no_image_is_zero_with_gradient():
    """No item has an image: the loss is 0 (not NaN) and backward works."""
    image = torch.randn(3, 4, requires_grad=True)
    text = torch.randn(3, 4, requires_grad=True)
    loss = image_text_loss(image, text, torch.zeros(3, dtype=torch.bool), torch.ones(3, dtype=torch.bool), 0.07)
    assert loss.item() == 0.0
    assert loss.requires_grad
    loss.backward()
    assert image.grad is not None and torch.count_nonzero(image.grad) == 0
