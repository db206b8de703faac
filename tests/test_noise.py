"""Standard errors of the test metrics, and the negative-transfer verdict that reads them."""

from __future__ import annotations

import math

import numpy as np
import torch
import yaml

from antkit.data.catalogue import Catalogue
from antkit.data.splits import evaluation_set
from antkit.evaluation.evaluate import evaluate, evaluate_domains, evaluate_with_errors
from antkit.model.build import build_model
from antkit.recipe import validate_recipe
from antkit.report.analysis import first_arm, paired_comparison, strategy_label, summarise, verdict


def _small_model_and_cases(registry, tiny_recipe_path, n_items=30, users=50):
    recipe = validate_recipe(yaml.safe_load(tiny_recipe_path.read_text()), registry)
    rng = np.random.default_rng(0)
    dims = {"text": 64, "image": 12, "price": 8}
    torch.manual_seed(0)
    catalogue = Catalogue({m: torch.randn(n_items + 1, d) for m, d in dims.items()},
                          {m: torch.arange(n_items + 1) > 0 for m in dims})
    cases = evaluation_set([rng.integers(1, n_items + 1, size=8) for _ in range(users)], "test", 20)
    return build_model(recipe, registry, catalogue.dims), catalogue, cases


def test_standard_errors_of_a_small_evaluation(registry, tiny_recipe_path):
    """Recall is 0 or 1 per user, so its standard error is sqrt(p (1 - p) / n) exactly; NDCG's lies between 0 and
    that of a 0/1 metric with the same mean; the metrics equal plain ``evaluate``'s."""
    model, catalogue, cases = _small_model_and_cases(registry, tiny_recipe_path)
    result = evaluate_with_errors(model, catalogue, cases, ks=(10,))
    assert result.metrics == evaluate(model, catalogue, cases, ks=(10,))
    p, n = result.metrics["recall@10"], len(cases)
    assert 0 < p < 1
    assert math.isclose(result.standard_errors["recall@10"], math.sqrt(p * (1 - p) / n), rel_tol=1e-9)
    mean = result.metrics["ndcg@10"]
    assert 0 < result.standard_errors["ndcg@10"] <= math.sqrt(mean * (1 - mean) / n)


def test_per_user_values_follow_the_cases(registry, tiny_recipe_path):
    """Each user's values sit at the user's position among the cases: evaluating the first users alone gives
    the same values; their mean is the metric."""
    model, catalogue, cases = _small_model_and_cases(registry, tiny_recipe_path)
    result = evaluate_with_errors(model, catalogue, cases, ks=(10,), batch_size=7)
    assert set(result.values) == {"recall@10", "ndcg@10"} and len(result.values["ndcg@10"]) == len(cases)
    first = type(cases)(cases.inputs[:5], cases.lengths[:5], cases.targets[:5])
    alone = evaluate_with_errors(model, catalogue, first, ks=(10,))
    assert torch.allclose(alone.values["ndcg@10"], result.values["ndcg@10"][:5])
    assert math.isclose(float(result.values["recall@10"].mean()), result.metrics["recall@10"])


def test_validation_over_several_domains_is_deterministic(registry, tiny_recipe_path):
    """Pre-training validation scores with dropout and gate noise off, whatever mode the model is in, and
    leaves the mode as it was; each domain ranks only its own items."""
    model, catalogue, cases = _small_model_and_cases(registry, tiny_recipe_path)
    halves = [(cases, 0, 15), (cases, 15, 15)]  # two "domains" of 15 items; targets above 15 cannot be hit
    cases.targets.clamp_(max=15)
    cases.inputs.clamp_(max=15)
    model.train()
    first, second = evaluate_domains(model, catalogue, halves), evaluate_domains(model, catalogue, halves)
    assert model.training and first == second
    model.eval()
    assert evaluate_domains(model, catalogue, halves) == first

    def items(first, last):  # items first..last of the catalogue as a catalogue of their own
        return Catalogue({m: torch.cat([f[:1], f[first : last + 1]]) for m, f in catalogue.features.items()},
                         {m: torch.cat([p[:1], p[first : last + 1]]) for m, p in catalogue.present.items()})

    apart = [evaluate(model, items(1, 15), cases), evaluate(model, items(16, 30), cases)]
    for metric, value in first.items():
        assert math.isclose(value, (apart[0][metric] + apart[1][metric]) / 2, abs_tol=1e-12)


def test_paired_comparison_by_hand():
    """Differences per user: [0, 0, 1, 0] -> mean 0.25, standard error sqrt(0.1875 / 4)."""
    first = {"recall@10": torch.tensor([1.0, 0.0, 1.0, 1.0], dtype=torch.float64)}
    second = {"recall@10": torch.tensor([1.0, 0.0, 0.0, 1.0], dtype=torch.float64)}
    comparison = paired_comparison(first, second)
    assert comparison["users"] == 4
    assert math.isclose(comparison["difference"]["recall@10"], 0.25)
    assert math.isclose(comparison["standard_error"]["recall@10"], math.sqrt(0.1875 / 4))


def test_paired_errors_are_used_in_the_verdict():
    """With the arms' per-user values the verdict reads the paired error; a comparison of other arms is ignored."""
    arms = {"relearn": _arm("relearn", 0.540, 0.320, 0.024), "scratch": _arm("scratch", 0.550, 0.330, 0.024)}
    comparison = {"relearn": "relearn", "scratch": "scratch", "users": 400,
                  "difference": {"recall@10": -0.010, "ndcg@10": -0.010},
                  "standard_error": {"recall@10": 0.002, "ndcg@10": 0.003}}
    summary = summarise(arms, comparison)
    assert summary.paired and summary.differences["recall@10"] == (-0.010, 0.004)
    assert "paired over users: beyond the noise" in verdict(summary)
    other = summarise(arms, {**comparison, "scratch": "another arm"})
    assert not other.paired and "within the noise" in verdict(other)


def test_the_strategy_as_published_is_preferred_over_its_ablations():
    """first_arm takes an arm without changed settings (older results have none recorded), then a content arm;
    strategy_label shows the changed settings as a recipe writes them."""
    ablation = {**_arm("relearn", 0.6, 0.4), "strategy_settings": {"keep_adaptors": ["text"], "reset_positions": False}}
    older = _arm("relearn", 0.5, 0.3)
    transductive = {**_arm("relearn", 0.5, 0.3), "items": "content+ids", "strategy_settings": {}}
    assert first_arm({"a": ablation, "b": older}, "relearn") == "b"
    assert first_arm({"a": ablation, "t": transductive}, "relearn") == "t"
    assert first_arm({"a": ablation}, "relearn") == "a" and first_arm({"a": ablation}, "scratch") is None
    assert strategy_label(ablation) == "relearn (keep_adaptors: [text], reset_positions: false)"
    assert strategy_label(older) == "relearn" == strategy_label(transductive)


def _arm(strategy, recall, ndcg, error=None):
    arm = {"strategy": strategy, "items": "content",
           "test": {"recall@10": recall, "ndcg@10": ndcg, "recall@50": recall, "ndcg@50": ndcg}}
    if error is not None:
        arm["test_standard_errors"] = {"recall@10": error, "ndcg@10": error / 2, "recall@50": error, "ndcg@50": error}
    return arm


def test_verdict_says_whether_the_difference_is_within_the_noise():
    """Within, beyond, or beyond on one of the two metrics only (then it names that metric)."""
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


def test_gain_over_a_zero_baseline():
    """Both at zero: no gain (not +inf%)."""
    summary = summarise({"relearn": _arm("relearn", 0.0, 0.0), "scratch": _arm("scratch", 0.0, 0.0)})
    assert summary.gains["recall@10"] == 0.0


def test_tied_arms_are_all_best():
    """With as few test users as the tiny runs have, arms tie; each tied arm is marked best."""
    summary = summarise({"relearn": _arm("relearn", 0.5, 0.3), "scratch": _arm("scratch", 0.5, 0.2)})
    assert summary.best["recall@10"] == ("relearn", "scratch") and summary.best["ndcg@10"] == ("relearn",)

    mixed = summarise({"relearn": _arm("relearn", 0.570, 0.420, 0.02), "scratch": _arm("scratch", 0.550, 0.330, 0.02)})
    assert verdict(mixed).endswith("two standard errors: beyond the noise on NDCG@10 only)")
