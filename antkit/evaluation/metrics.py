"""Full-ranking metrics: Recall@K and NDCG@K from the rank of each user's target among all items."""

from __future__ import annotations

import math

import torch


def input_items(inputs: torch.Tensor, n_items: int) -> torch.Tensor:
    """(U, n_items) bool: whether item ``j + 1`` is among row ``u``'s ``inputs`` (U, L; 0 = padding), as a
    ranking over every item sees them: what evaluation and recommendations leave out."""
    seen = torch.zeros(inputs.shape[0], n_items + 1, dtype=torch.bool, device=inputs.device)
    return seen.scatter_(1, inputs, True)[:, 1:]


def target_ranks(scores: torch.Tensor, targets: torch.Tensor, history: torch.Tensor | None) -> torch.Tensor:
    """0-based rank of each target among all items.

    ``scores`` (U, n): column ``j`` is item ``j + 1``; ``targets`` (U,) are 1-based item ids; ``history`` (U, L)
    are the input items (0 = padding), which are excluded from the ranking, except the target itself.
    Ties count against the target: an item scoring the same as the target ranks above it. A NaN score (a
    diverged model) counts as the lowest, so a target scored NaN ranks last.
    """
    users = torch.arange(len(targets), device=scores.device)
    scores = scores.masked_fill(scores.isnan(), float("-inf"))
    if history is not None:
        excluded = input_items(history, scores.shape[1])
        excluded[users, targets - 1] = False
        scores = scores.masked_fill(excluded, float("-inf"))
    target_scores = scores[users, targets - 1]
    return (scores >= target_scores[:, None]).sum(1) - 1


def metric_values(ranks: torch.Tensor, ks: tuple[int, ...]) -> dict[str, torch.Tensor]:
    """Per-user Recall@K (hit: 1 or 0) and NDCG@K (1 / log2(rank + 2) when rank < K, else 0), float64."""
    gains = 1.0 / torch.log2(ranks.double() + 2.0)
    values = {}
    for k in ks:
        hit = ranks < k
        values[f"recall@{k}"] = hit.double()
        values[f"ndcg@{k}"] = torch.where(hit, gains, torch.zeros_like(gains))
    return values


def mean(values: torch.Tensor) -> float:
    """The mean of per-user ``values`` (0 for no users)."""
    return float(values.mean()) if len(values) else 0.0


def standard_error(values: torch.Tensor) -> float:
    """The standard error of the mean of per-user ``values``: their standard deviation / sqrt(users)."""
    if len(values) == 0:
        return 0.0
    return math.sqrt(float(values.var(correction=0)) / len(values))
