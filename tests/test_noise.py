"""Standard errors of the test metrics, and the negative-transfer verdict that reads them."""

from __future__ import annotations

import math

import numpy as np
import torch
import yaml

from antkit.data.catalogue import Catalogue
from antkit.data.splits import evaluation_set
from antkit.evaluation.evaluate import evaluate, evaluate_with_errors
from antkit.model.build import build_model
from antkit.recipe import validate_recipe
from antkit.report.analysis import summarise, verdict


def test_standard_errors_of_a_small_evaluation(registry, tiny_recipe_path):
    """Recall is 0 or 1 per user, so its standard error is sqrt(p (1 - p) / n) exactly; NDCG's lies between 0 and
    that of a 0/1 metric with the same mean; the metrics equal plain ``evaluate``'s."""
    recipe = validate_recipe(yaml.safe_load(tiny_recipe_path.read_text()), registry)
    n_items, rng = 30, np.random.default_rng(0)
    dims = {"text": 64, "image": 12, "price": 8}
    catalogue = Catalogue({m: torch.randn(n_items + 1, d) for m, d in dims.items()},
                          {m: torch.arange(n_items + 1) > 0 for m in dims})
    cases = evaluation_set([rng.integers(1, n_items + 1, size=8) for _ in range(50)], "test", 20)
    torch.manual_seed(0)
    model = build_model(recipe, registry, catalogue.dims)
    result = evaluate_with_errors(model, catalogue, cases, ks=(10,))
    assert result.metrics == evaluate(model, catalogue, cases, ks=(10,))
    p, n = result.metrics["recall@10"], len(cases)
    assert 0 < p < 1
    assert math.isclose(result.standard_errors["recall@10"], math.sqrt(p * (1 - p) / n), rel_tol=1e-9)
    mean = result.metrics["ndcg@10"]
    assert 0 < result.standard_errors["ndcg@10"] <= math.sqrt(mean * (1 - mean) / n)


def _arm(strategy, recall, ndcg, error=None):
    arm = {"strategy": strategy, "items": "content",
           "test": {"recall@10": recall, "ndcg@10": ndcg, "recall@50": recall, "ndcg@50": ndcg}}
    if error is not None:
        arm["test_standard_errors"] = {"recall@10": error, "ndcg@10": error / 2, "recall@50": error, "ndcg@50": error}
    return arm


def test_verdict_says_whether_the_difference_is_within_the_noise():
    close = summarise({"relearn": _arm("relearn", 0.540, 0.320, 0.024),
                       "scratch": _arm("scratch", 0.550, 0.330, 0.024)})
    assert close.negative_transfer
    assert math.isclose(close.differences["recall@10"][0], -0.010)
    assert math.isclose(close.differences["recall@10"][1], 2 * math.hypot(0.024, 0.024))
    text = verdict(close)
    assert text.startswith("NEGATIVE TRANSFER") and "difference Recall@10 -0.0100 ± 0.0679, NDCG@10" in text and "within the noise" in text

    far = summarise({"relearn": _arm("relearn", 0.650, 0.420, 0.02), "scratch": _arm("scratch", 0.550, 0.330, 0.02)})
    assert verdict(far).startswith("no negative transfer") and "beyond the noise" in verdict(far)


def test_verdict_without_standard_errors_is_the_plain_comparison():
    """Results written before antkit stored standard errors still get the strict verdict, without a noise clause."""
    summary = summarise({"relearn": _arm("relearn", 0.54, 0.32), "scratch": _arm("scratch", 0.55, 0.33, 0.02)})
    assert summary.differences == {}
    assert verdict(summary) == "NEGATIVE TRANSFER: relearn is below scratch on Recall@10 or NDCG@10"
