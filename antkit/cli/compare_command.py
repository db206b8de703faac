"""``antkit compare``: two arms of a run, user by user."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape
from rich.table import Table

from antkit.cli.output import stdout_console
from antkit.report.compare import compare_arms, render_comparison


def compare(
    run: Path = typer.Argument(..., help="a run folder (holding results.json)"),
    first: str = typer.Argument(..., help="an arm's label, e.g. 'ANT (relearn)'"),
    second: str = typer.Argument(..., help="the arm to compare it with, e.g. scratch"),
    target: Optional[str] = typer.Option(None, "--target", "-t", help="the target domain (needed when the run has several)"),
) -> None:
    """The difference of two arms' test metrics, paired over the test users, with two standard errors of it."""
    comparison = compare_arms(run, first, second, target)
    target, labels = escape(comparison["target"]), [escape(label) for label in (first, second)]  # text, not markup
    table = Table(title=f"{target}: {labels[0]} - {labels[1]}, paired over {comparison['users']:,} test users")
    table.add_column("metric")
    for column in (*labels, "difference", "± 2 SE"):
        table.add_column(column, justify="right")
    table.add_column("noise")
    for row in render_comparison(comparison):
        table.add_row(*row)
    stdout_console().print(table)
