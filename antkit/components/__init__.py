"""The component kinds plugins provide; import the base classes from here."""

from antkit.components.base import (
    Adaptor,
    Backbone,
    Component,
    ComponentConfig,
    DataSource,
    Encoder,
    Fusion,
    Strategy,
)

__all__ = ["Adaptor", "Backbone", "Component", "ComponentConfig", "DataSource", "Encoder", "Fusion", "Strategy"]
