"""The ``antkit`` command: a thin typer app over the library; one module per command group."""

from __future__ import annotations

import sys

import torch
import typer
from rich.console import Console

from antkit.cli import (
    combine_command,
    compare_command,
    data_command,
    evaluate_command,
    features_command,
    hub_command,
    plugins_command,
    recipe_command,
    recommend_command,
    run_command,
)
from antkit.errors import AntkitError
from antkit.plugins.blame import plugin_failure

app = typer.Typer(help="antkit: transferable multi-modal sequential recommendation (ANT).", no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False)
app.command("run")(run_command.run)
app.command("plugins")(plugins_command.plugins)
app.command("combine")(combine_command.combine)
app.command("compare")(compare_command.compare)
app.command("recommend")(recommend_command.recommend)
app.command("evaluate")(evaluate_command.evaluate)
app.add_typer(recipe_command.app, name="recipe")
app.add_typer(data_command.app, name="data")
app.add_typer(features_command.app, name="features")
app.add_typer(hub_command.app, name="hub")

error_console = Console(stderr=True, soft_wrap=True)
OUT_OF_MEMORY = ("out of memory: {problem}; lower the batch sizes (pretrain.batch_size, adapt.batch_size, "
                 "evaluation.batch_size) or the model's size (model.dim), or use a machine with more memory. "
                 "Finished epochs are saved: the same command resumes.")


def _out_of_memory(error: BaseException) -> bool:
    """Whether ``error`` is the CPU or GPU allocator running out of memory (a recipe too large for the machine)."""
    return isinstance(error, (MemoryError, torch.OutOfMemoryError)) or (
        isinstance(error, RuntimeError) and "can't allocate memory" in str(error))


def _fail(message: str) -> None:
    error_console.print("[bold red]error:[/] ", end="")
    error_console.print(message, highlight=False, markup=False)
    sys.exit(1)


def main() -> None:
    """Entry point: known errors, and faults in a plugin's code, become one clear message and exit code 1."""
    try:
        app()
    except AntkitError as error:
        _fail(str(error))
    except Exception as error:  # out of memory, or a fault in a plugin's code; antkit's own bugs keep a traceback
        if _out_of_memory(error):
            _fail(OUT_OF_MEMORY.format(problem=(str(error).strip() or type(error).__name__).splitlines()[-1]))
        message = plugin_failure(error)
        if message is None:
            raise
        _fail(message)
    except KeyboardInterrupt:
        error_console.print("interrupted: finished epochs are saved; run the same command again to resume")
        sys.exit(130)
