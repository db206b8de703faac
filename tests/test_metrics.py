"""Full-ranking metrics: target_ranks and metric_values on hand-worked cases."""

from __future__ import annotations

import math

import torch

from antkit.evaluation.metrics import metric_values, target_ranks


def test_ranks_without_history():
    """Rank = number of items scoring above the target (0-based); column j is item j + 1."""
    scores = torch.tensor([[0.1, 0.9, 0.5, 0.3], [0.8, 0.2, 0.4, 0.6]])
    targets = torch.tensor([3, 1])  # item 3 -> score 0.5: one above; item 1 -> 0.8: best
    assert target_ranks(scores, targets, None).tolist() == [1, 0]
    targets = torch.tensor([1, 2])  # 0.1 is worst of 4 -> 3; 0.2 is worst -> 3
    assert target_ranks(scores, targets, None).tolist() == [3, 3]


def test_history_items_are_excluded():
    """Items in the input window cannot rank above the target."""
    scores = torch.tensor([[0.1, 0.9, 0.5, 0.3, 0.7]])
    targets = torch.tensor([3])  # 0.5; items 2 (0.9) and 5 (0.7) above
    assert target_ranks(scores, targets, None).tolist() == [2]
    assert target_ranks(scores, targets, torch.tensor([[2, 0, 0]])).tolist() == [1]
    assert target_ranks(scores, targets, torch.tensor([[2, 5, 1]])).tolist() == [0]


def test_target_in_history_is_not_excluded():
    """The target itself is never excluded, even when it is in the history."""
    scores = torch.tensor([[0.1, 0.9, 0.5, 0.3, 0.7]])
    targets = torch.tensor([3])
    ranks = target_ranks(scores, targets, torch.tensor([[3, 2, 3]]))
    assert ranks.tolist() == [1]  # item 2 excluded, item 5 still above; target ranked, not -inf
    # a target that is the best item stays at rank 0 when repeated in history
    assert target_ranks(scores, torch.tensor([2]), torch.tensor([[2, 2]])).tolist() == [0]


def test_ties_count_against_the_target():
    """An item scoring exactly as the target ranks above it."""
    scores = torch.tensor([[0.5, 0.5, 0.5, 0.1]])
    assert target_ranks(scores, torch.tensor([1]), None).tolist() == [2]
    assert target_ranks(scores, torch.tensor([3]), None).tolist() == [2]
    assert target_ranks(scores, torch.tensor([4]), None).tolist() == [3]
    # an excluded tied item no longer counts
    assert target_ranks(scores, torch.tensor([1]), torch.tensor([[2]])).tolist() == [1]


def test_nan_scores_earn_nothing():
    """A diverged model's NaN scores count as the lowest: a NaN target ranks last (not -1, which gave a hit
    and an infinite NDCG); a NaN elsewhere ranks below the target."""
    nan = float("nan")
    scores = torch.tensor([[nan, nan, nan, nan], [0.1, nan, 0.5, 0.3]])
    ranks = target_ranks(scores, torch.tensor([2, 4]), None)
    assert ranks.tolist() == [3, 1]
    values = metric_values(ranks, (10,))
    assert values["ndcg@10"][0] == 1 / math.log2(5) and all(v.isfinite().all() for v in values.values())
    assert target_ranks(scores[:1], torch.tensor([2]), torch.tensor([[1]])).tolist() == [3]  # excluded items too


def test_padding_in_history_is_harmless():
    """History padding id 0 excludes nothing (item 1 is column 0 and stays)."""
    scores = torch.tensor([[0.9, 0.2, 0.5], [0.9, 0.2, 0.5]])
    targets = torch.tensor([3, 3])
    padded = torch.tensor([[0, 0, 0, 0], [2, 0, 0, 0]])
    assert target_ranks(scores, targets, padded).tolist() == [1, 1]
    assert target_ranks(scores, targets, None).tolist() == [1, 1]


def test_per_user_history():
    """Each user's history only affects that user."""
    scores = torch.tensor([[0.9, 0.8, 0.1], [0.9, 0.8, 0.1]])
    targets = torch.tensor([3, 3])
    history = torch.tensor([[1, 0], [1, 2]])
    assert target_ranks(scores, targets, history).tolist() == [1, 0]


def summed(ranks, ks):
    """Sums over users of each metric, as evaluation accumulates them."""
    return {name: values.sum() for name, values in metric_values(ranks, ks).items()}


def test_metric_sums_by_hand():
    """Recall@K = hits; NDCG@K = 1 / log2(rank + 2) for ranks below K, summed over users."""
    ranks = torch.tensor([0, 1, 4, 9, 10, 60])
    assert metric_values(ranks, (10,))["recall@10"].tolist() == [1, 1, 1, 1, 0, 0]
    sums = summed(ranks, (1, 10, 50))
    assert sums["recall@1"].item() == 1
    assert sums["recall@10"].item() == 4
    assert sums["recall@50"].item() == 5
    assert math.isclose(sums["ndcg@1"].item(), 1.0)
    ndcg10 = 1.0 + 1 / math.log2(3) + 1 / math.log2(6) + 1 / math.log2(11)
    assert math.isclose(sums["ndcg@10"].item(), ndcg10, rel_tol=1e-12)
    assert math.isclose(sums["ndcg@50"].item(), ndcg10 + 1 / math.log2(12), rel_tol=1e-12)
    assert set(sums) == {"recall@1", "ndcg@1", "recall@10", "ndcg@10", "recall@50", "ndcg@50"}


def test_ranks_feed_metrics_end_to_end():
    """Scores -> ranks -> NDCG@2 for two users."""
    scores = torch.tensor([[0.3, 0.2, 0.1], [0.3, 0.2, 0.1]])
    ranks = target_ranks(scores, torch.tensor([2, 3]), torch.tensor([[0], [1]]))
    assert ranks.tolist() == [1, 1]
    sums = summed(ranks, (1, 2))
    assert sums["recall@1"].item() == 0 and sums["recall@2"].item() == 2
    assert math.isclose(sums["ndcg@2"].item(), 2 / math.log2(3))
