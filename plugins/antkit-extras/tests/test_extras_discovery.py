"""The installed package is found through the ``antkit`` entry point: registry, recipes and ``antkit plugins``."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import version

import pytest
from antkit.errors import RecipeError
from antkit.plugins.manager import load_registry
from antkit.recipe import load_recipe

from antkit_extras import GatedFusion, GRU4Rec

DISTRIBUTION = f"antkit-extras {version('antkit-extras')}"


def test_registry_lists_both_components_with_the_distribution(only_this_plugin):
    registry = load_registry()
    assert registry.plugins["extras"].error is None
    assert registry.plugins["extras"].distribution == DISTRIBUTION == "antkit-extras 0.1.0"
    for kind, name, cls in (("backbone", "gru4rec", GRU4Rec), ("fusion", "gated", GatedFusion)):
        registration = registry.components[kind][name]
        assert (registration.cls, registration.plugin, registration.distribution) == (cls, "extras", DISTRIBUTION)
    assert {"gru4rec", "sasrec"} <= set(registry.names("backbone"))
    assert {"gated", "sum_product"} <= set(registry.names("fusion"))


def test_not_loaded_when_autoload_is_off(monkeypatch):
    monkeypatch.setenv("ANTKIT_DISABLE_PLUGIN_AUTOLOAD", "1")
    registry = load_registry()
    assert "extras" not in registry.plugins and "gru4rec" not in registry.names("backbone")


def test_cli_lists_the_plugin(only_this_plugin):
    """`antkit plugins` (the real command, in a wide console) shows the plugin, its distribution and components."""
    completed = subprocess.run([sys.executable, "-m", "antkit", "plugins"], capture_output=True, text=True,
                               timeout=120, env={**os.environ, "COLUMNS": "200"})
    assert completed.returncode == 0, completed.stderr
    row = next(line for line in completed.stdout.splitlines() if " extras " in line)
    assert DISTRIBUTION in row and "gated" in row
    assert "gru4rec" in completed.stdout


def test_recipes_take_the_settings(only_this_plugin, tiny_recipe):
    """A recipe names the components with their settings; a misspelt setting is rejected."""
    recipe = load_recipe(tiny_recipe, load_registry(), ["model.backbone={name: gru4rec, layers: 2, hidden: 48}",
                                                         "model.fusion={name: gated, temperature: 0.5}"])
    assert (recipe.model.backbone.layers, recipe.model.backbone.hidden, recipe.model.backbone.dropout) == (2, 48, 0.1)
    assert recipe.model.fusion.temperature == 0.5
    with pytest.raises(RecipeError, match="model.backbone.layer"):
        load_recipe(tiny_recipe, load_registry(), ["model.backbone={name: gru4rec, layer: 2}"])
