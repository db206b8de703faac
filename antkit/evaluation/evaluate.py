"""Evaluation of a model on one domain: full ranking of every item for each user."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from antkit.data.catalogue import Catalogue
from antkit.data.splits import EvaluationSet
from antkit.evaluation.metrics import mean, metric_values, standard_error, target_ranks
from antkit.training.distributed import Context, sum_across


@dataclass
class Evaluation:
    """Metrics averaged over users, their standard errors (the users' standard deviation / sqrt(users)), and
    each user's values (metric -> float64 tensor in the order of the evaluation cases)."""

    metrics: dict[str, float]
    standard_errors: dict[str, float]
    values: dict[str, torch.Tensor]


@torch.no_grad()
def item_table(model, catalogue: Catalogue, device: torch.device) -> torch.Tensor:
    """The vectors of every catalogue item (row 0: padding) as evaluation scores them (dropout off)."""
    was_training = model.training
    model.eval()
    table = model.item_table(catalogue.to(device))
    model.train(was_training)
    return table


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
    """Recall@K and NDCG@K of every user in ``cases``; each process scores its share of the users.

    The item table is computed once (or passed as ``table``), not once per batch.
    """
    device = context.device
    if table is None:
        table = item_table(model, catalogue, device)
    was_training = model.training
    model.eval()
    candidates = table[1:]
    by_length = torch.argsort(cases.lengths, stable=True)  # similar lengths together: little padding
    shares = by_length[context.rank :: context.world_size]
    names = [name for k in ks for name in (f"recall@{k}", f"ndcg@{k}")]
    per_user = torch.zeros(len(cases), len(names), dtype=torch.float64, device=device)  # other ranks' rows: 0
    for start in range(0, len(shares), batch_size):
        rows = shares[start : start + batch_size]
        length = int(cases.lengths[rows].max())
        inputs = cases.inputs[rows, :length].to(device)
        lengths = cases.lengths[rows].to(device)
        users = model.backbone.last_states(table[inputs], lengths)  # (U, D)
        scores = model.scores(users, candidates)
        ranks = target_ranks(scores, cases.targets[rows].to(device), inputs if exclude_history else None)
        values = metric_values(ranks, ks)
        per_user[rows.to(device)] = torch.stack([values[n] for n in names], dim=1)
    per_user = sum_across(context, per_user).cpu()  # every user scored by exactly one process
    model.train(was_training)
    values = dict(zip(names, per_user.unbind(1)))
    return Evaluation({n: mean(v) for n, v in values.items()}, {n: standard_error(v) for n, v in values.items()},
                      values)


def evaluate(model, catalogue: Catalogue, cases: EvaluationSet, *args, **kwargs) -> dict[str, float]:
    """The metrics of ``evaluate_with_errors`` (same arguments)."""
    return evaluate_with_errors(model, catalogue, cases, *args, **kwargs).metrics


def evaluate_domains(
    model,
    catalogue: Catalogue,
    domains: list[tuple[EvaluationSet, int, int]],
    ks: tuple[int, ...] = (10, 50),
    exclude_history: bool = True,
    batch_size: int = 1024,
    context: Context = Context(),
) -> dict[str, float]:
    """The mean over several domains of their metrics, each domain's users ranking only that domain's items.

    ``catalogue`` holds every domain; ``domains`` gives, per domain, its cases (in the domain's own item ids),
    its id offset in ``catalogue`` and its number of items. The item table is computed once for all.
    """
    table = item_table(model, catalogue, context.device)
    per_domain = [evaluate(model, catalogue, cases, ks, exclude_history, batch_size, context,
                           table=torch.cat([table[:1], table[offset + 1 : offset + 1 + n_items]]))
                  for cases, offset, n_items in domains]
    return {k: sum(m[k] for m in per_domain) / len(per_domain) for k in per_domain[0]}
