"""Two arms of one run compared user by user: the paired difference of their test metrics and its noise, over
all test users and, when asked, within groups of them (``antkit.report.groups``)."""

from __future__ import annotations

import re
from pathlib import Path

from antkit.data.store import recorded_domain
from antkit.dotted import dotted_fields
from antkit.errors import AntkitError
from antkit.layout import RESULTS, test_values_path
from antkit.model.saving import load_weights
from antkit.plugins.manager import load_registry
from antkit.plugins.registry import Registry
from antkit.recipe.loader import apply_overrides, validate_recipe
from antkit.report.analysis import LABELS, paired_comparison
from antkit.report.combine import target_arms
from antkit.report.groups import GROUPINGS, UserGroup, grouped_comparison, grouping_values, user_groups
from antkit.report.results import excludes_history, read_results


def compare_arms(run: Path, first: str, second: str, target: str | None = None, *, second_run: Path | None = None,
                 by: str | None = None, groups: int = 3, overrides: list[str] = (),
                 cache_dir: str | Path | None = None, registry: Registry | None = None) -> dict:
    """``paired_comparison`` of arm ``first`` of ``run`` and arm ``second`` of ``second_run`` (by default ``run``
    too; another run must be of the same data and protocol, e.g. an ablation that changes the model) on
    ``target`` (the run's only target when not given), with the target, the labels and both arms' test metrics.
    With ``by`` (a grouping of ``GROUPINGS``) also ``"groups"``: the comparison within up to ``groups`` groups of
    the test users, which needs the target's data as the run's recipe (after ``overrides``) reads it."""
    if by is not None and by not in GROUPINGS:
        raise AntkitError(f"--by '{by}': no such grouping (choose one of: {', '.join(GROUPINGS)})")
    if by is not None and groups < 2:
        raise AntkitError(f"--groups {groups}: give at least 2 groups")
    target, arms = target_arms(run, target)
    if second_run is None:
        second_run, second_arms = run, arms
    else:
        _check_same_data(run, second_run)
        second_arms = target_arms(second_run, target)[1]
    if first == second and Path(second_run).resolve() == Path(run).resolve():
        raise AntkitError(f"compare two different arms (both are '{first}')")
    values = [_arm_values(run, target, first, arms), _arm_values(second_run, target, second, second_arms)]
    try:
        comparison = paired_comparison(*values)
    except ValueError:
        raise AntkitError(f"{run}: arms '{first}' and '{second}' were evaluated on different users") from None
    found = {"target": target, "first": first, "second": second, "runs": [str(run), str(second_run)],
             "test": [arms[first]["test"], second_arms[second]["test"]], **comparison}
    if by is not None:
        users = _user_groups(run, target, by, groups, comparison["users"], overrides, cache_dir, registry)
        found |= {"by": by, "groups": grouped_comparison(*values, users)}
    return found


def _arm_values(run: Path, target: str, label: str, arms: dict) -> dict:
    """The per-user test values of arm ``label`` of ``run`` on ``target`` (``arms``: the target's arms)."""
    if label not in arms:
        raise AntkitError(f"{run}: target '{target}' has no arm '{label}' (its arms: {', '.join(arms)})")
    path = test_values_path(run, target, label)
    if not path.exists():
        raise AntkitError(f"{path}: missing; arms finished by an older antkit get their per-user values when "
                          "the run's command is run again")
    return _per_user_values(path)


def _check_same_data(run: Path, other: Path) -> None:
    """Refuse two runs whose arms cannot be paired user by user: other data, or another evaluation protocol."""
    results = [read_results(Path(folder) / RESULTS) for folder in (run, other)]
    data = [dotted_fields(found["recipe"].get("data", {})) for found in results]
    differing = sorted(key for key in set(data[0]) | set(data[1]) if data[0].get(key) != data[1].get(key))
    if differing:
        problem = f"data.{differing[0]}: {data[0].get(differing[0])!r} against {data[1].get(differing[0])!r}"
    elif excludes_history(results[0]) != excludes_history(results[1]):
        problem = "one ranks the input items, the other leaves them out (evaluation.exclude_history)"
    else:
        return
    raise AntkitError(f"{run} and {other} are runs of different data or protocol ({problem}); their arms cannot be "
                      "compared user by user")


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
