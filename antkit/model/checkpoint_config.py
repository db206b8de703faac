"""The shape of a checkpoint's ``config.json``, as ``save_model`` writes it: what ``read_checkpoint`` and
``antkit hub`` check before trusting one. Fields antkit does not read are allowed; the ones it reads must have
their type exactly (no ``true`` for a number, no ``"32"`` for 32).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    FiniteFloat,
    NonNegativeInt,
    PositiveInt,
    ValidationError,
    create_model,
)

from antkit.errors import CheckpointError
from antkit.io import read_json_object
from antkit.model.build import Items
from antkit.recipe.schema import MODALITIES

FORMAT = 1  # the version of this layout; a reader refuses any other


class Shape(BaseModel):
    model_config = ConfigDict(strict=True, extra="allow")


class ModelSettings(Shape):
    """The model settings every checkpoint records, of any value: a recipe that starts from it must match them."""

    dim: Any
    max_length: Any
    temperature: Any
    fusion: Any
    backbone: Any


class Component(Shape):
    kind: str
    name: str


class Encoder(Shape):
    name: str


class ModalitySettings(Shape):
    adaptor: dict


class CheckpointConfig(Shape):
    """The top-level fields; what each modality of ``feature_dims`` needs is in ``_modality_parts``."""

    format: int
    model: ModelSettings
    feature_dims: Annotated[dict[Literal[MODALITIES], PositiveInt], Field(min_length=1)]
    encoders: dict
    items: Items
    n_items: NonNegativeInt
    components: list[Component]
    antkit_version: str = ""
    domains: list[str] = []
    valid: dict[str, FiniteFloat] = {}


@cache
def _modality_parts(modalities: tuple[str, ...]) -> type[Shape]:
    """What config.json holds for each of ``modalities``: its encoder, and its settings in the model section."""

    def each(name: str, part: type[Shape]) -> type[Shape]:
        return create_model(name, __base__=Shape, **dict.fromkeys(modalities, part))

    model = create_model("ModelModalities", __base__=Shape, modalities=each("Modalities", ModalitySettings))
    return create_model("ModalityParts", __base__=Shape, encoders=each("Encoders", Encoder), model=model)


def _problem(error: ValidationError) -> str:
    """The first problem pydantic found: the dotted field, what was expected and (briefly) what was there."""
    first = error.errors()[0]
    problem = f"{'.'.join(map(str, first['loc']))}: {first['msg']}"
    if first["type"] != "missing":
        shown = repr(first["input"])
        problem += f", got {shown if len(shown) <= 40 else type(first['input']).__name__}"
    return problem


def read_config(path: Path, name: str | None = None, advice: str = "") -> dict:
    """The checkpoint config in ``path``, read and checked (``check_config``; problems name ``name``, by default
    the path); unreadable JSON is a CheckpointError followed by ``advice``."""
    config = read_json_object(path, CheckpointError, advice)
    check_config(config, name or str(path))
    return config


def check_config(config: dict, name: str) -> None:
    """Raise a CheckpointError naming ``name`` (the file) and the field when ``config`` is not shaped like the
    ``config.json`` that ``save_model`` writes."""
    try:
        CheckpointConfig.model_validate(config)
        _modality_parts(tuple(config["feature_dims"])).model_validate(config)
    except ValidationError as error:
        raise CheckpointError(f"{name}: not an antkit checkpoint config ({_problem(error)})") from None
    if config["format"] != FORMAT:
        made_by = "a newer antkit: upgrade antkit to read it" if config["format"] > FORMAT else "no antkit release"
        raise CheckpointError(f"{name}: checkpoint format {config['format']}, but this antkit reads format {FORMAT} "
                              f"(format {config['format']} is written by {made_by})")
