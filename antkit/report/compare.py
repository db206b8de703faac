"""Two arms of one run compared user by user: the paired difference of their test metrics and its noise."""

from __future__ import annotations

import re
from pathlib import Path

from antkit.errors import AntkitError
from antkit.layout import test_values_path
from antkit.model.saving import load_weights
from antkit.report.analysis import LABELS, paired_comparison
from antkit.report.combine import target_arms


def compare_arms(run: Path, first: str, second: str, target: str | None = None) -> dict:
    """``paired_comparison`` of arms ``first`` and ``second`` (labels) of ``run`` on ``target`` (the run's only
    target when not given), with the target, the labels and both arms' test metrics."""
    target, arms = target_arms(run, target)
    if first == second:
        raise AntkitError(f"compare two different arms (both are '{first}')")
    for label in (first, second):
        if label not in arms:
            raise AntkitError(f"{run}: target '{target}' has no arm '{label}' (its arms: {', '.join(arms)})")
    values = []
    for label in (first, second):
        path = test_values_path(run, target, label)
        if not path.exists():
            raise AntkitError(f"{path}: missing; arms finished by an older antkit get their per-user values when "
                              "the run's command is run again")
        values.append(_per_user_values(path))
    try:
        comparison = paired_comparison(*values)
    except ValueError:
        raise AntkitError(f"{run}: arms '{first}' and '{second}' were evaluated on different users") from None
    return {"target": target, "first": first, "second": second, "test": [arms[first]["test"], arms[second]["test"]],
            **comparison}


def _per_user_values(path: Path) -> dict:
    """The per-user test values in ``path``: metric (``recall@10``, ...) -> one value per user."""
    values = load_weights(path)
    if not values or not all(re.fullmatch(r"(recall|ndcg)@\d+", name) and tensor.dim() == 1
                             and tensor.is_floating_point() for name, tensor in values.items()):
        held = ", ".join(f"{name} ({str(tensor.dtype).removeprefix('torch.')})"
                         for name, tensor in sorted(values.items())[:4])
        raise AntkitError(f"{path}: not per-user test values (expected metric -> one floating-point value per test "
                          f"user, e.g. recall@10; it holds {held or 'nothing'})")
    return values


def render_comparison(comparison: dict) -> list[list[str]]:
    """Rows of the comparison table: metric, both arms, the difference, two standard errors, within/beyond."""
    rows = []
    for metric, difference in comparison["difference"].items():
        noise = 2 * comparison["standard_error"][metric]
        first, second = (arm.get(metric, float("nan")) for arm in comparison["test"])
        rows.append([LABELS.get(metric, metric), f"{first:.4f}", f"{second:.4f}", f"{difference:+.4f}",
                     f"{noise:.4f}", "within" if abs(difference) <= noise else "beyond"])
    return rows
