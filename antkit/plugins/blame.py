"""Naming the third-party plugin whose own code raised an unexpected error, so that the CLI reports a bug in a
plugin as that plugin's, in one message, instead of a traceback through antkit."""

from __future__ import annotations

import traceback
from importlib.metadata import entry_points
from pathlib import Path

from antkit.plugins.manager import ENTRY_POINT_GROUP


def installed_plugin_packages() -> dict[str, tuple[str, str]]:
    """Top-level package of each installed entry-point plugin -> (plugin name, "distribution version")."""
    packages = {}
    for entry_point in entry_points(group=ENTRY_POINT_GROUP):
        dist = entry_point.dist
        distribution = f"{dist.name} {dist.version}" if dist is not None else "unknown distribution"
        packages[entry_point.module.split(".")[0]] = (entry_point.name, distribution)
    packages.pop("antkit", None)
    return packages


def plugin_failure(error: BaseException) -> str | None:
    """A message naming the plugin whose code is the innermost of ``error``'s traceback to belong to one, with
    the error and where it was raised; None when no plugin's code is in the traceback (antkit's own bug)."""
    packages = installed_plugin_packages()
    for frame, line in reversed(list(traceback.walk_tb(error.__traceback__))):
        package = str(frame.f_globals.get("__name__", "")).split(".")[0]
        if package in packages:
            name, distribution = packages[package]
            where = f"{Path(frame.f_code.co_filename).name}:{line}, in {frame.f_code.co_name}"
            return (f"plugin '{name}' ({distribution}) failed: {type(error).__name__}: {error} ({where}). This is a "
                    f"fault in the plugin, not in your recipe: report it to its authors, or leave the plugin out "
                    f"(ANTKIT_PLUGINS=names of the plugins to load, or uninstall it).")
    return None
