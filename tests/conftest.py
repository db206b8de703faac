"""Shared fixtures: a fresh registry per test, a private cache, and the tiny recipe."""

from __future__ import annotations

from pathlib import Path

import pytest
from hub_server import local_hub  # noqa: F401  (the loopback Hub fixture, for every test module)

from antkit.plugins.manager import load_registry

TESTS = Path(__file__).parent
TINY_RECIPE = TESTS / "recipes" / "tiny.yaml"
SHARED_AMAZON = TESTS.parent.parent / "shared" / "data" / "amazon"


@pytest.fixture(autouse=True)
def private_cache(tmp_path_factory, monkeypatch):
    """Every test session uses its own data/feature cache, never the user's."""
    cache = tmp_path_factory.getbasetemp() / "antkit-cache"
    monkeypatch.setenv("ANTKIT_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return cache


@pytest.fixture
def registry():
    """A registry with the built-in components only (entry points not loaded)."""
    return load_registry(entry_point_plugins=False)


@pytest.fixture
def tiny_recipe_path() -> Path:
    return TINY_RECIPE
