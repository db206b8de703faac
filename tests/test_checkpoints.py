"""Checkpoint folders: what a run writes, rebuilding the model, starting a run from one, and the safety
checks (mismatching encoders or sizes, a missing tensor, a component from a plugin that is not installed,
corrupt files), each a clear CheckpointError before any training."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

import antkit
from antkit.errors import CheckpointError, RecipeError
from antkit.model.saving import read_checkpoint
from antkit.recipe.schema import Strict

ARMS = "arms=[{label: relearn, strategy: {name: relearn}}]"
BOTH = ("arms=[{label: relearn, strategy: {name: relearn}}, "
        "{label: text, strategy: {name: finetune}, modalities: [text]}]")
TINY = Path(__file__).parent / "recipes" / "tiny.yaml"


@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    """A tiny run with two pre-trainings (all modalities; text only) and an arm on each (shared by the tests
    of this module)."""
    out = tmp_path_factory.mktemp("first") / "run"
    results = antkit.run(TINY, out, [BOTH, "adapt.epochs=1"],  # module scope: the test cache given explicitly
                         cache_dir=tmp_path_factory.getbasetemp() / "antkit-cache")
    return out, results


@pytest.fixture
def checkpoint_copy(first_run, tmp_path):
    folder = tmp_path / "checkpoint"
    shutil.copytree(first_run[0] / "pretrain", folder)
    return folder


def test_run_writes_a_complete_checkpoint(first_run, registry):
    out, _ = first_run
    checkpoint = read_checkpoint(out / "pretrain", registry)
    assert checkpoint.modalities == ["text", "image", "price"]
    assert {c["name"] for c in checkpoint.config["components"]} >= {"sasrec", "sum_product", "moe", "hashed_ngrams"}
    assert checkpoint.recipe["data"]["auxiliary"] == ["kitchen", "garden"]
    card = (out / "pretrain" / "README.md").read_text()
    assert card.startswith("---\nlibrary_name: antkit") and "`kitchen`, `garden`" in card and "| backbone | `sasrec` |" in card


def test_from_pretrained_rebuilds_the_same_model(first_run):
    out, _ = first_run
    model = antkit.from_pretrained(out / "pretrain")
    stored = load_file(str(out / "pretrain" / "model.safetensors"))
    assert set(model.state_dict()) == set(stored)
    assert all(torch.equal(model.state_dict()[k], v) for k, v in stored.items())


def test_adapting_from_the_checkpoint_reproduces_the_run(first_run, tmp_path):
    """Same recipe, pretrained: the first run's folder -> each arm starts from the run's pre-training with its
    modalities; identical test metrics, and no pre-training at all."""
    out, results = first_run
    again = antkit.run(TINY, tmp_path / "again", [BOTH, "adapt.epochs=1", f"pretrained={out}"])
    for arm in ("relearn", "text"):
        assert again.targets["office"][arm]["test"] == results.targets["office"][arm]["test"]
    assert not list((tmp_path / "again").glob("pretrain*"))
    assert again.pretrain["pretrain"]["checkpoint"] == str(out / "pretrain")
    assert again.pretrain["pretrain-text"]["checkpoint"] == str(out / "pretrain-text")


def test_adapting_a_checkpoint_needs_no_auxiliary_data(first_run, tmp_path):
    """With a pre-trained checkpoint the auxiliary domains are neither needed nor read: the same metrics."""
    out, results = first_run
    again = antkit.run(TINY, tmp_path / "again", [BOTH, "adapt.epochs=1", f"pretrained={out}", "data.auxiliary=[]"])
    for arm in ("relearn", "text"):
        assert again.targets["office"][arm]["test"] == results.targets["office"][arm]["test"]
    assert set(again.data) == {"office"}


def test_without_auxiliary_data_every_transferring_arm_needs_a_checkpoint(first_run, tmp_path):
    out, _ = first_run
    with pytest.raises(CheckpointError, match=r"no checkpoint there has the modalities of arm 'text' \(text\), "
                                              "and the recipe has no auxiliary domains"):
        antkit.run(TINY, tmp_path / "r", [BOTH, "adapt.epochs=1", f"pretrained={out / 'pretrain'}", "data.auxiliary=[]"])
    with pytest.raises(RecipeError, match=r"needs pre-training, so give at least one auxiliary domain \(or a "):
        antkit.run(TINY, tmp_path / "r", [BOTH, "data.auxiliary=[]"])


def start_from(folder, tmp_path, *overrides):
    return antkit.run(TINY, tmp_path / "run", [ARMS, "adapt.epochs=1", f"pretrained={folder}", *overrides])


def test_encoder_mismatch_is_named_before_training(checkpoint_copy, tmp_path):
    with pytest.raises(CheckpointError) as caught:
        start_from(checkpoint_copy, tmp_path, "model.modalities.text.encoder={name: hashed_ngrams, dim: 32}")
    message = str(caught.value)
    assert "does not fit the recipe" in message
    assert "model.modalities.text.encoder.dim: checkpoint 64, recipe 32" in message
    assert "text feature size: checkpoint 64, recipe's encoder 32" in message
    assert not (tmp_path / "run" / "office").exists()  # nothing trained


def test_architecture_mismatch_is_named(checkpoint_copy, tmp_path):
    with pytest.raises(CheckpointError, match=r"model\.backbone\.layers: checkpoint 1, recipe 2"):
        start_from(checkpoint_copy, tmp_path, "model.backbone.layers=2")


def test_a_setting_added_later_is_left_out_at_its_default(checkpoint_copy, tmp_path):
    """Checkpoints written before the moe adaptor had ``precision`` lack it; at its default the setting is left
    out of checkpoints too, so those still fit (the tests above start from this one); set to another value,
    the difference is named."""
    config = json.loads((checkpoint_copy / "config.json").read_text())
    adaptor = config["model"]["modalities"]["text"]["adaptor"]
    assert adaptor["name"] == "moe" and "precision" not in adaptor
    with pytest.raises(CheckpointError,
                       match=r"model\.modalities\.text\.adaptor\.precision: checkpoint None, recipe 'bfloat16'"):
        start_from(checkpoint_copy, tmp_path, "model.modalities.text.adaptor.precision=bfloat16")


def test_a_recipe_setting_added_later_is_left_out_at_its_default():
    """Recipe sections share the mechanism (antkit/settings.py), so a training setting added later keeps the
    fingerprints of runs that do not use it: their resumes and finished stages still match."""
    class Section(Strict):
        added_later = ("new",)
        old: int = 1
        new: float = 0.0

    assert Section().model_dump() == {"old": 1}
    assert Section(new=0.5).model_dump() == {"old": 1, "new": 0.5}


def test_missing_tensor(checkpoint_copy):
    state = load_file(str(checkpoint_copy / "model.safetensors"))
    del state["backbone.position.weight"]
    save_file(state, str(checkpoint_copy / "model.safetensors"))
    with pytest.raises(CheckpointError, match="missing tensors backbone.position.weight"):
        antkit.from_pretrained(checkpoint_copy)


def test_pretrained_weights_that_do_not_fit_name_their_folder(checkpoint_copy, tmp_path):
    state = load_file(str(checkpoint_copy / "model.safetensors"))
    del state["backbone.position.weight"]
    save_file(state, str(checkpoint_copy / "model.safetensors"))
    with pytest.raises(CheckpointError, match=f"^{checkpoint_copy}: the pre-trained weights do not fit the model: "
                                              "missing tensors backbone.position.weight"):
        antkit.run(TINY, tmp_path / "run", [ARMS, "adapt.epochs=1", f"pretrained={checkpoint_copy}"])


def test_component_from_a_plugin_that_is_not_installed(checkpoint_copy, tmp_path):
    config = json.loads((checkpoint_copy / "config.json").read_text())
    config["components"].append({"kind": "backbone", "name": "mamba", "plugin": "antkit_mamba",
                                 "distribution": "antkit-mamba 0.3.1"})
    (checkpoint_copy / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match=r"backbone 'mamba' comes from antkit-mamba 0\.3\.1, .*pip install "
                                              r"antkit-mamba"):
        start_from(checkpoint_copy, tmp_path)


@pytest.mark.parametrize("damage, message", [
    (lambda f: (f / "model.safetensors").write_bytes(b"\x00" * 10), "model.safetensors: not a readable safetensors"),
    (lambda f: (f / "config.json").write_text("{not json"), "config.json: not readable JSON"),
    (lambda f: (f / "config.json").write_text("{}"), "not an antkit checkpoint config"),
    (lambda f: (f / "model.safetensors").unlink(), "no such checkpoint file"),
    (lambda f: (f / "config.json").unlink(), "neither a checkpoint"),
])
def test_corrupt_checkpoint(checkpoint_copy, damage, message):
    damage(checkpoint_copy)
    with pytest.raises(CheckpointError, match=message):
        antkit.from_pretrained(checkpoint_copy)


@pytest.mark.parametrize("change, problem", [
    (lambda c: c.update(components=5), "components: Input should be a valid list, got 5"),
    (lambda c: c.update(components=[{"x": 1}]), "components.0.kind: Field required"),
    (lambda c: c.update(feature_dims=[]),
     "feature_dims: Input should be a valid dictionary, got []"),
    (lambda c: c["encoders"].pop("image"), "encoders.image: Field required"),
    (lambda c: c["feature_dims"].update(text="32"), "feature_dims.text: Input should be a valid integer, got '32'"),
    (lambda c: c["model"]["modalities"].update(price=None),
     "model.modalities.price: Input should be a valid dictionary or instance of ModalitySettings, got None"),
    (lambda c: c.update(valid={"ndcg@10": "high"}), "valid.ndcg@10: Input should be a valid number, got 'high'"),
])
def test_config_of_another_shape_names_the_field(checkpoint_copy, tmp_path, change, problem):
    """A config.json with every key but a wrong type or a missing part: one CheckpointError naming the file and
    the field, from any command that reads it (here a run's ``pretrained``, and the Python API)."""
    config = json.loads((checkpoint_copy / "config.json").read_text())
    change(config)
    (checkpoint_copy / "config.json").write_text(json.dumps(config))
    expected = re.escape(f"{checkpoint_copy / 'config.json'}: not an antkit checkpoint config ({problem})")
    with pytest.raises(CheckpointError, match=expected):
        antkit.from_pretrained(checkpoint_copy)
    with pytest.raises(CheckpointError, match=expected):
        start_from(checkpoint_copy, tmp_path)


@pytest.mark.parametrize("version, made_by", [(2, "a newer antkit: upgrade antkit"), (0, "no antkit release")])
def test_a_checkpoint_of_another_format_is_refused(checkpoint_copy, tmp_path, version, made_by):
    """config.json's ``format`` is checked: weights laid out another way are never loaded as if they fit."""
    config = json.loads((checkpoint_copy / "config.json").read_text())
    (checkpoint_copy / "config.json").write_text(json.dumps({**config, "format": version}))
    expected = f"checkpoint format {version}, but this antkit reads format 1 .*{made_by}"
    with pytest.raises(CheckpointError, match=expected):
        antkit.from_pretrained(checkpoint_copy)
    with pytest.raises(CheckpointError, match=expected):
        start_from(checkpoint_copy, tmp_path)


def test_not_a_checkpoint(tmp_path):
    with pytest.raises(CheckpointError, match="neither a checkpoint"):
        antkit.from_pretrained(tmp_path)


def test_a_checkpoint_no_arm_can_use(first_run, tmp_path):
    """A text-only checkpoint for a recipe whose only transferring arm uses all modalities."""
    with pytest.raises(CheckpointError, match="no checkpoint there has the modalities of an arm that transfers "
                                              r"\(text\+image\+price\)"):
        start_from(first_run[0] / "pretrain-text", tmp_path)
