"""``antkit recipe``: validate a recipe file, or print the recipe JSON schema."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console

from antkit.plugins.manager import load_registry
from antkit.recipe import load_recipe, recipe_model

app = typer.Typer(help="Check recipes and export their schema.", no_args_is_help=True)


@app.command()
def validate(
    recipe: Path = typer.Argument(..., help="recipe file (YAML)"),
    set_: list[str] = typer.Option([], "--set", help="override a field first: a.b=value"),
) -> None:
    """Check a recipe against the installed components; exit code 1 with the problems if it is invalid."""
    load_recipe(recipe, load_registry(), set_)
    Console().print(f"{recipe}: valid")


@app.command()
def schema() -> None:
    """Print the JSON schema of recipes (with every installed component), for editors."""
    print(json.dumps(recipe_model(load_registry()).model_json_schema(), indent=2))
