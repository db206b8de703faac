"""What made a run: antkit's version and git commit, plugins, torch and Python, in results.json and reports."""

from __future__ import annotations

import subprocess

import pytest
import torch

import antkit
from antkit.provenance import describe, git_commit, software
from antkit.report.combine import software_lines


def _git(folder, *args):
    return subprocess.run(["git", "-C", str(folder), *args], capture_output=True, text=True, check=True).stdout.strip()


@pytest.fixture
def checkout(tmp_path):
    """A git repository with a package folder ``pkg`` at its top, one commit."""
    repo = tmp_path / "repo"
    (repo / "pkg").mkdir(parents=True)
    (repo / "pkg" / "__init__.py").write_text("x = 1\n")
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "first")
    return repo


def test_commit_of_a_checkout_and_its_changes(checkout):
    """The commit of the checkout; '+changes' once a tracked file differs (an untracked file does not count)."""
    head = _git(checkout, "rev-parse", "HEAD")
    (checkout / "notes.txt").write_text("untracked\n")
    assert git_commit(checkout / "pkg") == head
    (checkout / "pkg" / "__init__.py").write_text("x = 2\n")
    assert git_commit(checkout / "pkg") == head + "+changes"


def test_no_commit_outside_a_checkout_of_the_package(checkout, tmp_path):
    """A package deeper in another repository (an installed copy inside a project), or in no repository: None."""
    deeper = checkout / "site" / "pkg"
    deeper.mkdir(parents=True)
    assert git_commit(deeper) is None
    plain = tmp_path / "plain" / "pkg"
    plain.mkdir(parents=True)
    assert git_commit(plain) is None


def test_software_names_versions_and_plugins(registry):
    made_by = software(registry)
    assert made_by["antkit"] == antkit.__version__ and made_by["torch"] == torch.__version__
    assert made_by["python"].count(".") == 2
    assert all(isinstance(d, str) for d in made_by["plugins"].values())


def test_describe_and_combine_lines():
    run = {"antkit": "0.1.0", "antkit_commit": "0a39164abc+changes", "torch": "2.13.0", "python": "3.11.7",
           "plugins": {"extras": "antkit-extras 0.1.0"}}
    assert describe(run) == "antkit 0.1.0 (commit 0a39164+changes), torch 2.13.0, Python 3.11.7, plugins antkit-extras 0.1.0"
    assert describe({"antkit": 5, "plugins": "x"}) == "antkit ?, torch ?, Python ?"  # a hand-edited file
    lines = software_lines([{"software": run}, {"software": run}, {}])
    assert lines.splitlines() == [f"Made by {describe(run)}: 2 runs.",
                                  "Made by an antkit that did not record its version: 1 run."]
