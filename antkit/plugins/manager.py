"""Loading plugins into a registry: the built-ins first, then third-party packages (entry-point group ``antkit``).

Switches (environment):
- ``ANTKIT_DISABLE_PLUGIN_AUTOLOAD=1``: do not load entry points (only built-ins and explicit plugins).
- ``ANTKIT_PLUGINS=a,b``: load only these entry-point plugins.
"""

from __future__ import annotations

import importlib
import os
from importlib.metadata import entry_points
from types import ModuleType
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


def load_registry(plugins: Iterable[object] = (), entry_point_plugins: bool | None = None) -> Registry:
    """A fresh registry holding the built-in components, the entry-point plugins, and ``plugins``.

    Plugins whose import fails are recorded (``registry.plugins[name].error``) instead of stopping everything:
    a recipe that needs one of their components then fails naming them. ``entry_point_plugins`` defaults to the
    ``ANTKIT_DISABLE_PLUGIN_AUTOLOAD`` switch.
    """
    manager = pluggy.PluginManager("antkit")
    manager.add_hookspecs(hookspecs)
    registry = Registry()
    for module_name in DEFAULT_PLUGINS:
        _register(manager, registry, importlib.import_module(module_name), module_name, None)
    if entry_point_plugins is None:
        entry_point_plugins = os.environ.get("ANTKIT_DISABLE_PLUGIN_AUTOLOAD", "") in ("", "0")
    if entry_point_plugins:
        _load_entry_points(manager, registry)
    for plugin in plugins:
        name = getattr(plugin, "__name__", None) or type(plugin).__name__
        _register(manager, registry, plugin, name, None)
    _collect(manager, registry)
    return registry


def _load_entry_points(manager: pluggy.PluginManager, registry: Registry) -> None:
    allowed = {n.strip() for n in os.environ.get("ANTKIT_PLUGINS", "").split(",") if n.strip()}
    for entry_point in entry_points(group=ENTRY_POINT_GROUP):
        if allowed and entry_point.name not in allowed:
            continue
        dist = entry_point.dist
        distribution = f"{dist.name} {dist.version}" if dist is not None else None
        try:
            module = entry_point.load()
        except Exception as error:  # a broken plugin must not take antkit down with it
            registry.plugins[entry_point.name] = PluginInfo(
                entry_point.name, distribution, f"import of {entry_point.value} failed: {type(error).__name__}: {error}"
            )
            continue
        _register(manager, registry, module, entry_point.name, distribution)


def _register(manager, registry: Registry, plugin: object, name: str, distribution: str | None) -> None:
    if name in registry.plugins:
        raise PluginError(f"two plugins are named '{name}'")
    manager.register(plugin, name=name)
    registry.plugins[name] = PluginInfo(name, distribution)


def _collect(manager: pluggy.PluginManager, registry: Registry) -> None:
    try:
        manager.check_pending()
    except pluggy.PluginValidationError as error:
        raise PluginError(f"plugin '{manager.get_name(error.plugin)}': {error}") from None
    for hook_name, kind in HOOK_KINDS.items():
        for impl in getattr(manager.hook, hook_name).get_hookimpls():
            plugin_name = impl.plugin_name
            info = registry.plugins[plugin_name]

            def register(cls, _plugin=plugin_name, _dist=info.distribution, _kind=kind):
                registry.add(_kind, cls, _plugin, _dist)

            try:
                impl.function(register=register)
            except PluginError:
                raise
            except Exception as error:
                raise PluginError(f"plugin '{plugin_name}' failed in {hook_name}: {type(error).__name__}: {error}") from error
