"""Reading a run's results: best arms, the negative-transfer verdict, and relearn's gain over the baselines."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from antkit.evaluation.metrics import mean, standard_error

HEADLINE = ("recall@10", "ndcg@10")
LABELS = {"recall@10": "Recall@10", "ndcg@10": "NDCG@10", "recall@50": "Recall@50", "ndcg@50": "NDCG@50"}
METRICS = ("recall@10", "ndcg@10", "recall@50", "ndcg@50")


@dataclass
class TargetSummary:
    best: dict[str, tuple[str, ...]]  # metric -> labels of the best arms on test (several when tied)
    relearn: str | None  # the inductive re-learning arm (ANT)
    scratch: str | None  # the content model trained from scratch
    negative_transfer: bool | None  # relearn below scratch on a headline metric (None: not both present)
    # headline metric -> (relearn - scratch, two standard errors of that difference); empty when the results
    # carry no standard errors (written before antkit stored them)
    differences: dict[str, tuple[float, float]]
    paired: bool  # the errors are those of the per-user differences (else the arms' errors, as if independent)
    gains: dict[str, float]  # metric -> relative gain of relearn over the best baseline (non-relearn arm)
    best_baseline: dict[str, str]


def first_arm(arms: dict[str, dict], strategy: str) -> str | None:
    """The label of the first arm with ``strategy``: one with the strategy's own settings (not an ablation of it)
    if there is one, among those a content arm if there is one."""
    matching = [label for label, arm in arms.items() if arm["strategy"] == strategy]
    return min(matching, key=lambda label: (bool(arms[label].get("strategy_settings")),
                                            arms[label]["items"] != "content"), default=None)


def strategy_label(arm: dict) -> str:
    """An arm's strategy as the report shows it: its name, and the settings changed from the strategy's own."""
    changed = arm.get("strategy_settings") or {}
    settings = ", ".join(f"{key}: {_as_yaml(value)}" for key, value in changed.items())
    return f"{arm['strategy']} ({settings})" if settings else arm["strategy"]


def _as_yaml(value) -> str:
    """A JSON value as a recipe would write it: [image, price], false, 0.5."""
    if isinstance(value, list):
        return "[" + ", ".join(_as_yaml(v) for v in value) + "]"
    return str(value).lower() if isinstance(value, bool) else str(value)


def top_labels(values: dict[str, float]) -> tuple[str, ...]:
    """The labels with the highest value: all of them when tied."""
    top = max(values.values())
    return tuple(label for label, value in values.items() if value == top)


def summarise(arms: dict[str, dict], comparison: dict | None = None) -> TargetSummary:
    """Summary of one target domain's arms (label -> stored result with ``test`` metrics); ``comparison`` is
    their ``paired_comparison`` when the per-user values were kept."""
    best = {m: top_labels({label: arm["test"][m] for label, arm in arms.items()}) for m in METRICS}
    relearn, scratch = first_arm(arms, "relearn"), first_arm(arms, "scratch")
    negative, differences = None, {}
    paired = bool(comparison) and (comparison["relearn"], comparison["scratch"]) == (relearn, scratch)
    if relearn and scratch:
        negative = any(arms[relearn]["test"][m] < arms[scratch]["test"][m] for m in HEADLINE)
        if paired:
            differences = {m: (comparison["difference"][m], 2 * comparison["standard_error"][m]) for m in HEADLINE}
        else:
            differences = _differences(arms[relearn], arms[scratch])
    gains, best_baseline = {}, {}
    baselines = [label for label, arm in arms.items() if arm["strategy"] != "relearn"]
    if relearn and baselines:
        for m in METRICS:
            label = max(baselines, key=lambda b: arms[b]["test"][m])
            best_baseline[m] = label
            reference = arms[label]["test"][m]
            ours = arms[relearn]["test"][m]
            gains[m] = (ours - reference) / reference if reference else (float("inf") if ours else 0.0)
    return TargetSummary(best, relearn, scratch, negative, differences, paired, gains, best_baseline)


def paired_comparison(first: dict[str, torch.Tensor], second: dict[str, torch.Tensor]) -> dict:
    """``first`` minus ``second``, two arms' per-user test values (metric -> tensor) over the same users: per
    metric the mean difference and its standard error. Pairing removes what the arms share (easy and hard
    users), so this error is usually well below the arms' errors combined as if independent."""
    if set(first) != set(second):
        raise ValueError("paired comparison of arms with different metrics")
    shapes = {v.shape for v in [*first.values(), *second.values()]}
    if len(shapes) != 1 or len(next(iter(shapes))) != 1:
        raise ValueError("paired comparison of arms evaluated on different users")
    metrics = sorted(first, key=_metric_order)
    return {"users": len(first[metrics[0]]) if metrics else 0,
            "difference": {m: mean(first[m] - second[m]) for m in metrics},
            "standard_error": {m: standard_error(first[m] - second[m]) for m in metrics}}


def _differences(relearn: dict, scratch: dict) -> dict[str, tuple[float, float]]:
    """Headline metric -> (difference, two standard errors of it, the arms' errors combined as if independent:
    an overstatement for arms scored on the same users, so "within the noise" is a cautious reading)."""
    errors = relearn.get("test_standard_errors"), scratch.get("test_standard_errors")
    if not all(errors):
        return {}
    return {m: (relearn["test"][m] - scratch["test"][m], 2 * math.hypot(errors[0][m], errors[1][m]))
            for m in HEADLINE}


def _metric_order(metric: str) -> tuple[int, bool]:
    """recall@10, ndcg@10, recall@50, ndcg@50: by K, recall first."""
    name, k = metric.split("@")
    return int(k), name != "recall"


def protocol_label(exclude_history: bool) -> str:
    """How the metrics were ranked: without the items of the user's history (the default) or with them."""
    return "history excluded" if exclude_history else "history kept"


def gain_line(summary: TargetSummary) -> str:
    """Relearn's relative gain per metric over the best other arm on it (needs ``summary.gains``)."""
    return f"{summary.relearn} vs the best baseline: " + ", ".join(
        f"{LABELS[m]} {summary.gains[m]:+.1%} (vs {summary.best_baseline[m]})" for m in METRICS)


def verdict(summary: TargetSummary) -> str:
    if summary.negative_transfer is None:
        return "no verdict (needs a relearn arm and a scratch arm)"
    if summary.negative_transfer:
        text = f"NEGATIVE TRANSFER: {summary.relearn} is below {summary.scratch} on Recall@10 or NDCG@10"
    else:
        text = f"no negative transfer: {summary.relearn} >= {summary.scratch} on Recall@10 and NDCG@10"
    if not summary.differences:
        return text
    beyond = [LABELS[m] for m, (difference, noise) in summary.differences.items() if abs(difference) > noise]
    reading = ("within the noise" if not beyond else "beyond the noise" if len(beyond) == len(summary.differences)
               else f"beyond the noise on {' and '.join(beyond)} only")
    detail = ", ".join(f"{LABELS[m]} {d:+.4f} ± {noise:.4f}" for m, (d, noise) in summary.differences.items())
    errors = "two standard errors, paired over users" if summary.paired else "two standard errors"
    return f"{text} (difference {detail} at {errors}: {reading})"
