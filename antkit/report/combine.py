"""Several runs of one recipe (different seeds) as one table: each arm's mean and spread per metric; runs of
different recipes are refused."""

from __future__ import annotations

import statistics
from collections import Counter
from pathlib import Path

from antkit.dotted import dotted_fields
from antkit.errors import AntkitError
from antkit.io import atomic_write_text
from antkit.layout import RESULTS
from antkit.plugins.manager import load_registry
from antkit.provenance import describe
from antkit.recipe.loader import validate_recipe
from antkit.report.analysis import HEADLINE, LABELS, METRICS, first_arm, protocol_label, top_labels
from antkit.report.results import excludes_history, read_results

# recipe fields that runs of one recipe may differ in: the seeds (of training, of a generated world), and
# settings that do not change what is trained or measured
REPLICATE_FIELDS = ("seed", "data.source.seed", "pretrained", "checkpoint_minutes", "device", "evaluation.batch_size")
# the first line of a file combine writes (hidden when the markdown is shown): combine replaces only such files
MARK = "<!-- written by antkit combine, which may replace this file -->"


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


def target_arms(run: Path, target: str | None = None) -> tuple[str, dict]:
    """Target ``target`` of the run in folder ``run`` (its only target when not given) and its arms' results."""
    targets = load_runs([run])[0]["targets"]
    if target is None:
        if len(targets) != 1:
            raise AntkitError(f"{run}: the run has several targets ({', '.join(targets)}); choose one with --target")
        target = next(iter(targets))
    if target not in targets:
        raise AntkitError(f"{run}: no target '{target}' (the run has: {', '.join(targets)})")
    return target, targets[target]


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


def missing_arms(folders: list[Path], runs: list[dict]) -> dict[str, list[str]]:
    """target -> a sentence for each arm (of that target) that a run lacks while another run has it: that arm's
    mean, and relearn - scratch, are then over fewer runs than the others."""
    missing: dict[str, list[str]] = {}
    for target in dict.fromkeys(target for run in runs for target in run["targets"]):
        having = Counter(label for run in runs for label in run["targets"].get(target, {}))
        for folder, run in zip(folders, runs):
            arms = run["targets"].get(target, {})
            missing.setdefault(target, []).extend(
                f"{folder} has no arm '{label}' on {target}: that arm's mean is over {count} of {len(runs)} runs"
                for label, count in having.items() if label not in arms)
    return {target: sentences for target, sentences in missing.items() if sentences}


def combine(runs: list[dict], protocol: str = "masked") -> dict[str, dict[str, dict]]:
    """target -> arm -> {"runs": n, "mean": {metric: v}, "std": {metric: v or None for one run},
    "train_seconds": mean training time}.

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
                "std": {m: statistics.stdev(v) if len(v) > 1 else None for m, v in values.items()},
                "train_seconds": statistics.fmean(s for _, s in entries),
            }
    return combined


def relearn_vs_scratch(runs: list[dict], protocol: str = "masked") -> dict[str, dict]:
    """target -> {"relearn": label, "scratch": label, "runs": n, "mean": {metric: d}, "std": {metric: d or None
    for one run}}: the difference relearn - scratch within each run (the same users and seed), over the runs that
    have both arms."""
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
            "std": {m: statistics.stdev(v[m] for v in values) if len(values) > 1 else None for m in HEADLINE},
        }
    return differences


def render_combined(combined: dict[str, dict[str, dict]], protocol: str, differences: dict[str, dict] | None = None,
                    missing: dict[str, list[str]] | None = None) -> str:
    """Markdown: one table per target, mean ± sample standard deviation over runs (an arm of one run: its value
    alone), the best mean in bold, after a warning for each arm a run lacks (``missing_arms``); then, where given,
    relearn - scratch per run (mean ± standard deviation)."""
    ranking = protocol_label(protocol == "masked")
    lines = [f"Test metrics ({ranking}), mean ± standard deviation over runs; best mean in bold.", ""]
    for target, arms in combined.items():
        metrics = [m for m in METRICS if all(m in arm["mean"] for arm in arms.values())]
        best = {m: top_labels({label: arm["mean"][m] for label, arm in arms.items()}) for m in metrics}
        lines += [f"### {target}", ""]
        if missing and target in missing:
            lines += [f"- Warning: {sentence}." for sentence in missing[target]] + [""]
        lines += ["| arm | runs | " + " | ".join(LABELS[m] for m in metrics) + " | training s |",
                  "|---|---:|" + "---:|" * (len(metrics) + 1)]
        for label, arm in arms.items():
            cells = []
            for m in metrics:
                cell = _mean_and_spread(arm["mean"][m], arm["std"][m])
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


def _mean_and_spread(mean: float, std: float | None, sign: str = "") -> str:
    """``mean ± std``; the mean alone when there is no spread (a single run)."""
    return f"{mean:{sign}.4f}" if std is None else f"{mean:{sign}.4f} ± {std:.4f}"


def _difference_line(entry: dict) -> str:
    below = [LABELS[m] for m in HEADLINE if entry["mean"][m] < 0]
    verdict = f"negative transfer on average ({', '.join(below)})" if below else "no negative transfer on average"
    detail = ", ".join(f"{LABELS[m]} {_mean_and_spread(entry['mean'][m], entry['std'][m], '+')}" for m in HEADLINE)
    over = ("in the one run that has both (no spread)" if entry["runs"] == 1 else
            f"within each run, mean ± standard deviation over {entry['runs']} runs")
    return f"{entry['relearn']} - {entry['scratch']} {over}: {detail}; {verdict}."


def check_replaceable(path: Path) -> None:
    """Refuse ``path`` when it is a file that combine did not write (its first line is not MARK): a run's
    results.json, a recipe or any other file of the user's is never replaced."""
    try:
        with open(path, "rb") as file:
            first_line = file.readline(len(MARK.encode()) + 2).rstrip(b"\r\n")
    except FileNotFoundError:
        return
    except OSError as error:
        raise AntkitError(f"{path}: cannot be read ({error.strerror or error})") from None
    if first_line != MARK.encode():
        raise AntkitError(f"{path}: an existing file that antkit combine did not write; give another path for the "
                          "tables, or delete that file first")


def write_combined(path: Path, text: str) -> None:
    """Write the tables to ``path`` atomically, marked as combine's own (see ``check_replaceable``)."""
    check_replaceable(path)
    atomic_write_text(path, f"{MARK}\n{text}")
