"""What software made a result: antkit's version (and git commit, when it runs from a checkout), its
third-party plugins, torch and Python; written into results.json so that a number can be traced to its code."""

from __future__ import annotations

import platform
import subprocess
from functools import cache
from pathlib import Path

import torch

import antkit
from antkit.plugins.registry import Registry

PACKAGE_FOLDER = Path(antkit.__file__).resolve().parent


def software(registry: Registry) -> dict:
    """antkit's version and commit, the installed third-party plugins ("name version"), torch and Python."""
    made_by = {"antkit": antkit.__version__}
    commit = running_commit()
    if commit:
        made_by["antkit_commit"] = commit
    plugins = {name: info.distribution for name, info in sorted(registry.plugins.items())
               if info.distribution and not info.error}
    return {**made_by, "plugins": plugins, "torch": torch.__version__, "python": platform.python_version()}


@cache
def running_commit() -> str | None:
    """The commit of the antkit checkout this process runs (read once: the code as the process started)."""
    return git_commit(PACKAGE_FOLDER)


def short_commit(commit: str) -> str:
    """``0a39164`` or ``0a39164+changes``."""
    return commit[:7] + ("+changes" if commit.endswith("+changes") else "")


def git_commit(package: Path) -> str | None:
    """The commit of the git checkout ``package`` sits at the top of (``+changes`` when tracked files differ
    from it); None for an installed package, or when git is missing."""
    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(["git", "-C", str(package), *args], capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    top = git("rev-parse", "--show-toplevel")
    if top is None or Path(top).resolve() != package.parent:
        return None  # not a checkout of antkit itself (an installed copy, perhaps inside another repository)
    commit, changes = git("rev-parse", "HEAD"), git("status", "--porcelain", "--untracked-files=no")
    if not commit:
        return None
    return commit + ("+changes" if changes else "")


def describe(made_by: dict) -> str:
    """One line for a report: ``antkit 0.1.0 (commit 0a39164), torch 2.13.0, Python 3.11.2, plugins ...``
    (a field that is missing or not text, as in a hand-edited results.json, shows as ``?``)."""
    def field(name: str) -> str:
        value = made_by.get(name)
        return value if isinstance(value, str) else "?"

    commit = made_by.get("antkit_commit") if isinstance(made_by.get("antkit_commit"), str) else ""
    line = f"antkit {field('antkit')}" + (f" (commit {short_commit(commit)})" if commit else "")
    line += f", torch {field('torch')}, Python {field('python')}"
    plugins = made_by.get("plugins") if isinstance(made_by.get("plugins"), dict) else {}
    return line + (f", plugins {', '.join(map(str, plugins.values()))}" if plugins else "")
