"""``antkit.evaluate``: an adapted model's validation and test metrics on its target domain, computed again.

The same protocol as the run that trained it (full ranking, the recipe's cut-offs, input items excluded unless
asked otherwise), on the domain as its data is now: a model pulled from the Hub, or a content model on a newer
export of its domain, is measured without training.
"""

from __future__ import annotations

from pathlib import Path

from antkit.adapted import load_adapted
from antkit.data.splits import evaluation_set
from antkit.evaluation.evaluate import evaluate_with_errors, item_table
from antkit.plugins.registry import Registry
from antkit.progress import Reporter
from antkit.training.distributed import Context


def evaluate_adapted(model: str | Path, *, target: str | None = None, arm: str | None = None,
                     exclude_history: bool = True, overrides: list[str] = (), cache_dir: str | Path | None = None,
                     registry: Registry | None = None, reporter: Reporter | None = None) -> dict:
    """The adapted model's metrics: ``{"model", "domain", "users", "exclude_history", "valid", "test",
    "valid_standard_errors", "test_standard_errors"}`` (metrics keyed ``recall@10`` etc., as results.json)."""
    adapted = load_adapted(model, target=target, arm=arm, overrides=overrides, cache_dir=cache_dir,
                           registry=registry, reporter=reporter)
    recipe, context = adapted.recipe, Context(device=adapted.device)
    table = item_table(adapted.model, adapted.catalogue, adapted.device)
    found = {"model": str(adapted.folder), "domain": adapted.domain.name, "exclude_history": exclude_history}
    for split in ("valid", "test"):
        cases = evaluation_set(adapted.domain.sequences, split, recipe.model.max_length)
        evaluation = evaluate_with_errors(adapted.model, adapted.catalogue, cases, tuple(recipe.evaluation.ks),
                                          exclude_history, recipe.evaluation.batch_size, context, table)
        found |= {"users": len(cases), split: evaluation.metrics, f"{split}_standard_errors": evaluation.standard_errors}
    return found
