"""Several runs of one recipe (different seeds) as one table: each arm's mean and spread per metric; runs of
different recipes are refused."""

from __future__ import annotations

import statistics
from collections import Counter
from pathlib import Path

from antkit.dotted import dotted_fields
from antkit.errors import AntkitError
from antkit.layout import RESULTS
from antkit.plugins.manager import load_registry
from antkit.provenance import describe
from antkit.recipe.loader import validate_recipe
from antkit.report.analysis import HEADLINE, LABELS, METRICS, first_arm, protocol_label, top_labels
from antkit.report.results import excludes_history, read_results

# recipe fields that runs of one recipe may differ in: the seeds (of training, of a generated world), and
# settings that do not change what is trained or measured
REPLICATE_FIELDS = ("seed", "data.source.seed", "pretrained", "checkpoint_minutes", "device", "evaluation.batch_size")


def load_runs(folders: list[Path]) -> list[dict]:
    """The ``results.json`` of each run folder, checked (``read_results``); the runs must be of one recipe."""
    runs = []
    for folder in folders:
        path = Path(folder) / RESULTS
        if not path.is_file():
            raise AntkitError(f"{path}: no such file ({folder} is not a finished antkit run folder?)")
        runs.append(read_results(path))
    _check_one_recipe(folders, runs)
    return runs


def _check_one_recipe(folders: list[Path], runs: list[dict]) -> None:
    """Refuse a folder given twice, or runs whose recipes differ beyond REPLICATE_FIELDS: a mean over them would
    mix different experiments."""
    resolved = [Path(folder).resolve() for folder in folders]
    for index, place in enumerate(resolved):
        if place in resolved[:index]:
            raise AntkitError(f"{folders[resolved.index(place)]} and {folders[index]} are the same run folder; give "
                              "each run once")
    if len(runs) < 2:
        return
    registry = load_registry()
    first = dotted_fields(_with_defaults(runs[0]["recipe"], registry))
    for folder, run in zip(folders[1:], runs[1:]):
        fields = dotted_fields(_with_defaults(run["recipe"], registry))
        for path in [p for p in dict.fromkeys([*first, *fields]) if p not in REPLICATE_FIELDS]:
            if path not in first or path not in fields or first[path] != fields[path]:
                ours, theirs = (repr(f[path]) if path in f else "not set (its default)" for f in (first, fields))
                raise AntkitError(f"{folders[0]} and {folder} are runs of different recipes ({path}: {ours} in "
                                  f"{folders[0]}, {theirs} in {folder}); combine runs that differ only in "
                                  f"{', '.join(REPLICATE_FIELDS)}")


def _with_defaults(recipe: dict, registry) -> dict:
    """The recipe as this antkit reads it: fields an older run did not record get their defaults. A recipe that
    no longer validates (a component of a plugin not installed here) is compared as recorded."""
    try:
        return validate_recipe(recipe, registry).model_dump(mode="json")
    except AntkitError:
        return recipe


def _test_metrics(arms: dict, label: str, exclude_history: bool, protocol: str) -> dict[str, float]:
    """Arm ``label``'s test metrics under ``protocol`` (``masked``: history excluded), whichever the run's default."""
    arm = arms[label]
    if (protocol == "masked") == exclude_history:
        return arm["test"]
    key = "test_unmasked" if exclude_history else "test_masked"
    if not isinstance(arm.get(key), dict) or not all(m in arm[key] for m in HEADLINE):
        raise AntkitError(f"arm '{label}' has no test metrics with the history "
                          f"{'kept' if exclude_history else 'excluded'} ({key}) in its results")
    return arm[key]


def combine(runs: list[dict], protocol: str = "masked") -> dict[str, dict[str, dict]]:
    """target -> arm -> {"runs": n, "mean": {metric: v}, "std": {metric: v}, "train_seconds": mean training time}.

    Training time is the time in training steps, summed over a stage's resumptions (as every antkit version
    recorded it), so runs resumed across sessions compare with uninterrupted ones."""
    grouped: dict[str, dict[str, list]] = {}
    for run in runs:
        exclude = excludes_history(run)
        for target, arms in run["targets"].items():
            for label, arm in arms.items():
                grouped.setdefault(target, {}).setdefault(label, []).append(
                    (_test_metrics(arms, label, exclude, protocol), arm.get("train_seconds", 0.0)))
    combined = {}
    for target, arms in grouped.items():
        combined[target] = {}
        for label, entries in arms.items():
            values = {m: [metrics[m] for metrics, _ in entries] for m in METRICS
                      if all(m in metrics for metrics, _ in entries)}
            combined[target][label] = {
                "runs": len(entries),
                "mean": {m: statistics.fmean(v) for m, v in values.items()},
                "std": {m: statistics.stdev(v) if len(v) > 1 else 0.0 for m, v in values.items()},
                "train_seconds": statistics.fmean(s for _, s in entries),
            }
    return combined


def relearn_vs_scratch(runs: list[dict], protocol: str = "masked") -> dict[str, dict]:
    """target -> {"relearn": label, "scratch": label, "runs": n, "mean": {metric: d}, "std": {metric: d}}: the
    difference relearn - scratch within each run (the same users and seed), over the runs that have both arms."""
    found: dict[str, tuple[str, str, list[dict[str, float]]]] = {}  # target -> relearn, scratch, per-run values
    for run in runs:
        exclude = excludes_history(run)
        for target, arms in run["targets"].items():
            relearn, scratch = first_arm(arms, "relearn"), first_arm(arms, "scratch")
            if relearn is None or scratch is None:
                continue
            ours, theirs = (_test_metrics(arms, label, exclude, protocol) for label in (relearn, scratch))
            found.setdefault(target, (relearn, scratch, []))[2].append({m: ours[m] - theirs[m] for m in HEADLINE})
    differences = {}
    for target, (relearn, scratch, values) in found.items():
        differences[target] = {
            "relearn": relearn, "scratch": scratch, "runs": len(values),
            "mean": {m: statistics.fmean(v[m] for v in values) for m in HEADLINE},
            "std": {m: statistics.stdev(v[m] for v in values) if len(values) > 1 else 0.0 for m in HEADLINE},
        }
    return differences


def render_combined(combined: dict[str, dict[str, dict]], protocol: str, differences: dict[str, dict] | None = None) -> str:
    """Markdown: one table per target, mean ± sample standard deviation over runs, the best mean in bold; then,
    where given, relearn - scratch per run (mean ± standard deviation)."""
    ranking = protocol_label(protocol == "masked")
    lines = [f"Test metrics ({ranking}), mean ± standard deviation over runs; best mean in bold.", ""]
    for target, arms in combined.items():
        metrics = [m for m in METRICS if all(m in arm["mean"] for arm in arms.values())]
        best = {m: top_labels({label: arm["mean"][m] for label, arm in arms.items()}) for m in metrics}
        lines += [f"### {target}", "", "| arm | runs | " + " | ".join(LABELS[m] for m in metrics) + " | training s |",
                  "|---|---:|" + "---:|" * (len(metrics) + 1)]
        for label, arm in arms.items():
            cells = []
            for m in metrics:
                cell = f"{arm['mean'][m]:.4f} ± {arm['std'][m]:.4f}"
                cells.append(f"**{cell}**" if label in best[m] else cell)
            lines.append(f"| {label} | {arm['runs']} | " + " | ".join(cells) + f" | {arm['train_seconds']:.0f} |")
        if differences and target in differences:
            lines += ["", _difference_line(differences[target])]
        lines.append("")
    return "\n".join(lines)


def software_lines(runs: list[dict]) -> str:
    """Which software made the runs, with how many runs each: runs of different code are worth knowing about
    (combine allows them; their recipes are the same)."""
    made_by = Counter(describe(run["software"]) if isinstance(run.get("software"), dict) else
                      "an antkit that did not record its version" for run in runs)
    return "\n".join(f"Made by {text}: {count} run{'s' if count > 1 else ''}." for text, count in made_by.items())


def _difference_line(entry: dict) -> str:
    below = [LABELS[m] for m in HEADLINE if entry["mean"][m] < 0]
    verdict = f"negative transfer on average ({', '.join(below)})" if below else "no negative transfer on average"
    detail = ", ".join(f"{LABELS[m]} {entry['mean'][m]:+.4f} ± {entry['std'][m]:.4f}" for m in HEADLINE)
    return (f"{entry['relearn']} - {entry['scratch']} within each run, mean ± standard deviation over "
            f"{entry['runs']} runs: {detail}; {verdict}.")
