"""Where a run keeps its files: a folder per pre-training and per target domain's arm, under the output folder.

    OUT/pretrain/            the pre-training with all the recipe's modalities (pretrain-text/ etc.: an arm's subset)
    OUT/TARGET/ARM/          an arm's model, training checkpoint, result.json and per-user test values
    OUT/results.json         the whole run's results (report.md, report.png beside it)
"""

from __future__ import annotations

import re
from pathlib import Path

PRETRAIN = "pretrain"  # the folder of the pre-training with every configured modality
RESULTS = "results.json"
REPORT_FILES = (RESULTS, "report.md", "report.png")  # what a finished run writes into its output folder
TEST_VALUES = "test_values.safetensors"  # in each arm's folder: its per-user test metrics (the recipe's protocol)


def default_out(recipe_path: str | Path) -> Path:
    """The output folder of a recipe file's run when none is given: ``runs/<recipe name>``."""
    return Path("runs") / Path(recipe_path).stem


def arm_folder(label: str) -> str:
    """The folder an arm's files go to, under the target domain's folder."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", label).strip("-") or "arm"


def pretrain_folder(modalities: list[str], configured: list[str]) -> str:
    """``pretrain`` for the recipe's modalities, ``pretrain-text`` etc. for an arm's subset."""
    return PRETRAIN if modalities == configured else f"{PRETRAIN}-" + "-".join(modalities)


def test_values_path(run: Path, target: str, label: str) -> Path:
    """The per-user test values of arm ``label`` on ``target`` in run folder ``run``."""
    return Path(run) / target / arm_folder(label) / TEST_VALUES
