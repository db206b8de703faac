"""Reading a run's results: best arms, the negative-transfer verdict, and relearn's gain over the baselines."""

from __future__ import annotations

from dataclasses import dataclass

HEADLINE = ("recall@10", "ndcg@10")
METRICS = ("recall@10", "ndcg@10", "recall@50", "ndcg@50")


@dataclass
class TargetSummary:
    best: dict[str, str]  # metric -> label of the best arm on test
    relearn: str | None  # the inductive re-learning arm (ANT)
    scratch: str | None  # the content model trained from scratch
    negative_transfer: bool | None  # relearn below scratch on a headline metric (None: not both present)
    gains: dict[str, float]  # metric -> relative gain of relearn over the best baseline (non-relearn arm)
    best_baseline: dict[str, str]


def _first(arms: dict[str, dict], strategy: str) -> str | None:
    matching = [label for label, arm in arms.items() if arm["strategy"] == strategy]
    content = [label for label in matching if arms[label]["items"] == "content"]
    return (content or matching or [None])[0]


def summarise(arms: dict[str, dict]) -> TargetSummary:
    """Summary of one target domain's arms (label -> stored result with ``test`` metrics)."""
    best = {m: max(arms, key=lambda label: arms[label]["test"][m]) for m in METRICS}
    relearn, scratch = _first(arms, "relearn"), _first(arms, "scratch")
    negative = None
    if relearn and scratch:
        negative = any(arms[relearn]["test"][m] < arms[scratch]["test"][m] for m in HEADLINE)
    gains, best_baseline = {}, {}
    baselines = [label for label, arm in arms.items() if arm["strategy"] != "relearn"]
    if relearn and baselines:
        for m in METRICS:
            label = max(baselines, key=lambda b: arms[b]["test"][m])
            best_baseline[m] = label
            reference = arms[label]["test"][m]
            gains[m] = (arms[relearn]["test"][m] - reference) / reference if reference else float("inf")
    return TargetSummary(best, relearn, scratch, negative, gains, best_baseline)


def verdict(summary: TargetSummary) -> str:
    if summary.negative_transfer is None:
        return "no verdict (needs a relearn arm and a scratch arm)"
    if summary.negative_transfer:
        return f"NEGATIVE TRANSFER: {summary.relearn} is below {summary.scratch} on Recall@10 or NDCG@10"
    return f"no negative transfer: {summary.relearn} >= {summary.scratch} on Recall@10 and NDCG@10"
