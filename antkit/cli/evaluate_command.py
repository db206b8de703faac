"""``antkit evaluate``: an adapted model's metrics on its target domain, computed again."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape
from rich.table import Table

from antkit.cli.adapted_options import ARM, CACHE, JSON, MODEL, SET, TARGET
from antkit.cli.output import stdout_console
from antkit.evaluation.adapted import evaluate_adapted
from antkit.progress import RichReporter

NAMES = {"recall": "Recall", "ndcg": "NDCG"}  # as the run's report writes them


def evaluate(
    model: str = MODEL,
    arm: Optional[str] = ARM,
    target: Optional[str] = TARGET,
    keep_history: bool = typer.Option(False, "--keep-history", help="rank the input items too (most peer code does)"),
    as_json: bool = JSON,
    set_: list[str] = SET,
    cache: Optional[Path] = CACHE,
) -> None:
    """An adapted model's validation and test metrics on its target domain (full ranking), without training."""
    found = evaluate_adapted(model, target=target, arm=arm, exclude_history=not keep_history, overrides=set_,
                             cache_dir=cache, reporter=None if as_json else RichReporter())
    if as_json:
        typer.echo(json.dumps(found, indent=1))
        return
    protocol = "input items excluded" if found["exclude_history"] else "input items kept"
    table = Table(title=escape(f"{found['domain']}: {found['users']:,} users, full ranking, {protocol}"),
                  title_justify="left")
    table.add_column("split")
    for metric in found["test"]:
        name, cutoff = metric.split("@")
        table.add_column(f"{NAMES.get(name, name)}@{cutoff}", justify="right")
    for split in ("valid", "test"):
        table.add_row(split, *(f"{found[split][m]:.4f} ± {found[f'{split}_standard_errors'][m]:.4f}"
                               for m in found["test"]))
    console = stdout_console()
    console.print(table)
    console.print("± one standard error over the users", highlight=False)
