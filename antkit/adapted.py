"""An adapted model ready to score: an arm's checkpoint with its target domain's items and their features.

A trained arm's folder (``RUN/TARGET/ARM/``, or one pushed to the Hub) holds the model and the recipe that made
it; the recipe says where the target domain's data is, so the domain is read (from the cache when unchanged)
and its items' features computed (or taken from the cache) as the run did. ``antkit recommend`` and ``antkit
evaluate`` start here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from pydantic import BaseModel

from antkit.data.catalogue import Catalogue
from antkit.data.domain import Domain
from antkit.data.store import recorded_domain
from antkit.errors import AntkitError, CheckpointError
from antkit.features.catalogue import build_catalogue
from antkit.hub import pull
from antkit.hub_reference import PREFIX, parse_reference
from antkit.layout import RESULTS, arm_folder
from antkit.model.build import build_encoders
from antkit.model.pretrained import model_from_checkpoint
from antkit.model.recommender import SequentialRecommender
from antkit.model.saving import read_checkpoint
from antkit.plugins.manager import load_registry
from antkit.plugins.registry import Registry
from antkit.progress import Reporter
from antkit.recipe import validate_recipe
from antkit.recipe.loader import apply_overrides
from antkit.report.combine import target_arms
from antkit.training.distributed import resolve_device


@dataclass
class AdaptedModel:
    """An arm's model (in evaluation mode), the recipe that trained it, and its target domain's data."""

    folder: Path
    recipe: BaseModel  # the validated recipe (after any overrides)
    domain: Domain
    catalogue: Catalogue  # the modalities the model uses, on ``device``
    model: SequentialRecommender  # on ``device``
    device: torch.device  # the recipe's (``--set device=cpu`` to choose)


def model_folder(model: str | Path, target: str | None = None, arm: str | None = None) -> Path:
    """The folder of an adapted model: ``model`` itself (an arm's folder, or an ``hf://`` reference to one,
    pulled into the cache), or in a run folder (holding results.json) the folder of arm ``arm`` on ``target``
    (the run's only target when not given)."""
    if str(model).startswith(PREFIX) and not (arm or target):
        return pull(*parse_reference(str(model)))
    model = Path(model)
    if not (model / RESULTS).exists():
        if arm or target:
            raise AntkitError(f"{model}: not a run folder (no {RESULTS}); --arm and --target choose an arm of a run")
        return model
    target, arms = target_arms(model, target)
    if arm not in arms:
        choices = ", ".join(f"'{label}'" for label in arms)
        raise AntkitError(f"{model}: choose an arm of target '{target}' with --arm ({choices})" if arm is None
                          else f"{model}: target '{target}' has no arm '{arm}' (its arms: {choices})")
    return model / target / arm_folder(arm)


def load_adapted(model: str | Path, *, target: str | None = None, arm: str | None = None, overrides: list[str] = (),
                 cache_dir: str | Path | None = None, registry: Registry | None = None,
                 reporter: Reporter | None = None) -> AdaptedModel:
    """The adapted model ``model`` means (``model_folder``) with its domain; ``overrides`` change its stored
    recipe first (``data.source.path=...`` where the data has moved). Whatever does not fit is a clear error."""
    from antkit.pipeline import cache_folder  # the pipeline imports most of antkit: only when used

    registry = registry or load_registry()
    folder = model_folder(model, target, arm)
    checkpoint = read_checkpoint(folder, registry)
    domain_name = checkpoint.config.get("domain")
    if checkpoint.config.get("stage") != "adapt" or not domain_name:
        raise CheckpointError(f"{folder}: not an adapted model (give an arm's folder, RUN/TARGET/ARM, whose model "
                              "was trained on a target domain)")
    if checkpoint.recipe is None:
        raise CheckpointError(f"{folder}/recipe.json: missing; it says where the model's target domain is read from")
    data = checkpoint.recipe
    recipe = validate_recipe(data, registry, f"{folder}/recipe.json", overridden=apply_overrides(data, list(overrides)))
    cache = cache_folder(cache_dir)
    domain = recorded_domain(recipe, registry, domain_name, cache, f"{folder}/recipe.json")
    n_items = checkpoint.config["n_items"]
    if "ids" in checkpoint.config["items"] and n_items != domain.n_items:
        raise CheckpointError(f"{folder}: its item-id embedding has {n_items:,} items, domain '{domain_name}' now has "
                              f"{domain.n_items:,}: the data changed since the model was trained")
    encoders = {m: e for m, e in build_encoders(recipe, registry).items() if m in checkpoint.modalities}
    catalogue, _ = build_catalogue(domain, encoders, cache, reporter)
    device = resolve_device(recipe.device)
    model = model_from_checkpoint(checkpoint, registry).eval().to(device)
    return AdaptedModel(folder, recipe, domain, catalogue.to(device), model, device)
