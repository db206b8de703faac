"""``antkit run``: execute a recipe and print the report."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import typer

from antkit.cli.output import stdout_console
from antkit.cli.paths import path_to_write
from antkit.layout import default_out
from antkit.pipeline import run as run_recipe
from antkit.progress import RichReporter
from antkit.report.tables import target_tables


def run(
    recipe: Path = typer.Argument(..., help="recipe file (YAML)"),
    out: Optional[Path] = typer.Option(None, "--out", "-o", parser=path_to_write("--out", "runs/my-run"),
                                       help="output folder (default: runs/<recipe name>)"),
    set_: list[str] = typer.Option([], "--set", help="override a recipe field for this run: a.b=value (repeatable)"),
    cache: Optional[Path] = typer.Option(None, "--cache", parser=path_to_write("--cache", "~/.cache/antkit"),
                                         help="data and feature cache (default: $ANTKIT_CACHE or ~/.cache/antkit)"),
) -> None:
    """Pre-train, adapt every arm to every target domain, evaluate, and write the report."""
    console = stdout_console()
    results = run_recipe(recipe, out, set_, reporter=RichReporter(), cache_dir=cache)
    if int(os.environ.get("RANK", "0")) != 0:
        return  # under torchrun, process 0 prints the report
    out = out or default_out(recipe)
    for table, notes in target_tables(results):
        console.print(table)
        for note in notes:
            console.print(f"  {note}", highlight=False, markup=False)
    console.print(f"wrote {out}/results.json, report.md, report.png ({results.seconds:.0f} s)")
