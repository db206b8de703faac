"""The component registry: which component names exist, which class and plugin provide each."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Literal, Union

from pydantic import Field, create_model

from antkit.components.base import KINDS, Component, ComponentConfig
from antkit.errors import PluginError


@dataclass(frozen=True)
class Registration:
    kind: str
    name: str
    cls: type[Component]
    plugin: str
    distribution: str | None = None  # "name version" of the installed package, for third-party plugins


@dataclass
class PluginInfo:
    name: str
    distribution: str | None = None
    error: str | None = None  # set when the plugin failed to load


@dataclass
class Registry:
    components: dict[str, dict[str, Registration]] = field(default_factory=lambda: {k: {} for k in KINDS})
    plugins: dict[str, PluginInfo] = field(default_factory=dict)
    derived: dict[str, object] = field(default_factory=dict, repr=False)  # e.g. the recipe classes

    def add(self, kind: str, cls: type[Component], plugin: str, distribution: str | None = None) -> None:
        base = KINDS[kind]
        if not (isinstance(cls, type) and issubclass(cls, base)):
            raise PluginError(
                f"plugin '{plugin}' registered {cls!r} as a {kind}, but it is not a subclass of "
                f"antkit.components.{base.__name__}"
            )
        if not cls.name or not isinstance(cls.name, str):
            raise PluginError(f"plugin '{plugin}' registered {cls.__name__} without a `name`")
        if not (isinstance(cls.Config, type) and issubclass(cls.Config, ComponentConfig)):
            raise PluginError(
                f"plugin '{plugin}': {cls.__name__}.Config must subclass antkit.components.ComponentConfig"
            )
        existing = self.components[kind].get(cls.name)
        if existing is not None:
            raise PluginError(
                f"{kind} '{cls.name}' is provided twice: by plugin '{existing.plugin}' and by plugin "
                f"'{plugin}'. Uninstall one, or disable one with ANTKIT_PLUGINS."
            )
        self.components[kind][cls.name] = Registration(kind, cls.name, cls, plugin, distribution)

    def names(self, kind: str) -> list[str]:
        return sorted(self.components[kind])

    def get(self, kind: str, name: str) -> type[Component]:
        try:
            return self.components[kind][name].cls
        except KeyError:
            raise PluginError(self.unknown_message(kind, name)) from None

    def unknown_message(self, kind: str, name: str) -> str:
        label = kind.replace("_", " ")
        message = f"unknown {label} '{name}'; available: {', '.join(self.names(kind)) or 'none'}"
        broken = [p for p in self.plugins.values() if p.error]
        if broken:
            message += "; plugins that failed to load: " + "; ".join(f"'{p.name}' ({p.error})" for p in broken)
        return message

    def config_type(self, kind: str, modality: str | None = None):
        """A pydantic type accepting the config of any registered component of ``kind``, chosen by ``name``.

        For encoders, ``modality`` restricts the choice to encoders of that modality.
        """
        members = []
        for registration in self.components[kind].values():
            cls = registration.cls
            if modality is not None and getattr(cls, "modality", None) != modality:
                continue
            members.append(tagged_config(cls))
        if not members:
            raise PluginError(f"no {kind.replace('_', ' ')} is registered" + (f" for {modality}" if modality else ""))
        if len(members) == 1:
            return members[0]
        return Annotated[Union[tuple(members)], Field(discriminator="name")]

    def build(self, kind: str, config: ComponentConfig, *args, **kwargs):
        """Instantiate the component that ``config`` (a tagged config from ``config_type``) names."""
        return self.get(kind, config.name)(config, *args, **kwargs)


_TAGGED: dict[type, type[ComponentConfig]] = {}


def tagged_config(cls: type[Component]) -> type[ComponentConfig]:
    """``cls.Config`` with a ``name: Literal[cls.name]`` field: the recipe form of the component's settings."""
    if cls not in _TAGGED:
        _TAGGED[cls] = create_model(
            f"{cls.Config.__name__}_{cls.name}",
            __base__=cls.Config,
            __doc__=cls.description or cls.__doc__,
            name=(Literal[cls.name], Field(description=f"{cls.kind} '{cls.name}'")),
        )
    return _TAGGED[cls]
