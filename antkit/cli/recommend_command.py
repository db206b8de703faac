"""``antkit recommend``: the top items an adapted model recommends, as a table per user or as JSON."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape
from rich.table import Table

from antkit.cli.adapted_options import ARM, CACHE, JSON, MODEL, SET, TARGET
from antkit.cli.output import stdout_console
from antkit.progress import RichReporter
from antkit.recommendations import recommend as recommend_items

TEXT_WIDTH = 80  # characters of an item's text shown in the table


def recommend(
    model: str = MODEL,
    users: list[str] = typer.Argument(None, help="user ids of the target domain (their whole history is the input)"),
    history: list[str] = typer.Option([], "--history", help="an ad-hoc history (besides or instead of users): item ids, oldest first, "
                                      "comma-separated (repeatable)"),
    all_users: bool = typer.Option(False, "--all-users", help="every user of the target domain (with --json, "
                                   "for a file of recommendations)"),
    k: int = typer.Option(10, "-k", help="how many items per user"),
    arm: Optional[str] = ARM,
    target: Optional[str] = TARGET,
    keep_history: bool = typer.Option(False, "--keep-history", help="let items of the input be recommended again"),
    as_json: bool = JSON,
    set_: list[str] = SET,
    cache: Optional[Path] = CACHE,
) -> None:
    """The next items an adapted model recommends to users of its target domain (items of their input left out)."""
    histories = [[item.strip() for item in line.split(",") if item.strip()] for line in history]
    found = recommend_items(model, users or [], histories, k, all_users=all_users, target=target, arm=arm,
                            exclude_history=not keep_history, overrides=set_, cache_dir=cache,
                            reporter=None if as_json else RichReporter())
    if as_json:  # plain text, not through rich: nothing wrapped or highlighted
        typer.echo(json.dumps([asdict(r) for r in found], indent=1, ensure_ascii=False))
        return
    console = stdout_console()
    for recommendation in found:
        who = f"user {recommendation.user}" if recommendation.user is not None else "the given history"
        latest = ", ".join(recommendation.history[-3:])
        count = len(recommendation.history)
        console.print(f"{who}: {count} input item{'' if count == 1 else 's'}, the latest {latest}", markup=False,
                      highlight=False)
        console.print(_table(recommendation))


def _table(recommendation) -> Table:
    table = Table()
    for column, justify in (("rank", "right"), ("item", "left"), ("score", "right"), ("text", "left")):
        table.add_column(column, justify=justify)
    for rank, (item, score, text) in enumerate(zip(recommendation.items, recommendation.scores,
                                                   recommendation.texts), 1):
        shown = "" if text is None else text if len(text) <= TEXT_WIDTH else text[: TEXT_WIDTH - 1] + "…"
        table.add_row(str(rank), escape(item), f"{score:.3f}", escape(shown))
    return table
