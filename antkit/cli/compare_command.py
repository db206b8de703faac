"""``antkit compare``: two arms of a run, user by user (all test users, or in groups of them)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape
from rich.table import Table

from antkit.cli.adapted_options import CACHE, JSON
from antkit.cli.output import stdout_console
from antkit.report.compare import compare_arms, render_comparison
from antkit.report.groups import GROUPINGS

COLUMNS = ("difference", "relative", "± 2 SE")


def _add_comparison_columns(table: Table, labels: list[str]) -> None:
    """The columns of ``render_comparison``'s rows: metric, both arms, the difference and its noise."""
    table.add_column("metric")
    for column in (*labels, *COLUMNS):
        table.add_column(column, justify="right")
    table.add_column("noise")


def compare(
    run: Path = typer.Argument(..., help="a run folder (holding results.json)"),
    first: str = typer.Argument(..., help="an arm's label, e.g. 'ANT (relearn)'"),
    second: str = typer.Argument(..., help="the arm to compare it with, e.g. scratch"),
    target: Optional[str] = typer.Option(None, "--target", "-t", help="the target domain (needed when the run has several)"),
    second_run: Optional[Path] = typer.Option(None, "--second-run", help="take the second arm from this run (of the "
                                              "same data and protocol, e.g. an ablation that changes the model)"),
    by: Optional[str] = typer.Option(None, "--by", help="also compare within groups of the test users: "
                                     "item-popularity (by their held-out item's interactions in the training data) "
                                     "or history-length (by their number of input items)"),
    groups: int = typer.Option(3, "--groups", help="with --by: the number of groups (of about equal size)"),
    set_: list[str] = typer.Option([], "--set", help="with --by: override a field of the run's recipe before its "
                                   "data is read, e.g. data.source.path=DIR where the data has moved (repeatable)"),
    cache: Optional[Path] = CACHE,
    as_json: bool = JSON,
) -> None:
    """The difference of two arms' test metrics, paired over the test users, with two standard errors of it."""
    comparison = compare_arms(run, first, second, target, second_run=second_run, by=by, groups=groups, overrides=set_,
                              cache_dir=cache)
    if as_json:
        typer.echo(json.dumps(comparison, indent=1, ensure_ascii=False))
        return
    names = (first, second) if second_run is None else (f"{first} ({run.name})", f"{second} ({second_run.name})")
    target, labels = escape(comparison["target"]), [escape(name) for name in names]  # text, not markup
    table = Table(title=f"{target}: {labels[0]} - {labels[1]}, paired over {comparison['users']:,} test users")
    _add_comparison_columns(table, labels)
    for row in render_comparison(comparison):
        table.add_row(*row)
    console = stdout_console()
    console.print(table)
    if by is not None:
        console.print(_group_table(comparison, labels))


def _group_table(comparison: dict, labels: list[str]) -> Table:
    """The comparison within each group of test users, one section per group."""
    table = Table(title=f"{escape(comparison['target'])}: by {GROUPINGS[comparison['by']]}")
    table.add_column(comparison["by"])
    table.add_column("users", justify="right")
    _add_comparison_columns(table, labels)
    for group in comparison["groups"]:
        span = str(group["low"]) if group["low"] == group["high"] else f"{group['low']}-{group['high']}"
        rows = render_comparison(group)
        for index, row in enumerate(rows):
            first = index == 0
            table.add_row(span if first else "", f"{group['users']:,}" if first else "", *row,
                          end_section=index == len(rows) - 1)
    return table
