"""The plugin docs stay true: every hook is documented, and the tutorial's package works as written."""

from __future__ import annotations

import inspect
import re
import sys
import types
from pathlib import Path

from antkit.plugins import hookspecs
from antkit.plugins.manager import load_registry

DOCS = Path(__file__).parent.parent / "docs" / "plugins"
HOOKS = [name for name, function in vars(hookspecs).items()
         if inspect.isfunction(function) and hasattr(function, "antkit_spec")]


def test_every_hook_is_documented_with_its_signature():
    reference = (DOCS / "hooks.md").read_text()
    assert len(HOOKS) == 6
    for name in HOOKS:
        signature = f"{name}({', '.join(inspect.signature(getattr(hookspecs, name)).parameters)})"
        assert f"## `{signature}`" in reference, f"{signature} is not documented in docs/plugins/hooks.md"


def block(text: str, first_line: str) -> str:
    """The fenced code block of the tutorial whose first line is ``first_line``."""
    for code in re.findall(r"```(?:python|toml)\n(.*?)```", text, flags=re.S):
        if code.startswith(first_line):
            return code
    raise AssertionError(f"no code block starting with {first_line!r}")


def test_tutorial_package_works_as_written(tmp_path, monkeypatch):
    tutorial = (DOCS / "tutorial.md").read_text()
    assert '[project.entry-points.antkit]\nmeanfusion = "antkit_meanfusion"' in block(tutorial, "# pyproject.toml")

    module = types.ModuleType("antkit_meanfusion")
    exec(compile(block(tutorial, "# antkit_meanfusion/__init__.py"), "antkit_meanfusion/__init__.py", "exec"),
         module.__dict__)
    monkeypatch.setitem(sys.modules, "antkit_meanfusion", module)
    registry = load_registry(plugins=[module], entry_point_plugins=False)
    assert registry.get("fusion", "mean") is module.MeanFusion

    tests = types.ModuleType("test_mean_fusion")
    exec(compile(block(tutorial, "# tests/test_mean_fusion.py"), "test_mean_fusion.py", "exec"), tests.__dict__)
    tests.test_keeps_the_fusion_contract()
    tests.test_mean_of_present_modalities()
