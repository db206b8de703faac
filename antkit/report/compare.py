"""Two arms of one run compared user by user: the paired difference of their test metrics and its noise, over
all test users and, when asked, within groups of them (``antkit.report.groups``)."""

from __future__ import annotations

import re
from pathlib import Path

from antkit.data.store import recorded_domain
from antkit.errors import AntkitError
from antkit.layout import RESULTS, test_values_path
from antkit.model.saving import load_weights
from antkit.plugins.manager import load_registry
from antkit.plugins.registry import Registry
from antkit.recipe.loader import apply_overrides, validate_recipe
from antkit.report.analysis import LABELS, paired_comparison
from antkit.report.combine import target_arms
from antkit.report.groups import GROUPINGS, UserGroup, grouped_comparison, grouping_values, user_groups
from antkit.report.results import read_results


def compare_arms(run: Path, first: str, second: str, target: str | None = None, *, by: str | None = None,
                 groups: int = 3, overrides: list[str] = (), cache_dir: str | Path | None = None,
                 registry: Registry | None = None) -> dict:
    """``paired_comparison`` of arms ``first`` and ``second`` (labels) of ``run`` on ``target`` (the run's only
    target when not given), with the target, the labels and both arms' test metrics. With ``by`` (a grouping of
    ``GROUPINGS``) also ``"groups"``: the comparison within up to ``groups`` groups of the test users, which
    needs the target's data as the run's recipe (after ``overrides``) reads it."""
    if by is not None and by not in GROUPINGS:
        raise AntkitError(f"--by '{by}': no such grouping (choose one of: {', '.join(GROUPINGS)})")
    if by is not None and groups < 2:
        raise AntkitError(f"--groups {groups}: give at least 2 groups")
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
    found = {"target": target, "first": first, "second": second, "test": [arms[first]["test"], arms[second]["test"]],
             **comparison}
    if by is not None:
        users = _user_groups(run, target, by, groups, comparison["users"], overrides, cache_dir, registry)
        found |= {"by": by, "groups": grouped_comparison(*values, users)}
    return found


def _user_groups(run: Path, target: str, by: str, groups: int, users: int, overrides: list[str],
                 cache_dir: str | Path | None, registry: Registry | None) -> list[UserGroup]:
    """The run's test users on ``target`` in groups (``user_groups``), from the target's data as the run read it."""
    from antkit.pipeline import cache_folder  # the pipeline imports most of antkit: only when used

    registry = registry or load_registry()
    where = f"{run}/{RESULTS}"
    data = read_results(run / RESULTS)["recipe"]
    recipe = validate_recipe(data, registry, where, overridden=apply_overrides(data, list(overrides)))
    domain = recorded_domain(recipe, registry, target, cache_folder(cache_dir), where)
    values = grouping_values(domain.sequences, by, recipe.model.max_length)
    if len(values) != users:
        raise AntkitError(f"{run}: target '{target}' now has {len(values):,} test users, the run evaluated "
                          f"{users:,}: its data changed since the run")
    return user_groups(values, groups)


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
    """Rows of the comparison table (of all users, or of one group of them): metric, both arms, the difference,
    the difference relative to the second arm, two standard errors, within/beyond."""
    rows = []
    for metric, difference in comparison["difference"].items():
        noise = 2 * comparison["standard_error"][metric]
        first, second = (arm.get(metric, float("nan")) for arm in comparison["test"])
        relative = f"{difference / second:+.1%}" if second else "-"
        rows.append([LABELS.get(metric, metric), f"{first:.4f}", f"{second:.4f}", f"{difference:+.4f}", relative,
                     f"{noise:.4f}", "within" if abs(difference) <= noise else "beyond"])
    return rows
