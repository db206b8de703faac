"""``antkit combine``: the runs of several seeds as one table of means and spreads."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from antkit.cli.output import stdout_console, warn
from antkit.cli.paths import path_to_write
from antkit.errors import AntkitError
from antkit.report.combine import (
    check_replaceable,
    load_runs,
    missing_arms,
    relearn_vs_scratch,
    render_combined,
    software_lines,
    write_combined,
)
from antkit.report.combine import combine as combine_runs


def combine(
    runs: list[Path] = typer.Argument(..., help="run folders (each holding results.json), e.g. one per seed"),
    unmasked: bool = typer.Option(False, "--unmasked", help="the metrics with the user's history kept in the ranking"),
    out: Optional[Path] = typer.Option(None, "--out", "-o", parser=path_to_write("--out", "combined.md"),
                                       help="also write the tables to this markdown file (new, or one combine "
                                            "wrote before)"),
) -> None:
    """Mean ± standard deviation of every arm's test metrics over several runs, and of relearn - scratch."""
    protocol = "unmasked" if unmasked else "masked"
    if out and out.is_dir():
        raise AntkitError(f"--out {out}: is a folder; give a file name, e.g. {out / 'combined.md'}")
    if out:
        check_replaceable(out)  # before any work: no other file of the user's is replaced
    loaded = load_runs(runs)
    missing = missing_arms(runs, loaded)
    for sentences in missing.values():
        for sentence in sentences:
            warn(sentence)
    text = render_combined(combine_runs(loaded, protocol), protocol, relearn_vs_scratch(loaded, protocol), missing)
    text += "\n" + software_lines(loaded) + "\n"
    stdout_console().print(text, markup=False, highlight=False)
    if out:
        write_combined(out, text)  # a file system error is an AntkitError naming the file
