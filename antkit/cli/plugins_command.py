"""``antkit plugins``: which plugins are loaded and what each provides."""

from __future__ import annotations

from rich.table import Table

from antkit.cli.output import stdout_console
from antkit.plugins.manager import load_registry


def plugins() -> None:
    """List plugins (built-in and third-party) with their versions and components."""
    registry = load_registry()
    table = Table(title="antkit plugins", title_justify="left")
    for column in ("plugin", "distribution", "kind", "components"):
        table.add_column(column)
    for name, info in registry.plugins.items():
        provided: dict[str, list[str]] = {}
        for kind, components in registry.components.items():
            for registration in components.values():
                if registration.plugin == name:
                    provided.setdefault(kind, []).append(registration.name)
        distribution = info.distribution or ("built-in" if name.startswith("antkit.") else "")
        if info.error:
            table.add_row(name, distribution, "[red]failed to load[/]", info.error)
        elif not provided:
            table.add_row(name, distribution, "", "(none)")
        for index, (kind, names) in enumerate(provided.items()):
            table.add_row(name if index == 0 else "", distribution if index == 0 else "", kind, ", ".join(sorted(names)))
    stdout_console().print(table)
