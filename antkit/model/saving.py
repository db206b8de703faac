"""Finished models on disk: ``model.safetensors`` (weights) beside ``config.json`` (what they are).

``config.json`` records everything needed to rebuild the model through the registry: the recipe's model
section (component names and settings), the feature size of each modality, how items are represented,
the catalogue size for item-id embeddings, and the antkit version.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import load_file

import antkit
from antkit.errors import CheckpointError
from antkit.io import atomic_save, atomic_write_text


def save_model(folder: Path, model: torch.nn.Module, recipe, dims: dict[str, int], items: str = "content",
               n_items: int = 0, **extra) -> None:
    """Write the weights and their config atomically (weights first: a config never points at nothing)."""
    folder = Path(folder)
    atomic_save({k: v.detach().cpu() for k, v in model.state_dict().items()}, folder / "model.safetensors")
    config = {
        "antkit_version": antkit.__version__,
        "model": recipe.model.model_dump(mode="json"),
        "feature_dims": dims,
        "encoders": {m: getattr(recipe.model.modalities, m).encoder.model_dump(mode="json")
                     for m in dims},
        "items": items,
        "n_items": n_items,
        **extra,
    }
    atomic_write_text(folder / "config.json", json.dumps(config, indent=2))


def load_weights(path: Path) -> dict[str, torch.Tensor]:
    """The tensors of a ``model.safetensors``; a missing or damaged file is a CheckpointError naming it."""
    try:
        return load_file(str(path))
    except FileNotFoundError:
        raise CheckpointError(f"{path}: no such checkpoint file") from None
    except Exception as error:
        raise CheckpointError(f"{path}: not a readable safetensors file ({error})") from None
