"""The checkpoint format: a folder with ``model.safetensors`` (weights), ``config.json`` (what they are),
``recipe.json`` (the recipe that produced them) and, for pre-trained models, a ``README.md`` model card.

``config.json`` records everything needed to rebuild the model through the registry: the recipe's model
section (component names and settings), the encoder and feature size of each modality, how items are
represented, the catalogue size for item-id embeddings, the antkit version, and which plugin (and installed
distribution) provides each component. ``read_checkpoint`` loads one strictly, with a clear error for
anything that does not fit.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors.torch import load

import antkit
from antkit.errors import CheckpointError
from antkit.io import atomic_save, atomic_write_text, read_json_object
from antkit.model.checkpoint_config import FORMAT, ModelSettings, read_config
from antkit.plugins.registry import Registry

SHARED_MODEL_FIELDS = tuple(ModelSettings.model_fields)  # what every checkpoint must match


def used_components(model_recipe, modalities: list[str], registry: Registry) -> list[dict]:
    """Kind, name, plugin and distribution of every component a model of ``modalities`` is built from."""
    chosen = [("backbone", model_recipe.backbone.name), ("fusion", model_recipe.fusion.name)]
    for modality in modalities:
        settings = getattr(model_recipe.modalities, modality)
        chosen += [("encoder", settings.encoder.name), ("adaptor", settings.adaptor.name)]
    entries = []
    for kind, name in dict.fromkeys(chosen):
        registration = registry.components[kind][name]
        entries.append({"kind": kind, "name": name, "plugin": registration.plugin,
                        "distribution": registration.distribution})
    return entries


def save_model(folder: Path, model: torch.nn.Module, recipe, dims: dict[str, int], registry: Registry,
               items: str = "content", n_items: int = 0, **extra) -> dict:
    """Write the weights, their config and the recipe atomically (weights first: a config never points at
    nothing); returns the config."""
    folder = Path(folder)
    atomic_save({k: v.detach().cpu() for k, v in model.state_dict().items()}, folder / "model.safetensors")
    config = {
        "format": FORMAT,
        "antkit_version": antkit.__version__,
        "model": recipe.model.model_dump(mode="json"),
        "feature_dims": dims,
        "encoders": {m: getattr(recipe.model.modalities, m).encoder.model_dump(mode="json") for m in dims},
        "items": items,
        "n_items": n_items,
        "components": used_components(recipe.model, list(dims), registry),
        **extra,
    }
    atomic_write_text(folder / "recipe.json", json.dumps(recipe.model_dump(mode="json"), indent=2))
    atomic_write_text(folder / "config.json", json.dumps(config, indent=2))
    return config


def read_weights(path: Path) -> tuple[dict[str, torch.Tensor], str]:
    """The tensors of a ``model.safetensors`` and a digest of the file, reading it once; a missing or damaged
    file is a CheckpointError naming it."""
    try:
        data = Path(path).read_bytes()
        return load(data), hashlib.sha256(data).hexdigest()[:16]
    except FileNotFoundError:
        raise CheckpointError(f"{path}: no such checkpoint file") from None
    except Exception as error:
        raise CheckpointError(f"{path}: not a readable safetensors file ({error})") from None


def load_weights(path: Path) -> dict[str, torch.Tensor]:
    """The tensors of a ``model.safetensors`` (errors as ``read_weights``)."""
    return read_weights(path)[0]


@dataclass
class Checkpoint:
    """A checkpoint folder, read and checked: its config, weights and recipe."""

    folder: Path
    config: dict
    state: dict[str, torch.Tensor]
    recipe: dict | None
    digest: str  # of model.safetensors: which weights a run started from

    @property
    def modalities(self) -> list[str]:
        return list(self.config["feature_dims"])


def read_checkpoint(folder: Path, registry: Registry) -> Checkpoint:
    """Read a checkpoint folder strictly: a missing file, unreadable JSON or weights, a config.json of another
    shape (``read_config``), or a component that no installed plugin provides is a CheckpointError that says
    what to do."""
    folder = Path(folder)
    config_path = folder / "config.json"
    if not folder.is_dir():
        raise CheckpointError(f"{folder}: no such checkpoint folder")
    if not config_path.exists():
        raise CheckpointError(f"{config_path}: missing; a checkpoint folder holds config.json and model.safetensors")
    config = read_config(config_path)
    for component in config["components"]:
        if component["name"] not in registry.components.get(component["kind"], {}):
            source = str(component.get("distribution") or component.get("plugin") or "an unknown plugin")
            package = source.split(" ")[0]
            raise CheckpointError(f"{folder}: the {component['kind']} '{component['name']}' comes from {source}, "
                                  f"which is not installed here; install it (pip install {package})")
    state, digest = read_weights(folder / "model.safetensors")
    recipe_path = folder / "recipe.json"
    recipe = read_json_object(recipe_path, CheckpointError) if recipe_path.exists() else None
    return Checkpoint(folder, config, state, recipe, digest)
