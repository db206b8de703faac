"""Evaluation of a model on one domain: full ranking of every item for each user."""

from __future__ import annotations

import torch

from antkit.data.catalogue import Catalogue
from antkit.data.splits import EvaluationSet
from antkit.evaluation.metrics import metric_sums, target_ranks
from antkit.training.distributed import Context, sum_across


@torch.no_grad()
def evaluate(
    model,
    catalogue: Catalogue,
    cases: EvaluationSet,
    ks: tuple[int, ...] = (10, 50),
    exclude_history: bool = True,
    batch_size: int = 1024,
    context: Context = Context(),
    table: torch.Tensor | None = None,
) -> dict[str, float]:
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
    totals = {name: torch.zeros((), dtype=torch.float64, device=device) for k in ks for name in (f"recall@{k}", f"ndcg@{k}")}
    for start in range(0, len(shares), batch_size):
        rows = shares[start : start + batch_size]
        length = int(cases.lengths[rows].max())
        inputs = cases.inputs[rows, :length].to(device)
        lengths = cases.lengths[rows].to(device)
        users = model.backbone.last_states(table[inputs], lengths)  # (U, D)
        scores = model.scores(users, candidates)
        ranks = target_ranks(scores, cases.targets[rows].to(device), inputs if exclude_history else None)
        for name, value in metric_sums(ranks, ks).items():
            totals[name] += value
    names = list(totals)
    summed = sum_across(context, torch.stack([totals[n] for n in names]))
    model.train(was_training)
    return {name: float(value) / max(1, len(cases)) for name, value in zip(names, summed.tolist())}
