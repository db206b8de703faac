"""Assembling models and encoders from a recipe, through the registry."""

from __future__ import annotations

from typing import Literal

from antkit.components.base import Encoder
from antkit.errors import RecipeError
from antkit.model.item_tower import ItemTower
from antkit.model.recommender import SequentialRecommender
from antkit.plugins.registry import Registry

Items = Literal["content", "ids", "content+ids"]


def build_encoders(recipe, registry: Registry) -> dict[str, Encoder]:
    modalities = recipe.model.modalities
    return {m: registry.build("encoder", getattr(modalities, m).encoder) for m in modalities.configured()}


def build_model(recipe, registry: Registry, dims: dict[str, int], items: Items = "content", n_items: int = 0,
                modalities: list[str] | None = None) -> SequentialRecommender:
    """The recommender the recipe describes, for features of sizes ``dims`` and a domain of ``n_items``,
    using ``modalities`` (default: all the recipe configures)."""
    model = recipe.model
    backbone = _build(registry, "backbone", model.backbone, model.dim, model.max_length)
    tower = None
    if items != "ids":
        configured = modalities or model.modalities.configured()
        adaptors = {m: _build(registry, "adaptor", getattr(model.modalities, m).adaptor, dims[m], model.dim)
                    for m in configured}
        tower = ItemTower(adaptors, _build(registry, "fusion", model.fusion, configured, model.dim))
    return SequentialRecommender(backbone, tower, n_items if "ids" in items else 0, model.temperature)


def _build(registry: Registry, kind: str, config, *args):
    """One component of the model; a setting it refuses is a RecipeError naming the component and its plugin."""
    try:
        return registry.build(kind, config, *args)
    except (ValueError, TypeError) as error:
        plugin = registry.components[kind][config.name].plugin
        raise RecipeError(f"model: {kind} '{config.name}' (plugin '{plugin}'): {error}") from None
