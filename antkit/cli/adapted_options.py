"""The arguments of the commands that use an adapted model (``antkit recommend``, ``antkit evaluate``)."""

from __future__ import annotations

import typer

from antkit.cli.paths import path_to_write

MODEL = typer.Argument(..., help="an arm's folder (RUN/TARGET/ARM) or hf://ORG/NAME[@REV] (one pushed with antkit "
                       "hub push), or a run folder with --arm")
ARM = typer.Option(None, "--arm", "-a", help="in a run folder: the arm's label")
TARGET = typer.Option(None, "--target", "-t", help="in a run folder: the target domain (needed when the run has "
                      "several)")
JSON = typer.Option(False, "--json", help="print JSON instead of tables")
SET = typer.Option([], "--set", help="override a field of the model's recipe first, e.g. data.source.path=DIR where "
                   "the data has moved, or device=cpu (repeatable)")
CACHE = typer.Option(None, "--cache", parser=path_to_write("--cache", "~/.cache/antkit"),
                     help="data and feature cache (default: $ANTKIT_CACHE or ~/.cache/antkit)")
