"""``antkit plugins``: which plugins are loaded and what each provides."""

from __future__ import annotations

from rich.markup import escape
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
        # plugin names, versions and error texts are the plugins' own words, never rich markup
        label = escape(name)
        distribution = escape(info.distribution or ("built-in" if name.startswith("antkit.") else ""))
        if info.error:
            table.add_row(label, distribution, "[red]failed to load[/]", escape(info.error))
        elif not provided:
            table.add_row(label, distribution, "", "(none)")
        for index, (kind, names) in enumerate(provided.items()):
            table.add_row(label if index == 0 else "", distribution if index == 0 else "", kind,
                          escape(", ".join(sorted(names))))
    stdout_console().print(table)
