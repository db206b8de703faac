"""Evaluation of a model on one domain: full ranking of every item for each user."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from antkit.data.catalogue import Catalogue
from antkit.data.splits import EvaluationSet
from antkit.evaluation.metrics import metric_values, target_ranks
from antkit.training.distributed import Context, sum_across


@dataclass
class Evaluation:
    """Metrics averaged over users, and their standard errors (the users' standard deviation / sqrt(users))."""

    metrics: dict[str, float]
    standard_errors: dict[str, float]


@torch.no_grad()
def evaluate_with_errors(
    model,
    catalogue: Catalogue,
    cases: EvaluationSet,
    ks: tuple[int, ...] = (10, 50),
    exclude_history: bool = True,
    batch_size: int = 1024,
    context: Context = Context(),
    table: torch.Tensor | None = None,
) -> Evaluation:
    """Recall@K and NDCG@K averaged over ``cases``; each process scores its share of the users.

    The item table is computed once (or passed as ``table``), not once per batch.
    """
    was_training = model.training
    model.eval()
    device = context.device
    if table is None:
        table = model.item_table(catalogue.to(device))
    candidates = table[1:]
    by_length = torch.argsort(cases.lengths, stable=True)  # similar lengths together: little padding
    shares = by_length[context.rank :: context.world_size]
    names = [name for k in ks for name in (f"recall@{k}", f"ndcg@{k}")]
    totals = torch.zeros(2, len(names), dtype=torch.float64, device=device)  # sums of values, of squares
    for start in range(0, len(shares), batch_size):
        rows = shares[start : start + batch_size]
        length = int(cases.lengths[rows].max())
        inputs = cases.inputs[rows, :length].to(device)
        lengths = cases.lengths[rows].to(device)
        users = model.backbone.last_states(table[inputs], lengths)  # (U, D)
        scores = model.scores(users, candidates)
        ranks = target_ranks(scores, cases.targets[rows].to(device), inputs if exclude_history else None)
        values = metric_values(ranks, ks)
        totals += torch.stack([torch.stack([values[n].sum(), values[n].square().sum()]) for n in names], dim=1)
    sums, squares = sum_across(context, totals).tolist()
    model.train(was_training)
    n = max(1, len(cases))
    means = {name: total / n for name, total in zip(names, sums)}
    errors = {name: math.sqrt(max(0.0, square / n - means[name] ** 2) / n) for name, square in zip(names, squares)}
    return Evaluation(means, errors)


def evaluate(model, catalogue: Catalogue, cases: EvaluationSet, *args, **kwargs) -> dict[str, float]:
    """The metrics of ``evaluate_with_errors`` (same arguments)."""
    return evaluate_with_errors(model, catalogue, cases, *args, **kwargs).metrics
