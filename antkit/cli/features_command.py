"""``antkit features``: compute and cache the item features a recipe needs, and list what the cache holds."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from antkit.cli.data_command import CACHE, DOMAINS, RECIPE, SET
from antkit.cli.output import stdout_console
from antkit.data.store import prepare_domains
from antkit.features.catalogue import build_catalogue
from antkit.features.store import stored_features
from antkit.model.build import build_encoders
from antkit.pipeline import cache_folder
from antkit.plugins.manager import load_registry
from antkit.progress import RichReporter
from antkit.recipe import load_recipe

app = typer.Typer(help="Compute and inspect cached item features.", no_args_is_help=True)


@app.command()
def build(recipe: Path = RECIPE, domain: list[str] = DOMAINS, set_: list[str] = SET, cache: Optional[Path] = CACHE):
    """Encode every item of the recipe's domains with its encoders; items already in the store are reused."""
    registry = load_registry()
    loaded = load_recipe(recipe, registry, set_)
    encoders = build_encoders(loaded, registry)
    reporter = RichReporter()
    steps, started = [], time.perf_counter()
    try:
        cache_dir = cache_folder(cache)
        for _, processed, _ in prepare_domains(loaded, registry, domain, cache_dir):
            steps += build_catalogue(processed, encoders, cache_dir, reporter)[1]
    finally:
        reporter.close()
    table = Table(title="features", title_justify="left")
    for column in ("domain", "modality", "encoder", "items", "computed", "have it", "failed images", "s", "items/s"):
        table.add_column(column, justify="left" if column in ("domain", "modality", "encoder") else "right")
    for s in steps:
        rate = f"{s.computed / s.seconds:,.0f}" if s.computed and s.seconds > 0 else "-"
        table.add_row(s.domain, s.modality, s.encoder, f"{s.items:,}", f"{s.computed:,}", f"{s.present:,}",
                      f"{s.failed_images:,}", f"{s.seconds:.1f}", rate)
    console = stdout_console()
    console.print(table)
    for s in steps:
        if s.failed_examples:
            console.print(f"{s.domain}/{s.modality}: images that could not be opened, e.g. {', '.join(s.failed_examples)}",
                          highlight=False, markup=False)
    console.print(f"{sum(s.computed for s in steps):,} items encoded, "
                  f"{sum(s.items - s.computed for s in steps):,} reused, in {time.perf_counter() - started:.1f} s")


@app.command()
def info(cache: Optional[Path] = CACHE):
    """The feature stores in the cache: encoder, items, vector size, file size."""
    folder = cache_folder(cache) / "features"
    table = Table(title=f"feature stores in {folder}", title_justify="left")
    for column in ("store", "encoder", "items", "dim", "MB"):
        table.add_column(column, justify="left" if column in ("store", "encoder") else "right")
    for store in stored_features(folder):
        table.add_row(store.path.name, store.encoder, f"{store.items:,}", str(store.dim),
                      f"{store.bytes / 2**20:.1f}")
    stdout_console().print(table)
