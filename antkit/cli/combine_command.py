"""``antkit combine``: the runs of several seeds as one table of means and spreads."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from antkit.cli.output import stdout_console
from antkit.errors import AntkitError
from antkit.io import atomic_write_text
from antkit.report.combine import combine as combine_runs
from antkit.report.combine import load_runs, relearn_vs_scratch, render_combined, software_lines


def combine(
    runs: list[Path] = typer.Argument(..., help="run folders (each holding results.json), e.g. one per seed"),
    unmasked: bool = typer.Option(False, "--unmasked", help="the metrics with the user's history kept in the ranking"),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="also write the tables to this markdown file"),
) -> None:
    """Mean ± standard deviation of every arm's test metrics over several runs, and of relearn - scratch."""
    protocol = "unmasked" if unmasked else "masked"
    if out and out.is_dir():
        raise AntkitError(f"--out {out}: is a folder; give a file name, e.g. {out / 'combined.md'}")
    loaded = load_runs(runs)
    text = render_combined(combine_runs(loaded, protocol), protocol, relearn_vs_scratch(loaded, protocol))
    text += "\n" + software_lines(loaded) + "\n"
    stdout_console().print(text, markup=False, highlight=False)
    if out:
        atomic_write_text(out, text)  # a file system error is an AntkitError naming the file
