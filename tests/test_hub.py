"""Checkpoints on the Hub, with the real huggingface_hub client against the loopback server
(tests/hub_server.py): push, pull, a named revision, offline re-pull from the cache, info, the CLI, and
adaptation from a pulled checkpoint reproducing adaptation from the local one."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
from hub_server import set_hub_offline

import antkit
from antkit import hub
from antkit.cli import app as app_module
from antkit.errors import AntkitError, CheckpointError

TINY = Path(__file__).parent / "recipes" / "tiny.yaml"
ARMS = "arms=[{label: relearn, strategy: {name: relearn}}]"
REPO = "antkit-tests/tiny-ant"


@pytest.fixture(scope="module")
def local_run(tmp_path_factory):
    """A tiny run: its pre-trained model is what gets pushed; its relearn result is the reference."""
    out = tmp_path_factory.mktemp("hub") / "run"
    results = antkit.run(TINY, out, [ARMS, "adapt.epochs=1"], cache_dir=tmp_path_factory.getbasetemp() / "antkit-cache")
    return out, results


def cli(monkeypatch, capsys, *args) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", ["antkit", *args])
    with pytest.raises(SystemExit) as exited:
        app_module.main()
    captured = capsys.readouterr()
    return exited.value.code or 0, captured.out + captured.err


def test_push_pull_and_adapt_reproduces_the_local_metrics(local_hub, local_run, tmp_path, monkeypatch):
    out, results = local_run
    url = antkit.push(out, REPO)
    assert REPO in url
    folder = antkit.pull(REPO)
    assert sorted(p.name for p in folder.iterdir()) == ["README.md", "config.json", "model.safetensors", "recipe.json"]
    assert (folder / "model.safetensors").read_bytes() == (out / "pretrain" / "model.safetensors").read_bytes()
    card = (folder / "README.md").read_text()
    assert "library_name: antkit" in card and "Target `office`" in card and f"hf://{REPO}" in card

    again = antkit.run(TINY, tmp_path / "from-hub", [ARMS, "adapt.epochs=1", f"pretrained=hf://{REPO}"])
    assert again.targets["office"]["relearn"]["test"] == results.targets["office"]["relearn"]["test"]

    local_hub.stop()  # the cached copy serves offline
    set_hub_offline(monkeypatch)
    assert antkit.pull(REPO) == folder
    offline = antkit.run(TINY, tmp_path / "offline", [ARMS, "adapt.epochs=1", f"pretrained=hf://{REPO}"])
    assert offline.targets["office"]["relearn"]["test"] == results.targets["office"]["relearn"]["test"]


def test_named_revision_and_info(local_hub, local_run, tmp_path):
    out, _ = local_run
    antkit.push(out, REPO)
    changed = tmp_path / "changed"
    shutil.copytree(out / "pretrain", changed)
    config = json.loads((changed / "config.json").read_text())
    config["domains"] = ["kitchen", "garden", "later"]
    (changed / "config.json").write_text(json.dumps(config))
    antkit.push(changed, REPO, revision="v2")

    main_config = json.loads((antkit.pull(REPO) / "config.json").read_text())
    v2_config = json.loads((antkit.pull(REPO, revision="v2") / "config.json").read_text())
    assert main_config["domains"] == ["kitchen", "garden"] and v2_config["domains"][-1] == "later"
    assert hub.resolve(f"hf://{REPO}@v2") == antkit.pull(REPO, revision="v2")

    details = hub.info(REPO, "v2")
    assert details["revision"] == "v2" and len(details["commit"]) == 40
    assert "model.safetensors" in details["files"]
    assert {c["name"] for c in details["config"]["components"]} >= {"sasrec", "moe"}


def test_cli_push_pull_info(local_hub, local_run, tmp_path, monkeypatch, capsys):
    out, _ = local_run
    code, text = cli(monkeypatch, capsys, "hub", "push", str(out), REPO, "--private")
    assert code == 0 and f"pushed {out / 'pretrain'} to {REPO}" in text
    code, text = cli(monkeypatch, capsys, "hub", "pull", REPO, "--local-dir", str(tmp_path / "here"))
    assert code == 0 and (tmp_path / "here" / "config.json").exists()
    code, text = cli(monkeypatch, capsys, "hub", "info", REPO)
    assert code == 0 and "sasrec" in text and "kitchen, garden" in text


def test_hub_errors_are_one_clear_message(local_hub, tmp_path, monkeypatch, capsys):
    with pytest.raises(AntkitError, match="hub pull antkit-tests/nothing: no such repository"):
        antkit.pull("antkit-tests/nothing")
    code, text = cli(monkeypatch, capsys, "hub", "pull", "antkit-tests/nothing")
    assert code == 1 and "Traceback" not in text and "no such repository" in text
    with pytest.raises(AntkitError, match="hf://ORG/NAME"):
        hub.resolve("hf://just-a-name")
    with pytest.raises(CheckpointError, match="neither a checkpoint"):
        antkit.push(tmp_path, REPO)


def test_pulled_checkpoint_that_does_not_fit_fails_before_training(local_hub, local_run, tmp_path):
    out, _ = local_run
    antkit.push(out, REPO)
    with pytest.raises(CheckpointError, match=r"model\.dim: checkpoint 32, recipe 16"):
        antkit.run(TINY, tmp_path / "bad", [ARMS, f"pretrained=hf://{REPO}", "model.dim=16"])
    assert not (tmp_path / "bad" / "office").exists()
