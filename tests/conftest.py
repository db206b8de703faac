"""Shared fixtures: a fresh registry per test, a private cache, the tiny recipe, and the CLI's user errors."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hub_server import local_hub  # noqa: F401  (the loopback Hub fixture, for every test module)

from antkit.cli import app as app_module
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


@pytest.fixture
def cli_output(monkeypatch, capsys):
    """``cli_output(*args)`` runs ``antkit ARGS``, checks that it succeeds, and returns what it printed."""
    def run(*args) -> str:
        monkeypatch.setattr(sys, "argv", ["antkit", *map(str, args)])
        with pytest.raises(SystemExit) as exited:
            app_module.main()
        captured = capsys.readouterr()
        assert (exited.value.code or 0) == 0, captured.err
        return captured.out
    return run


@pytest.fixture
def cli_error(monkeypatch, capsys):
    """``cli_error(*args)`` runs ``antkit ARGS``, checks that it fails as a user error (exit 1, no traceback),
    and returns the message (its line breaks removed)."""
    def run(*args) -> str:
        monkeypatch.setattr(sys, "argv", ["antkit", *map(str, args)])
        with pytest.raises(SystemExit) as exited:
            app_module.main()
        error = capsys.readouterr().err.replace("\n", "")
        assert exited.value.code == 1 and "Traceback" not in error
        return error
    return run
