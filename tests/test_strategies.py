"""Adaptation strategies (relearn, finetune, scratch) and loading pre-trained weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import yaml

from antkit.data.catalogue import Catalogue
from antkit.data.splits import collate
from antkit.errors import CheckpointError
from antkit.model.build import build_model
from antkit.recipe import validate_recipe

DIMS = {"text": 12, "image": 8, "price": 8}


@pytest.fixture
def recipe(registry, tiny_recipe_path):
    return validate_recipe(yaml.safe_load(tiny_recipe_path.read_text()), registry)


def strategy(registry, recipe, label):
    arm = next(a for a in recipe.arms if a.label == label)
    return registry.build("strategy", arm.strategy)


def pretrained_state(registry, recipe):
    """A 'pre-trained' model: every tensor moved away from its initial value (gates, centres nonzero)."""
    torch.manual_seed(0)
    model = build_model(recipe, registry, DIMS)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(torch.randn_like(parameter) * 0.5 + 0.25)
    return {k: v.clone() for k, v in model.state_dict().items()}


def fresh(registry, recipe, **kwargs):
    torch.manual_seed(1)
    return build_model(recipe, registry, DIMS, **kwargs)


def is_sequence(name):
    return name.startswith("backbone.layers.")


def is_position(name):
    return name.startswith("backbone.position.")


def is_item_side(name):
    return name.startswith("item_tower.")


def test_relearn_keeps_frozen_sequence_layers_and_reinitialises_item_side(registry, recipe):
    """relearn: sequence layers = pre-trained and frozen; positions and adaptors re-drawn and trainable."""
    pretrained = pretrained_state(registry, recipe)
    model = fresh(registry, recipe)
    strategy(registry, recipe, "relearn").prepare(model, pretrained)
    parameters = dict(model.named_parameters())
    state = model.state_dict()
    assert any(is_sequence(n) for n in parameters) and any(is_item_side(n) for n in parameters)
    for name, parameter in parameters.items():
        if is_sequence(name):
            assert torch.equal(parameter, pretrained[name]), name
            assert not parameter.requires_grad, name
        elif is_position(name) or is_item_side(name):
            assert not torch.equal(parameter, pretrained[name]), name
            assert parameter.requires_grad, name
        else:  # what is neither re-initialised nor frozen is still the pre-trained value
            assert torch.equal(parameter, pretrained[name]), name
    position = state["backbone.position.weight"]
    assert abs(position.std().item() - 0.02) < 0.005 and abs(position.mean().item()) < 0.005
    for modality, adaptor in model.item_tower.adaptors.items():
        assert torch.count_nonzero(adaptor.gate) == 0, modality
        assert torch.count_nonzero(adaptor.noise) == 0, modality
        constant = adaptor.center if adaptor.center is not None else adaptor.bias
        assert torch.count_nonzero(constant) == 0, modality
        assert abs(adaptor.weight.std().item() - 0.02) < 0.005, modality


def test_finetune_keeps_everything_and_freezes_sequence_and_positions(registry, recipe):
    """finetune: every tensor = pre-trained; sequence layers and positions frozen; adaptors trainable."""
    pretrained = pretrained_state(registry, recipe)
    model = fresh(registry, recipe)
    strategy(registry, recipe, "finetune").prepare(model, pretrained)
    state = model.state_dict()
    assert set(state) == set(pretrained)
    for name in pretrained:
        assert torch.equal(state[name], pretrained[name]), name
    for name, parameter in model.named_parameters():
        if is_sequence(name) or is_position(name):
            assert not parameter.requires_grad, name
        elif is_item_side(name):
            assert parameter.requires_grad, name


def test_relearn_keep_adaptors_keeps_those_modalities_pretrained(registry, recipe):
    """keep_adaptors: [image] keeps (and tunes) the pre-trained image adaptor; the other adaptors, the fusion
    and the positions are re-initialised, the sequence layers still frozen."""
    from antkit.components.strategies import Relearn, RelearnConfig

    pretrained = pretrained_state(registry, recipe)
    model = fresh(registry, recipe)
    Relearn(RelearnConfig(keep_adaptors=["image"])).prepare(model, pretrained)
    kept = [name for name, _ in model.named_parameters() if name.startswith("item_tower.adaptors.image.")]
    assert kept and any(n.startswith("item_tower.adaptors.text.") for n, _ in model.named_parameters())
    for name, parameter in model.named_parameters():
        if name in kept:
            assert torch.equal(parameter, pretrained[name]) and parameter.requires_grad, name
        elif is_position(name) or is_item_side(name):
            assert not torch.equal(parameter, pretrained[name]) and parameter.requires_grad, name
        elif is_sequence(name):
            assert torch.equal(parameter, pretrained[name]) and not parameter.requires_grad, name


def test_keep_adaptors_is_dumped_only_when_used():
    """keep_adaptors came after the first release: at its default a relearn arm dumps (and so fingerprints) as
    before, so earlier run folders are still reused and resumed."""
    from antkit.components.strategies import RelearnConfig

    assert RelearnConfig().model_dump() == {"freeze_sequence": True, "reset_positions": True}
    assert RelearnConfig(keep_adaptors=["image"]).model_dump()["keep_adaptors"] == ("image",)
    assert RelearnConfig(keep_adaptors=["image"]).changed_settings() == {"keep_adaptors": ["image"]}
    assert RelearnConfig().changed_settings() == {}


def test_scratch_loads_nothing(registry, recipe):
    """scratch: uses no pre-training; prepare leaves the fresh model as it was, all trainable."""
    pretrained = pretrained_state(registry, recipe)
    model = fresh(registry, recipe)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    scratch = strategy(registry, recipe, "scratch")
    assert scratch.uses_pretrained is False
    scratch.prepare(model, None)
    scratch.prepare(model, pretrained)  # even if handed one, nothing is loaded
    for name, tensor in model.state_dict().items():
        assert torch.equal(tensor, before[name]), name
        assert not torch.equal(tensor, pretrained[name]), name
    assert all(p.requires_grad for p in model.parameters())


def test_relearn_training_step_moves_item_side_not_sequence_layers(registry, recipe):
    """After relearn, one optimiser step on the target loss changes adaptors and positions, never the layers."""
    pretrained = pretrained_state(registry, recipe)
    model = fresh(registry, recipe)
    strategy(registry, recipe, "relearn").prepare(model, pretrained)
    torch.manual_seed(2)
    n = 6
    present = torch.ones(n + 1, dtype=torch.bool)
    present[0] = False
    features = {m: torch.randn(n + 1, d) * present[:, None] for m, d in DIMS.items()}
    catalogue = Catalogue(features, {m: present.clone() for m in DIMS})
    batch = collate([(np.array([1, 2, 3]), np.array([2, 3, 4])), (np.array([5, 6]), np.array([6, 1]))], [0, 1])
    before = {k: v.clone() for k, v in model.state_dict().items()}
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=1.0)
    model.train()
    model(batch, catalogue, objective="full").backward()
    optimizer.step()
    after = model.state_dict()
    for name in before:
        if is_sequence(name):
            assert torch.equal(after[name], before[name]), name
    assert not torch.equal(after["backbone.position.weight"], before["backbone.position.weight"])
    assert not torch.equal(after["item_tower.adaptors.text.weight"], before["item_tower.adaptors.text.weight"])


def test_load_pretrained_missing_tensor_names_it(registry, recipe):
    """A pre-trained state lacking a tensor: CheckpointError naming that tensor."""
    pretrained = pretrained_state(registry, recipe)
    name = "backbone.layers.0.qkv.weight"
    del pretrained[name]
    model = fresh(registry, recipe)
    with pytest.raises(CheckpointError, match=name.replace(".", r"\.")):
        model.load_pretrained(pretrained)
    with pytest.raises(CheckpointError, match=name.replace(".", r"\.")):
        strategy(registry, recipe, "relearn").prepare(fresh(registry, recipe), pretrained)


def test_load_pretrained_misshaped_tensor_names_it(registry, recipe):
    """A tensor of the wrong shape (other feature size): CheckpointError naming it; the model is untouched."""
    pretrained = pretrained_state(registry, recipe)
    name = "item_tower.adaptors.text.weight"
    k, in_dim, dim = pretrained[name].shape
    pretrained[name] = torch.zeros(k, in_dim + 1, dim)
    model = fresh(registry, recipe)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(CheckpointError, match=name.replace(".", r"\.")):
        model.load_pretrained(pretrained)
    for key, tensor in model.state_dict().items():
        assert torch.equal(tensor, before[key]), key


def test_load_pretrained_unexpected_tensor_names_it(registry, recipe):
    """An extra tensor the model does not have: CheckpointError naming it."""
    pretrained = pretrained_state(registry, recipe)
    pretrained["backbone.extra.weight"] = torch.zeros(2)
    with pytest.raises(CheckpointError, match=r"backbone\.extra\.weight"):
        fresh(registry, recipe).load_pretrained(pretrained)


def test_transductive_model_accepts_content_only_pretrained_state(registry, recipe):
    """items='content+ids': the new item-id embedding may be missing from the pre-trained state."""
    pretrained = pretrained_state(registry, recipe)
    assert not any(k.startswith("item_ids.") for k in pretrained)
    model = fresh(registry, recipe, items="content+ids", n_items=9)
    assert model.item_ids is not None and model.item_ids.weight.shape == (10, recipe.model.dim)
    ids_before = model.item_ids.weight.detach().clone()
    arm = next(a for a in recipe.arms if a.label == "transductive")
    assert arm.items == "content+ids"
    registry.build("strategy", arm.strategy).prepare(model, pretrained)
    state = model.state_dict()
    for name, parameter in model.named_parameters():
        if is_sequence(name):
            assert torch.equal(parameter, pretrained[name]) and not parameter.requires_grad, name
    assert torch.equal(state["item_ids.weight"], ids_before)
    assert torch.equal(state["item_ids.weight"][0], torch.zeros(recipe.model.dim))
    assert model.item_ids.weight.requires_grad


def test_relearn_switches_keep_positions_or_unfreeze(registry, recipe):
    """reset_positions: false keeps the pre-trained positions; freeze_sequence: false leaves layers trainable."""
    from antkit.components.strategies import Relearn, RelearnConfig

    pretrained = pretrained_state(registry, recipe)
    model = fresh(registry, recipe)
    Relearn(RelearnConfig(reset_positions=False, freeze_sequence=False)).prepare(model, pretrained)
    for name, parameter in model.named_parameters():
        if is_position(name) or is_sequence(name):
            assert torch.equal(parameter, pretrained[name]), name
            assert parameter.requires_grad, name
        elif is_item_side(name):
            assert not torch.equal(parameter, pretrained[name]), name
