"""A run's results, and writing them: results.json, report.md and report.png."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from antkit.io import atomic_write_bytes, atomic_write_text
from antkit.layout import RESULTS
from antkit.report.analysis import summarise
from antkit.report.chart import render_chart
from antkit.report.markdown import render_markdown

RESULT_FIELDS = ("strategy", "items", "modalities", "valid", "test", "test_standard_errors", "test_unmasked",
                 "test_masked", "best_epoch", "epochs", "train_seconds", "prefixes_per_second", "test_users_per_second",
                 "seconds", "trainable_parameters")


@dataclass
class RunResults:
    recipe: dict
    targets: dict[str, dict[str, dict]]  # target -> arm label -> result
    pretrain: dict[str, dict]  # pre-training folder ("pretrain", "pretrain-text", ...) -> its summary
    data: dict[str, dict]
    seconds: float
    # target -> relearn vs scratch paired over the test users (see ``paired_comparison``), where both kept them
    relearn_vs_scratch: dict[str, dict] = field(default_factory=dict)

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
        }

    def write(self, out: Path) -> None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_text(out / RESULTS, json.dumps(self.to_json(), indent=2))
        atomic_write_text(out / "report.md", render_markdown(self))
        atomic_write_bytes(out / "report.png", render_chart(self))
