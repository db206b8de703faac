"""Recipes: typed run descriptions, read from YAML."""

from antkit.recipe.loader import apply_override, load_recipe, validate_recipe
from antkit.recipe.schema import recipe_model

__all__ = ["apply_override", "load_recipe", "recipe_model", "validate_recipe"]
