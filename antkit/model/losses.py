"""Scores and losses of ANT: cosine similarity over a temperature, with softmax cross-entropy."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def cosine_scores(users: torch.Tensor, items: torch.Tensor, temperature: float) -> torch.Tensor:
    """(R, D) x (C, D) -> (R, C) cosine similarities / temperature (zero vectors score 0)."""
    return F.normalize(users, dim=-1) @ F.normalize(items, dim=-1).T / temperature


def full_softmax_loss(users: torch.Tensor, targets: torch.Tensor, table: torch.Tensor, temperature: float) -> torch.Tensor:
    """Softmax over every item of the domain. ``table`` (n+1, D) has the padding item in row 0, which is
    never a candidate; ``targets`` are 1-based item ids (R,)."""
    return F.cross_entropy(cosine_scores(users, table[1:], temperature), targets - 1)


def in_batch_loss(users: torch.Tensor, target_index: torch.Tensor, candidates: torch.Tensor, temperature: float) -> torch.Tensor:
    """In-batch softmax of pre-training, over the distinct target items of the batch.

    ``candidates`` (U, D) are the distinct targets, ``target_index`` (R,) each row's index into them. This equals
    the reference's loss over one column per row with the other rows of the same target masked: a negative item
    that is the target of c rows appears c times in that denominator, hence the ``log c`` added to its logit.
    """
    scores = cosine_scores(users, candidates, temperature)  # (R, U)
    counts = torch.bincount(target_index, minlength=candidates.shape[0]).to(scores.dtype)
    log_counts = counts.log()[None, :].expand_as(scores)
    own = F.one_hot(target_index, candidates.shape[0]).bool()
    return F.cross_entropy(scores + log_counts.masked_fill(own, 0.0), target_index)


def image_text_loss(
    image: torch.Tensor, text: torch.Tensor, has_image: torch.Tensor, has_text: torch.Tensor, temperature: float
) -> torch.Tensor:
    """Image -> text in-batch matching of the adapted vectors of the batch's distinct items (U, D).

    Rows: items with an image and a text; candidates: the texts of all items that have one. Zero (with a
    gradient path) when no item qualifies.
    """
    rows = (has_image & has_text).nonzero().squeeze(1)
    columns = has_text.nonzero().squeeze(1)
    if len(rows) == 0:
        return image.sum() * 0.0
    scores = cosine_scores(image[rows], text[columns], temperature)  # (R', C')
    labels = torch.searchsorted(columns, rows)  # position of each row's own text among the columns
    return F.cross_entropy(scores, labels)
