"""Interrupted training resumes from its last finished epoch and ends exactly where an uninterrupted run ends."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import yaml
from safetensors import safe_open

import antkit
from antkit.data.catalogue import Catalogue
from antkit.data.splits import collate, evaluation_set, pack_batches, training_segments
from antkit.errors import AntkitError, CheckpointError
from antkit.evaluation.evaluate import evaluate
from antkit.model.build import build_model
from antkit.progress import Reporter
from antkit.recipe import validate_recipe
from antkit.recipe.loader import apply_override
from antkit.training import trainer
from antkit.training.checkpoint import save_training_state
from antkit.training.trainer import TrainingSettings, train


class Interrupt(Exception):
    pass


class StopAfter(Reporter):
    """Raises after the given number of finished epochs of a stage (like Ctrl-C between epochs)."""

    def __init__(self, epochs: int, stage: str | None = None):
        self.epochs, self.stage, self.seen = epochs, stage, 0

    def epoch_done(self, stage, epoch, loss, metrics, select_by):
        if self.stage is None or stage == self.stage:
            self.seen += 1
            if self.seen >= self.epochs:
                raise Interrupt


def _problem(registry, tiny_recipe_path):
    recipe = validate_recipe(yaml.safe_load(tiny_recipe_path.read_text()), registry)
    rng = np.random.default_rng(0)
    n = 40
    catalogue = Catalogue(
        {"text": torch.randn(n + 1, 64), "image": torch.randn(n + 1, 12), "price": torch.randn(n + 1, 8)},
        {m: torch.arange(n + 1) > 0 for m in ("text", "image", "price")},
    )
    sequences = [rng.integers(1, n + 1, size=rng.integers(5, 30)) for _ in range(60)]
    return recipe, catalogue, sequences


def _settings(**changes) -> TrainingSettings:
    return TrainingSettings(**{"epochs": 5, "batch_size": 64, "learning_rate": 1e-3, "lr_decay": 0.9, "patience": 5,
                               **changes})


def _fit(model, catalogue, sequences, settings, validate=lambda m: {"ndcg@10": 0.0}, **options):
    """``train`` on the small problem (by default scored by a constant, so no evaluation runs)."""
    return train(model, "full", catalogue, training_segments(sequences, 20), settings, validate, "ndcg@10",
                 **{"stage": "x", "seed": 0, **options})


def _train(recipe, registry, catalogue, sequences, checkpoint, reporter=Reporter(), checkpoint_minutes=10.0):
    """A fresh model trained with evaluation, checkpointing to ``checkpoint``."""
    torch.manual_seed(0)
    model = build_model(recipe, registry, catalogue.dims)
    cases = evaluation_set(sequences, "valid", 20)
    result = _fit(model, catalogue, sequences, _settings(checkpoint_minutes=checkpoint_minutes),
                  lambda m: evaluate(m, catalogue, cases), stage="test", checkpoint=checkpoint, fingerprint="f",
                  reporter=reporter)
    return model, result


def test_trainer_resume_is_exact(registry, tiny_recipe_path, tmp_path):
    """Stopping after 2 of 5 epochs and running again gives bit-identical weights and history."""
    recipe, catalogue, sequences = _problem(registry, tiny_recipe_path)
    whole, whole_result = _train(recipe, registry, catalogue, sequences, tmp_path / "whole.safetensors")
    with pytest.raises(Interrupt):
        _train(recipe, registry, catalogue, sequences, tmp_path / "cut.safetensors", StopAfter(2))
    resumed, resumed_result = _train(recipe, registry, catalogue, sequences, tmp_path / "cut.safetensors")
    assert resumed_result.history == whole_result.history
    assert resumed_result.best_epoch == whole_result.best_epoch
    for key, value in whole.state_dict().items():
        assert torch.equal(value, resumed.state_dict()[key]), key


def test_a_diverging_training_stops_with_a_clear_error(registry, tiny_recipe_path, tmp_path):
    """A learning rate of 1e30 overflows the weights: one message naming the stage and the learning rate, at the
    first epoch whose loss is not finite, instead of epochs of NaN scored as results."""
    recipe, catalogue, sequences = _problem(registry, tiny_recipe_path)
    model = build_model(recipe, registry, catalogue.dims)
    seen = []
    with pytest.raises(AntkitError, match=r"^x: training diverged in epoch \d \(the loss is not finite\); lower the "
                                          r"learning rate \(now 1e\+30\)"):
        _fit(model, catalogue, sequences, _settings(learning_rate=1e30, lr_decay=1.0),
             lambda m: seen.append(1) or {"ndcg@10": 0.0})
    assert len(seen) < 5


@pytest.mark.parametrize("clip, changes", [(1e-6, True), (1e9, False)])
def test_gradient_clipping(registry, tiny_recipe_path, clip, changes):
    """``clip_grad_norm``: a tiny norm changes training, a huge one (never reached) leaves it bit-identical;
    unset (the default), a recipe's dump and so its runs' fingerprints are as before the setting existed."""
    recipe, catalogue, sequences = _problem(registry, tiny_recipe_path)
    assert "clip_grad_norm" not in recipe.adapt.model_dump()
    models = []
    for norm in (None, clip):
        torch.manual_seed(0)
        model = build_model(recipe, registry, catalogue.dims)
        _fit(model, catalogue, sequences, _settings(epochs=1, lr_decay=1.0, patience=1, clip_grad_norm=norm))
        models.append(model.state_dict())
    same = all(torch.equal(models[0][key], models[1][key]) for key in models[0])
    assert same != changes


def test_times_add_up_over_resumptions(registry, tiny_recipe_path, tmp_path):
    """The wall time (steps, validation, checkpoints) of the interrupted part counts in the resumed result."""
    recipe, catalogue, sequences = _problem(registry, tiny_recipe_path)
    with pytest.raises(Interrupt):
        _train(recipe, registry, catalogue, sequences, tmp_path / "cut.safetensors", StopAfter(2))
    with safe_open(str(tmp_path / "cut.safetensors"), "pt") as handle:
        before = json.loads(handle.metadata()["progress"])
    assert before["elapsed_seconds"] >= before["train_seconds"] > 0
    _, resumed = _train(recipe, registry, catalogue, sequences, tmp_path / "cut.safetensors")
    assert resumed.elapsed_seconds > before["elapsed_seconds"]
    assert resumed.elapsed_seconds >= resumed.train_seconds > before["train_seconds"]


def test_resume_within_an_epoch_is_exact(registry, tiny_recipe_path, tmp_path, monkeypatch):
    """With a checkpoint after every step, stopping in the middle of the second epoch and running again
    continues from the last finished step: bit-identical weights and history."""
    recipe, catalogue, sequences = _problem(registry, tiny_recipe_path)
    whole, whole_result = _train(recipe, registry, catalogue, sequences, tmp_path / "whole.safetensors")
    steps_per_epoch = len(pack_batches(training_segments(sequences, 20), 64, np.random.default_rng([0, 0])))
    calls = {"count": 0}

    def collate_then_stop(segments, indices):
        calls["count"] += 1
        if calls["count"] > steps_per_epoch + 3:  # the fourth step of the second epoch
            raise Interrupt
        return collate(segments, indices)

    monkeypatch.setattr(trainer, "collate", collate_then_stop)
    with pytest.raises(Interrupt):
        _train(recipe, registry, catalogue, sequences, tmp_path / "cut.safetensors", checkpoint_minutes=0)
    monkeypatch.setattr(trainer, "collate", collate)
    with safe_open(str(tmp_path / "cut.safetensors"), "pt") as handle:
        progress = json.loads(handle.metadata()["progress"])
    assert progress["epoch"] == 0 and progress["partial"]["steps"] == 3
    resumed, resumed_result = _train(recipe, registry, catalogue, sequences, tmp_path / "cut.safetensors",
                                     checkpoint_minutes=0)
    assert resumed_result.history == whole_result.history
    for key, value in whole.state_dict().items():
        assert torch.equal(value, resumed.state_dict()[key]), key


def test_checkpoint_of_other_settings_is_refused(registry, tiny_recipe_path, tmp_path):
    """A checkpoint written with another fingerprint is not silently continued."""
    recipe, catalogue, sequences = _problem(registry, tiny_recipe_path)
    _train(recipe, registry, catalogue, sequences, tmp_path / "c.safetensors")
    model = build_model(recipe, registry, catalogue.dims)
    with pytest.raises(CheckpointError, match="other settings"):
        _fit(model, catalogue, sequences, _settings(), checkpoint=tmp_path / "c.safetensors", fingerprint="other")


def test_corrupt_checkpoint_is_a_clear_error(registry, tiny_recipe_path, tmp_path):
    recipe, catalogue, sequences = _problem(registry, tiny_recipe_path)
    path = tmp_path / "broken.safetensors"
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="broken.safetensors.*unreadable"):
        _train(recipe, registry, catalogue, sequences, path)


@pytest.mark.slow
def test_interrupted_run_resumes_and_matches(tiny_recipe_path, tmp_path):
    """A run stopped during an arm resumes: finished stages are reused, and results equal an uninterrupted run."""
    whole = antkit.run(tiny_recipe_path, tmp_path / "whole")
    with pytest.raises(Interrupt):
        antkit.run(tiny_recipe_path, tmp_path / "cut", reporter=StopAfter(1, stage="office/finetune"))
    assert (tmp_path / "cut" / "pretrain" / "summary.json").exists()
    assert (tmp_path / "cut" / "office" / "relearn" / "result.json").exists()
    assert not (tmp_path / "cut" / "results.json").exists()
    resumed = antkit.run(tiny_recipe_path, tmp_path / "cut")
    for label, arm in whole.targets["office"].items():
        assert resumed.targets["office"][label]["test"] == arm["test"], label
    stored = json.loads((tmp_path / "cut" / "results.json").read_text())
    assert stored["targets"]["office"]["finetune"]["test"] == whole.targets["office"]["finetune"]["test"]


@pytest.mark.slow
@pytest.mark.parametrize("stage, record", [("pretrain", "summary.json"), ("office/a", "result.json")])
def test_a_finished_stage_with_a_damaged_model_is_named(tiny_recipe_path, tmp_path, stage, record):
    """A finished stage is reused only while its saved model is readable; the error says which file to delete,
    and after that the stage saves its model again from its training checkpoint, with the same results."""
    overrides = ["arms=[{label: a, strategy: {name: relearn}}]", "adapt.epochs=2", "pretrain.epochs=2"]
    first = antkit.run(tiny_recipe_path, tmp_path / "run", overrides)
    folder = tmp_path / "run" / stage
    (folder / "model.safetensors").write_bytes(b"\x00" * 10)
    with pytest.raises(CheckpointError, match=f"model.safetensors: not a readable safetensors .*delete .*{record}"):
        antkit.run(tiny_recipe_path, tmp_path / "run", overrides)
    (folder / record).unlink()
    again = antkit.run(tiny_recipe_path, tmp_path / "run", overrides)
    assert again.targets["office"]["a"]["test"] == first.targets["office"]["a"]["test"]
    assert antkit.from_pretrained(folder) is not None


@pytest.mark.slow
def test_pretraining_is_not_reused_when_its_model_selection_changes(tiny_recipe_path, tmp_path):
    """The validation metric that picks the pre-training's best epoch is part of its fingerprint (when not at
    its default): a finished pre-training is reused for the same settings, not for another metric (whose run
    then needs a folder of its own, as for any other changed pre-training setting)."""
    overrides = ["arms=[{label: a, strategy: {name: relearn}}]", "adapt.epochs=1", "pretrain.epochs=1"]
    summary = tmp_path / "run" / "pretrain" / "summary.json"
    antkit.run(tiny_recipe_path, tmp_path / "run", overrides)
    first = json.loads(summary.read_text())["fingerprint"]
    antkit.run(tiny_recipe_path, tmp_path / "run", overrides + ["evaluation.select_by=ndcg@10"])  # the default
    assert json.loads(summary.read_text())["fingerprint"] == first
    with pytest.raises(CheckpointError, match="pretrain/training.safetensors was written by a run with other"):
        antkit.run(tiny_recipe_path, tmp_path / "run", overrides + ["evaluation.select_by=recall@10"])


@pytest.mark.parametrize("fingerprint, message", [
    ("other", "other settings"), ("f", r"does not fit this model \(Missing key\(s\) in state_dict: .*layers\.1\.")])
def test_checkpoint_of_another_architecture_is_refused(registry, tiny_recipe_path, tmp_path, fingerprint, message):
    """A checkpoint whose parameter shapes differ: another fingerprint is refused before anything is loaded; the
    same fingerprint (a checkpoint that should not be there) is a CheckpointError naming the file."""
    recipe, catalogue, sequences = _problem(registry, tiny_recipe_path)
    narrow = build_model(recipe, registry, catalogue.dims)
    best = {k: v.clone() for k, v in narrow.state_dict().items()}
    save_training_state(tmp_path / "c.safetensors", narrow.state_dict(), best, torch.optim.Adam(narrow.parameters()),
                        {"fingerprint": "f"})
    deeper = recipe.model_dump(mode="json")
    apply_override(deeper, "model.backbone.layers=2")
    model = build_model(validate_recipe(deeper, registry), registry, catalogue.dims)
    with pytest.raises(CheckpointError, match=f"c.safetensors.*{message}"):
        _fit(model, catalogue, sequences, _settings(), checkpoint=tmp_path / "c.safetensors", fingerprint=fingerprint)


class Messages(StopAfter):
    """Records the reporter's messages (and stops after ``epochs`` epochs, as StopAfter)."""

    def __init__(self, epochs: int = 10**6):
        super().__init__(epochs)
        self.lines = []

    def message(self, text):
        self.lines.append(text)


def test_resuming_with_other_code_is_said(registry, tiny_recipe_path, tmp_path, monkeypatch):
    """A stage resumed by another antkit commit than the one that wrote its checkpoint says so (its result then
    mixes the two); resumed by the same commit, it does not."""
    recipe, catalogue, sequences = _problem(registry, tiny_recipe_path)
    monkeypatch.setattr(trainer, "running_commit", lambda: "a" * 40)
    with pytest.raises(Interrupt):
        _train(recipe, registry, catalogue, sequences, tmp_path / "cut.safetensors", StopAfter(1))
    same = Messages(epochs=1)
    with pytest.raises(Interrupt):
        _train(recipe, registry, catalogue, sequences, tmp_path / "cut.safetensors", same)
    assert any("resuming after epoch 1" in line for line in same.lines)
    assert not any("written by" in line for line in same.lines)
    monkeypatch.setattr(trainer, "running_commit", lambda: "b" * 40 + "+changes")
    other = Messages()
    _train(recipe, registry, catalogue, sequences, tmp_path / "cut.safetensors", other)
    assert ("test: its checkpoint was written by antkit commit aaaaaaa; continuing with bbbbbbb+changes, so its "
            "result mixes the two") in other.lines
