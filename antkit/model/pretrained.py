"""Starting from a saved checkpoint: check that it fits a recipe, or rebuild the model it holds."""

from __future__ import annotations

from types import SimpleNamespace

from pydantic import ValidationError

from antkit.dotted import dotted_fields
from antkit.errors import CheckpointError
from antkit.model.build import build_model
from antkit.model.recommender import SequentialRecommender
from antkit.model.saving import SHARED_MODEL_FIELDS, Checkpoint
from antkit.plugins.registry import Registry
from antkit.recipe.schema import recipe_model


def _differences(theirs, ours, path: str) -> list[str]:
    theirs, ours = dotted_fields(theirs, path), dotted_fields(ours, path)
    return [f"{field}: checkpoint {theirs.get(field)!r}, recipe {ours.get(field)!r}"
            for field in sorted(set(theirs) | set(ours)) if theirs.get(field) != ours.get(field)]


def check_fits(checkpoint: Checkpoint, recipe, modalities: list[str], dims: dict[str, int]) -> None:
    """Raise a CheckpointError listing every way ``checkpoint`` differs from the model ``recipe`` builds for
    ``modalities`` with features of sizes ``dims``: encoders, feature sizes, architecture."""
    config, problems = checkpoint.config, []
    if checkpoint.modalities != modalities:
        problems.append(f"modalities: checkpoint {checkpoint.modalities}, recipe {modalities}")
    ours = recipe.model.model_dump(mode="json")
    for modality in [m for m in modalities if m in checkpoint.modalities]:
        problems += _differences(config["encoders"][modality], ours["modalities"][modality]["encoder"],
                                 f"model.modalities.{modality}.encoder")
        if config["feature_dims"][modality] != dims[modality]:
            problems.append(f"{modality} feature size: checkpoint {config['feature_dims'][modality]}, "
                            f"recipe's encoder {dims[modality]}")
        problems += _differences(config["model"]["modalities"][modality]["adaptor"],
                                 ours["modalities"][modality]["adaptor"], f"model.modalities.{modality}.adaptor")
    for field in SHARED_MODEL_FIELDS:
        problems += _differences(config["model"][field], ours[field], f"model.{field}")
    if problems:
        raise CheckpointError(f"{checkpoint.folder} does not fit the recipe: " + "; ".join(problems))


def model_from_checkpoint(checkpoint: Checkpoint, registry: Registry) -> SequentialRecommender:
    """The model a checkpoint holds, rebuilt through the registry and loaded strictly."""
    config = checkpoint.config
    model_class = recipe_model(registry).model_fields["model"].annotation
    try:
        model_recipe = model_class.model_validate(config["model"])
    except ValidationError as error:
        raise CheckpointError(f"{checkpoint.folder}/config.json: its model section is not valid here "
                              f"({error.errors()[0]['msg']} at {'.'.join(map(str, error.errors()[0]['loc']))})") from None
    model = build_model(SimpleNamespace(model=model_recipe), registry, config["feature_dims"], config["items"],
                        config["n_items"], list(config["feature_dims"]))
    model.load_checked(checkpoint.state, f"{checkpoint.folder}/model.safetensors (the model of its config.json)")
    return model
