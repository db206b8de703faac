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
    try:
        backbone = registry.build("backbone", model.backbone, model.dim, model.max_length)
        tower = None
        if items != "ids":
            configured = modalities or model.modalities.configured()
            adaptors = {
                m: registry.build("adaptor", getattr(model.modalities, m).adaptor, dims[m], model.dim) for m in configured
            }
            tower = ItemTower(adaptors, registry.build("fusion", model.fusion, configured, model.dim))
    except (ValueError, TypeError) as error:
        raise RecipeError(f"model: {error}") from None
    return SequentialRecommender(backbone, tower, n_items if "ids" in items else 0, model.temperature)
