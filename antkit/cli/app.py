"""The ``antkit`` command: a thin typer app over the library; one module per command group."""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from antkit.cli import (
    combine_command,
    compare_command,
    data_command,
    features_command,
    hub_command,
    plugins_command,
    recipe_command,
    run_command,
)
from antkit.errors import AntkitError

app = typer.Typer(help="antkit: transferable multi-modal sequential recommendation (ANT).", no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False)
app.command("run")(run_command.run)
app.command("plugins")(plugins_command.plugins)
app.command("combine")(combine_command.combine)
app.command("compare")(compare_command.compare)
app.add_typer(recipe_command.app, name="recipe")
app.add_typer(data_command.app, name="data")
app.add_typer(features_command.app, name="features")
app.add_typer(hub_command.app, name="hub")

error_console = Console(stderr=True, soft_wrap=True)


def main() -> None:
    """Entry point: known errors become one clear message and exit code 1."""
    try:
        app()
    except AntkitError as error:
        error_console.print("[bold red]error:[/] ", end="")
        error_console.print(str(error), highlight=False, markup=False)
        sys.exit(1)
    except KeyboardInterrupt:
        error_console.print("interrupted: finished epochs are saved; run the same command again to resume")
        sys.exit(130)
