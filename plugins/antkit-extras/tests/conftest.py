"""Fixtures of the antkit-extras tests (self-contained: antkit's own tests/conftest.py is not needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

TINY_RECIPE = Path(__file__).resolve().parents[3] / "tests" / "recipes" / "tiny.yaml"  # antkit's own test recipe


@pytest.fixture(autouse=True)
def private_cache(tmp_path_factory, monkeypatch):
    """A data/feature cache of this test session, never the user's; no model downloads."""
    cache = tmp_path_factory.getbasetemp() / "antkit-extras-cache"
    monkeypatch.setenv("ANTKIT_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return cache


@pytest.fixture
def only_this_plugin(monkeypatch):
    """Entry points load, but only this package's (``extras``), whatever else is installed."""
    monkeypatch.delenv("ANTKIT_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    monkeypatch.setenv("ANTKIT_PLUGINS", "extras")


@pytest.fixture
def tiny_recipe() -> Path:
    """antkit's seconds-long test recipe (from an antkit source checkout)."""
    if not TINY_RECIPE.exists():
        pytest.skip(f"antkit's test recipe {TINY_RECIPE} is not here (not an antkit source checkout)")
    return TINY_RECIPE
