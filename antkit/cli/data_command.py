"""``antkit data``: process and cache a recipe's domains, and describe them."""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.table import Table

from antkit.cli.output import stdout_console
from antkit.cli.paths import path_to_write
from antkit.data.store import prepare_domains
from antkit.data.summary import domain_summary
from antkit.pipeline import cache_folder
from antkit.plugins.manager import load_registry
from antkit.recipe import load_recipe

app = typer.Typer(help="Prepare and inspect the data a recipe uses.", no_args_is_help=True)

RECIPE = typer.Argument(..., help="recipe file (YAML) naming the data source and domains")
DOMAINS = typer.Option([], "--domain", "-d", help="only this domain (repeatable; default: all the recipe uses)")
SET = typer.Option([], "--set", help="override a recipe field first: a.b=value (repeatable)")
CACHE = typer.Option(None, "--cache", parser=path_to_write("--cache", "~/.cache/antkit"),
                     help="data cache (default: $ANTKIT_CACHE or ~/.cache/antkit)")


def summary_table(rows: list[tuple[str, dict]], seconds: dict[str, float] | None = None) -> Table:
    """Users, items, interactions, sequence length (mean, max), sparsity and modality coverage per domain."""
    table = Table(title="domains (coverage: share of items with text / price / image)", title_justify="left")
    columns = ["domain", "users", "items", "inter.", "len", "max", "sparsity", "text", "price", "image"]
    for column in columns + (["s"] if seconds is not None else []):
        table.add_column(column, justify="left" if column == "domain" else "right", no_wrap=True)
    for name, s in rows:
        cells = [name, f"{s['users']:,}", f"{s['items']:,}", f"{s['interactions']:,}", f"{s['mean_length']:.1f}",
                 str(s["max_length"]), f"{s['sparsity']:.2%}", *(f"{s['coverage'][m]:.0%}" for m in ("text", "price", "image"))]
        table.add_row(*cells, *([f"{seconds[name]:.1f}"] if seconds is not None else []))
    return table


def processing_table(rows: list[tuple[str, dict]]) -> Table:
    table = Table(title="what processing removed or skipped", title_justify="left")
    table.add_column("domain")
    table.add_column("reason")
    table.add_column("count", justify="right")
    for name, s in rows:
        for reason, count in s["processing"].items():
            table.add_row(name, reason.replace("_", " "), f"{count:,}")
    return table


@app.command()
def prepare(recipe: Path = RECIPE, domain: list[str] = DOMAINS, set_: list[str] = SET, cache: Path | None = CACHE):
    """Process every domain of the recipe into the cache (reused while the files and settings are unchanged)."""
    console = stdout_console()
    rows, seconds = [], {}
    started = time.perf_counter()
    registry = load_registry()
    loaded = load_recipe(recipe, registry, set_)
    for name, processed, took in prepare_domains(loaded, registry, domain, cache_folder(cache)):
        rows.append((name, domain_summary(processed)))
        seconds[name] = took
    console.print(summary_table(rows, seconds))
    console.print(f"prepared {len(rows)} domain(s) in {time.perf_counter() - started:.1f} s")


@app.command()
def info(recipe: Path = RECIPE, domain: list[str] = DOMAINS, set_: list[str] = SET, cache: Path | None = CACHE):
    """Describe the recipe's domains: sizes, sequence lengths, sparsity, modality coverage, and what was removed."""
    registry = load_registry()
    prepared = prepare_domains(load_recipe(recipe, registry, set_), registry, domain, cache_folder(cache))
    rows = [(name, domain_summary(processed)) for name, processed, _ in prepared]
    console = stdout_console()
    console.print(summary_table(rows))
    console.print(processing_table(rows))
