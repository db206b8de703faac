"""A tiny run with both components: relearn (frozen pre-trained GRU) and scratch on antkit's test recipe."""

from __future__ import annotations

import json
from importlib.metadata import version

import antkit
import pytest
import torch
from antkit.model.saving import load_weights

OVERRIDES = [
    "model.backbone={name: gru4rec}",
    "model.fusion={name: gated}",
    "arms=[{label: relearn, strategy: {name: relearn}}, {label: scratch, strategy: {name: scratch}}]",
    "pretrain.epochs=1",
    "adapt.epochs=1",
]


@pytest.mark.slow
def test_relearn_and_scratch_run_with_gru4rec_and_gated(only_this_plugin, tiny_recipe, tmp_path):
    results = antkit.run(tiny_recipe, tmp_path, OVERRIDES)
    arms = results.targets["office"]
    assert set(arms) == {"relearn", "scratch"}
    for arm in arms.values():
        assert arm["test"] and all(0.0 <= value <= 1.0 for value in arm["test"].values())
        assert arm["epochs"] == 1

    pretrained = load_weights(tmp_path / "pretrain" / "model.safetensors")
    relearned = load_weights(tmp_path / "office" / "relearn" / "model.safetensors")
    scratch = load_weights(tmp_path / "office" / "scratch" / "model.safetensors")
    gru = [key for key in pretrained if key.startswith("backbone.gru.")]
    assert gru
    for key in gru:  # relearn kept the pre-trained GRU, frozen: unchanged by adaptation
        assert torch.equal(relearned[key], pretrained[key]), key
    assert any(not torch.equal(scratch[key], pretrained[key]) for key in gru)
    gru_parameters = sum(pretrained[key].numel() for key in gru)
    assert arms["scratch"]["trainable_parameters"] - arms["relearn"]["trainable_parameters"] == gru_parameters
    fusion = [key for key in pretrained if key.startswith("item_tower.fusion.")]
    assert fusion and any(not torch.equal(relearned[key], pretrained[key]) for key in fusion)  # re-learned

    config = json.loads((tmp_path / "office" / "relearn" / "config.json").read_text())
    used = {(c["kind"], c["name"]): c["distribution"] for c in config["components"]}
    distribution = f"antkit-extras {version('antkit-extras')}"
    assert used[("backbone", "gru4rec")] == used[("fusion", "gated")] == distribution
