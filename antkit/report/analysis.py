"""Reading a run's results: best arms, the negative-transfer verdict, and relearn's gain over the baselines."""

from __future__ import annotations

import math
from dataclasses import dataclass

HEADLINE = ("recall@10", "ndcg@10")
LABELS = {"recall@10": "Recall@10", "ndcg@10": "NDCG@10", "recall@50": "Recall@50", "ndcg@50": "NDCG@50"}
METRICS = ("recall@10", "ndcg@10", "recall@50", "ndcg@50")


@dataclass
class TargetSummary:
    best: dict[str, str]  # metric -> label of the best arm on test
    relearn: str | None  # the inductive re-learning arm (ANT)
    scratch: str | None  # the content model trained from scratch
    negative_transfer: bool | None  # relearn below scratch on a headline metric (None: not both present)
    # headline metric -> (relearn - scratch, two standard errors of that difference); empty when the results
    # carry no standard errors (written before antkit stored them)
    differences: dict[str, tuple[float, float]]
    gains: dict[str, float]  # metric -> relative gain of relearn over the best baseline (non-relearn arm)
    best_baseline: dict[str, str]


def first_arm(arms: dict[str, dict], strategy: str) -> str | None:
    """The label of the first arm with ``strategy``, a content arm if there is one."""
    matching = [label for label, arm in arms.items() if arm["strategy"] == strategy]
    content = [label for label in matching if arms[label]["items"] == "content"]
    return (content or matching or [None])[0]


def summarise(arms: dict[str, dict]) -> TargetSummary:
    """Summary of one target domain's arms (label -> stored result with ``test`` metrics)."""
    best = {m: max(arms, key=lambda label: arms[label]["test"][m]) for m in METRICS}
    relearn, scratch = first_arm(arms, "relearn"), first_arm(arms, "scratch")
    negative, differences = None, {}
    if relearn and scratch:
        negative = any(arms[relearn]["test"][m] < arms[scratch]["test"][m] for m in HEADLINE)
        differences = _differences(arms[relearn], arms[scratch])
    gains, best_baseline = {}, {}
    baselines = [label for label, arm in arms.items() if arm["strategy"] != "relearn"]
    if relearn and baselines:
        for m in METRICS:
            label = max(baselines, key=lambda b: arms[b]["test"][m])
            best_baseline[m] = label
            reference = arms[label]["test"][m]
            gains[m] = (arms[relearn]["test"][m] - reference) / reference if reference else float("inf")
    return TargetSummary(best, relearn, scratch, negative, differences, gains, best_baseline)


def _differences(relearn: dict, scratch: dict) -> dict[str, tuple[float, float]]:
    """Headline metric -> (difference, two standard errors of it, the arms' errors combined as if independent:
    an overstatement for arms scored on the same users, so "within the noise" is a cautious reading)."""
    errors = relearn.get("test_standard_errors"), scratch.get("test_standard_errors")
    if not all(errors):
        return {}
    return {m: (relearn["test"][m] - scratch["test"][m], 2 * math.hypot(errors[0][m], errors[1][m]))
            for m in HEADLINE}


def verdict(summary: TargetSummary) -> str:
    if summary.negative_transfer is None:
        return "no verdict (needs a relearn arm and a scratch arm)"
    if summary.negative_transfer:
        text = f"NEGATIVE TRANSFER: {summary.relearn} is below {summary.scratch} on Recall@10 or NDCG@10"
    else:
        text = f"no negative transfer: {summary.relearn} >= {summary.scratch} on Recall@10 and NDCG@10"
    if not summary.differences:
        return text
    within = all(abs(difference) < noise for difference, noise in summary.differences.values())
    detail = ", ".join(f"{LABELS[m]} {d:+.4f} ± {noise:.4f}" for m, (d, noise) in summary.differences.items())
    return f"{text} (difference {detail} at two standard errors: {'within' if within else 'beyond'} the noise)"
