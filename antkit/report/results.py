"""A run's results, and writing them: results.json, report.md and report.png."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from antkit.errors import AntkitError
from antkit.io import atomic_write_bytes, atomic_write_text, finite_number, read_json_object
from antkit.layout import REPORT_FILES
from antkit.report.analysis import HEADLINE, summarise
from antkit.report.chart import render_chart
from antkit.report.markdown import render_markdown

RESULT_FIELDS = ("strategy", "strategy_settings", "items", "modalities", "valid", "test", "test_standard_errors",
                 "test_unmasked", "test_masked", "best_epoch", "epochs", "train_seconds", "prefixes_per_second",
                 "test_users_per_second", "seconds", "trainable_parameters")
METRIC_TABLES = ("valid", "test", "test_standard_errors", "test_unmasked", "test_masked")  # metric -> number


@dataclass
class RunResults:
    recipe: dict
    targets: dict[str, dict[str, dict]]  # target -> arm label -> result
    pretrain: dict[str, dict]  # pre-training folder ("pretrain", "pretrain-text", ...) -> its summary
    data: dict[str, dict]
    seconds: float
    # target -> relearn vs scratch paired over the test users (see ``paired_comparison``), where both kept them
    relearn_vs_scratch: dict[str, dict] = field(default_factory=dict)
    software: dict = field(default_factory=dict)  # what made the run (antkit.provenance.software)

    def summaries(self):
        return {target: summarise(arms, self.relearn_vs_scratch.get(target)) for target, arms in self.targets.items()}

    def to_json(self) -> dict:
        return {
            "recipe": self.recipe,
            "targets": {
                target: {label: {k: arm[k] for k in RESULT_FIELDS if k in arm} for label, arm in arms.items()}
                for target, arms in self.targets.items()
            },
            "pretrain": {name: {k: v for k, v in summary.items() if k != "fingerprint"}
                         for name, summary in self.pretrain.items()},
            "relearn_vs_scratch": self.relearn_vs_scratch,
            "data": self.data,
            "seconds": self.seconds,
            "software": self.software,
        }

    def write(self, out: Path) -> None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        results, report, chart = REPORT_FILES
        atomic_write_text(out / results, json.dumps(self.to_json(), indent=2))
        atomic_write_text(out / report, render_markdown(self))
        atomic_write_bytes(out / chart, render_chart(self))


def read_results(path: Path) -> dict:
    """The ``results.json`` at ``path``, checked for what combine, compare and the model card read; anything
    else is an AntkitError naming the file and the field."""
    results = read_json_object(path)
    problem = _shape_problem(results)
    if problem:
        raise AntkitError(f"{path}: not an antkit results file ({problem})")
    return results


def excludes_history(results: dict) -> bool:
    """Whether the run's test metrics were ranked without the user's history (its recipe's protocol)."""
    return results["recipe"]["evaluation"].get("exclude_history", True)


def _shape_problem(results: dict) -> str | None:
    """What ``results`` lacks of the results an antkit run writes (None when nothing)."""
    recipe = results.get("recipe")
    if not isinstance(recipe, dict) or not isinstance(recipe.get("evaluation"), dict):
        return "no 'recipe' with its 'evaluation' settings"
    if not isinstance(excludes_history(results), bool):
        return "recipe.evaluation.exclude_history is not true or false"
    if not isinstance(results.get("targets"), dict) or not results["targets"]:
        return "no 'targets' table"
    for target, arms in results["targets"].items():
        if not isinstance(arms, dict) or not arms:
            return f"targets.{target} is not a table of arms"
        for label, arm in arms.items():
            where = f"targets.{target}.{label}"
            if not isinstance(arm, dict) or not all(isinstance(arm.get(key), str) for key in ("strategy", "items")):
                return f"{where} has no strategy and items (strings)"
            if not isinstance(arm.get("strategy_settings", {}), dict):
                return f"{where}.strategy_settings is not a table of settings"
            if not isinstance(arm.get("test"), dict) or not all(m in arm["test"] for m in HEADLINE):
                return f"{where}.test lacks {' or '.join(HEADLINE)}"
            for key in [key for key in METRIC_TABLES if key in arm]:
                if not isinstance(arm[key], dict) or not all(finite_number(v) for v in arm[key].values()):
                    return f"{where}.{key} is not a table of finite numbers"
            for key in [key for key in ("seconds", "train_seconds") if key in arm]:
                if not finite_number(arm[key]):
                    return f"{where}.{key} is {arm[key]!r}, not a finite number"
    return None
