"""Loading plugins into a registry: the built-ins first, then third-party packages (entry-point group ``antkit``).

Switches (environment):
- ``ANTKIT_DISABLE_PLUGIN_AUTOLOAD=1``: do not load entry points (only built-ins and explicit plugins).
- ``ANTKIT_PLUGINS=a,b``: load only these entry-point plugins.

A third-party plugin that cannot be loaded (import error or sys.exit, unknown hook, failing hook) is recorded in
``registry.plugins[name].error`` and left out, so commands that do not need it keep working; a recipe that
names a component no plugin provides then gets an error that mentions it. Plugins passed explicitly (and
built-ins) fail loudly instead.
"""

from __future__ import annotations

import difflib
import importlib
import os
import re
from importlib.metadata import entry_points
from typing import Iterable

import pluggy

from antkit.errors import PluginError
from antkit.plugins import hookspecs
from antkit.plugins.registry import PluginInfo, Registry

ENTRY_POINT_GROUP = "antkit"

DEFAULT_PLUGINS = (
    "antkit.components.encoders",
    "antkit.components.adaptors",
    "antkit.components.fusions",
    "antkit.components.backbones",
    "antkit.components.strategies",
    "antkit.data.sources",
)

HOOK_KINDS = {
    "register_encoders": "encoder",
    "register_adaptors": "adaptor",
    "register_fusions": "fusion",
    "register_backbones": "backbone",
    "register_strategies": "strategy",
    "register_data_sources": "data_source",
}


def builtin_name(module_name: str) -> str:
    """``antkit.components.encoders`` -> ``antkit.encoders``: how built-in plugins are listed."""
    return "antkit." + module_name.rsplit(".", 1)[-1]


def load_registry(plugins: Iterable[object] = (), entry_point_plugins: bool | None = None) -> Registry:
    """A fresh registry holding the built-in components, the entry-point plugins, and ``plugins``.

    ``entry_point_plugins`` defaults to "yes unless ``ANTKIT_DISABLE_PLUGIN_AUTOLOAD`` is set".
    """
    manager = pluggy.PluginManager("antkit")
    manager.add_hookspecs(hookspecs)
    registry = Registry()
    for module_name in DEFAULT_PLUGINS:
        _add(manager, registry, importlib.import_module(module_name), builtin_name(module_name), None)
    if entry_point_plugins is None:
        entry_point_plugins = os.environ.get("ANTKIT_DISABLE_PLUGIN_AUTOLOAD", "") in ("", "0")
    if entry_point_plugins:
        _load_entry_points(manager, registry)
    for plugin in plugins:
        name = getattr(plugin, "__name__", None) or type(plugin).__name__
        _add(manager, registry, plugin, name, None)
    return registry


def _load_entry_points(manager: pluggy.PluginManager, registry: Registry) -> None:
    allowed = {n.strip() for n in os.environ.get("ANTKIT_PLUGINS", "").split(",") if n.strip()}
    installed = entry_points(group=ENTRY_POINT_GROUP)
    for name in sorted(allowed - {entry_point.name for entry_point in installed}):
        problem = (f"ANTKIT_PLUGINS names '{name}', but no installed plugin has that name "
                   f"(installed: {', '.join(sorted(e.name for e in installed)) or 'none'})")
        registry.plugins[name] = PluginInfo(name, None, problem)
    for entry_point in installed:
        if allowed and entry_point.name not in allowed:
            continue
        dist = entry_point.dist
        distribution = f"{dist.name} {dist.version}" if dist is not None else None
        try:
            module = entry_point.load()
        except (Exception, SystemExit) as error:  # a broken plugin must not take antkit down with it
            problem = f"import of {entry_point.value} failed: {type(error).__name__}: {error}"
            registry.plugins[entry_point.name] = PluginInfo(entry_point.name, distribution, problem)
            continue
        try:
            _add(manager, registry, module, entry_point.name, distribution)
        except PluginError as error:
            registry.plugins[entry_point.name] = PluginInfo(entry_point.name, distribution, str(error))


def _add(manager: pluggy.PluginManager, registry: Registry, plugin: object, name: str, distribution: str | None) -> None:
    """Register ``plugin`` and collect its components; on any problem nothing of it stays registered."""
    if name in registry.plugins:
        raise PluginError(f"two plugins are named '{name}'")
    try:
        manager.register(plugin, name=name)
        _check_hooks(manager, plugin, name)
    except pluggy.PluginValidationError as error:
        if manager.is_registered(plugin):
            manager.unregister(plugin)
        raise PluginError(f"plugin '{name}': {_describe(error)}") from None
    except PluginError:
        manager.unregister(plugin)
        raise
    before = {kind: dict(components) for kind, components in registry.components.items()}
    try:
        _collect(manager, registry, name, distribution)
    except PluginError:
        registry.components = before
        manager.unregister(plugin)
        raise
    registry.plugins[name] = PluginInfo(name, distribution)


def _check_hooks(manager: pluggy.PluginManager, plugin: object, name: str) -> None:
    """Every ``hookimpl`` of the plugin must implement a known hook."""
    for hook_name in dir(manager.hook):
        hook = getattr(manager.hook, hook_name)
        if hook_name.startswith("_") or not hasattr(hook, "get_hookimpls") or hook.has_spec():
            continue
        if any(impl.plugin is plugin for impl in hook.get_hookimpls()):
            hint = difflib.get_close_matches(hook_name, HOOK_KINDS, n=1)
            raise PluginError(
                f"plugin '{name}' implements unknown hook '{hook_name}'"
                + (f"; did you mean '{hint[0]}'?" if hint else f"; hooks: {', '.join(HOOK_KINDS)}")
            )


def _describe(error: pluggy.PluginValidationError) -> str:
    """pluggy's message without the object reprs."""
    return re.sub(r" <[^>]*>", "", str(error))


def _collect(manager: pluggy.PluginManager, registry: Registry, plugin_name: str, distribution: str | None) -> None:
    for hook_name, kind in HOOK_KINDS.items():
        for impl in getattr(manager.hook, hook_name).get_hookimpls():
            if impl.plugin_name != plugin_name:
                continue

            def register(cls, _kind=kind):
                registry.add(_kind, cls, plugin_name, distribution)

            try:
                impl.function(register=register)
            except PluginError:
                raise
            except Exception as error:
                raise PluginError(f"plugin '{plugin_name}' failed in {hook_name}: {type(error).__name__}: {error}") from error
