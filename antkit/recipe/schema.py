"""The recipe: one run, from data to report, as typed settings (pydantic).

Component fields (encoders, adaptors, fusion, backbone, strategies, data source) accept any registered
component of their kind, chosen by ``name``: ``recipe_model(registry)`` builds the classes after plugins load,
so a plugin's component validates exactly like a built-in.
"""

from __future__ import annotations

from typing import Annotated, Literal, Optional

from pydantic import AfterValidator, BaseModel, Field, model_validator

from antkit.components.base import MAX_BATCH, MAX_DIM
from antkit.errors import AntkitError
from antkit.hub_reference import PREFIX, parse_reference
from antkit.plugins.registry import Registry
from antkit.settings import Settings
from antkit.training.distributed import DeviceSetting

MODALITIES = ("text", "image", "price")

MAX_LENGTH = 65_536  # items in an input sequence (the other bounds: antkit/components/base.py)
MAX_COUNT = 1_000_000  # epochs, patience, the k-core threshold, cut-offs
MAX_SEED = 2**63 - 1  # torch's seeds are 64-bit


def _unique(values):
    """``values``, refused if an entry is given twice."""
    for index, value in enumerate(values):
        if value in values[:index]:
            raise ValueError(f"{value!r} is given twice; list each once")
    return values


Unique = AfterValidator(_unique)


def _hub_reference(value: str | None) -> str | None:
    """``value`` itself; an ``hf://`` reference must be hf://ORG/NAME or hf://ORG/NAME@REVISION."""
    if value and value.startswith(PREFIX):
        try:
            parse_reference(value)
        except AntkitError as error:
            raise ValueError(str(error)) from None
    return value


class Strict(Settings):
    """A recipe section (``added_later``: antkit/settings.py)."""


class TrainingRecipe(Strict):
    """Optimisation of one training stage (Adam, exponential learning-rate decay, early stopping)."""

    added_later = ("clip_grad_norm",)
    epochs: int = Field(100, ge=1, le=MAX_COUNT, description="maximum epochs")
    batch_size: int = Field(2048, ge=1, le=MAX_BATCH, description="training prefixes (target positions) per step")
    learning_rate: float = Field(1e-3, gt=0)
    lr_decay: float = Field(0.99, gt=0, le=1, description="learning rate x this after every epoch")
    weight_decay: float = Field(0.0, ge=0)
    patience: int = Field(10, ge=1, le=MAX_COUNT,
                          description="stop after this many epochs without a better validation score")
    clip_grad_norm: Optional[float] = Field(None, gt=0, description="clip the gradients' total norm to this "
                                            "before each step (none: no clipping, as the reference)")


class PretrainRecipe(TrainingRecipe):
    epochs: int = Field(300, ge=1, le=MAX_COUNT)
    lr_decay: float = Field(0.995, gt=0, le=1)
    image_text_weight: float = Field(0.001, ge=0, description="weight of the image-text matching loss")


class EvaluationRecipe(Strict):
    ks: Annotated[tuple[Annotated[int, Field(ge=1, le=MAX_COUNT)], ...], Unique] = Field(
        (10, 50), description="cut-offs of Recall@K and NDCG@K"
    )
    exclude_history: bool = Field(True, description="never rank the items of the user's input window")
    select_by: Literal["recall@10", "ndcg@10", "recall@50", "ndcg@50"] = Field(
        "ndcg@10", description="validation metric for early stopping and model selection"
    )
    batch_size: int = Field(1024, ge=1, le=MAX_BATCH, description="users per evaluation batch")


def _component_models(registry: Registry):
    """Recipe classes whose component fields are unions over ``registry``'s components."""

    def modality(name: str):
        return type(
            f"{name.capitalize()}Modality",
            (Strict,),
            {
                "__annotations__": {
                    "encoder": registry.config_type("encoder", modality=name),
                    "adaptor": registry.config_type("adaptor"),
                },
                "__doc__": f"How {name} features are computed (encoder) and mapped to the model (adaptor).",
            },
        )

    Text, Image, Price = (modality(m) for m in MODALITIES)

    class Modalities(Strict):
        """The item content the model uses; leave a modality out to drop it."""

        text: Optional[Text] = None
        image: Optional[Image] = None
        price: Optional[Price] = None

        def configured(self) -> list[str]:
            return [m for m in MODALITIES if getattr(self, m) is not None]

        @model_validator(mode="after")
        def _not_empty(self):
            if not self.configured():
                raise ValueError("give at least one of text, image, price")
            return self

    class ModelRecipe(Strict):
        dim: int = Field(256, ge=2, le=MAX_DIM, description="size of item vectors and user states")
        max_length: int = Field(50, ge=1, le=MAX_LENGTH,
                                description="input sequences keep their last max_length items")
        temperature: float = Field(0.07, gt=0, description="scores are cosine similarity / temperature")
        modalities: Modalities
        fusion: registry.config_type("fusion")  # type: ignore[valid-type]
        backbone: registry.config_type("backbone")  # type: ignore[valid-type]

    class DataRecipe(Strict):
        source: registry.config_type("data_source")  # type: ignore[valid-type]
        auxiliary: Annotated[list[str], Unique] = Field(default_factory=list, description="domains to pre-train on")
        targets: Annotated[list[str], Unique] = Field(min_length=1, description="domains to adapt to and evaluate on")
        min_interactions: int = Field(5, ge=1, le=MAX_COUNT, description="k of the iterative k-core filter")

    class ArmRecipe(Strict):
        """One way of training a target model, compared against the others in the report."""

        label: str = Field(min_length=1, description="name of the arm in the report")
        strategy: registry.config_type("strategy")  # type: ignore[valid-type]
        items: Literal["content", "ids", "content+ids"] = Field(
            "content",
            description="content: inductive (features only); ids: ID-only SASRec; content+ids: transductive",
        )
        modalities: Optional[Annotated[list[Literal["text", "image", "price"]], Unique]] = Field(
            None, min_length=1,
            description="use only these of the model's modalities (e.g. [text]: a UniSRec-style arm); "
                        "pre-training then uses them too; default: all",
        )

        def modality_set(self, configured: list[str]) -> list[str]:
            """The modalities this arm's model uses, in the recipe's order."""
            return [m for m in configured if self.modalities is None or m in self.modalities]

    class Recipe(Strict):
        """A complete antkit run: data, model, pre-training, adaptation, evaluation, and the arms to compare."""

        data: DataRecipe
        model: ModelRecipe
        pretrain: PretrainRecipe = PretrainRecipe()
        adapt: TrainingRecipe = TrainingRecipe()
        evaluation: EvaluationRecipe = EvaluationRecipe()
        arms: list[ArmRecipe] = Field(min_length=1)
        pretrained: Annotated[Optional[str], AfterValidator(_hub_reference)] = Field(
            None, description="start the transferring arms from this checkpoint instead of pre-training: a local "
                              "folder (a checkpoint, or a run folder with pretrain/) or hf://ORG/NAME[@REVISION]")
        seed: int = Field(0, ge=0, le=MAX_SEED, description="seeds data order, initialisation and dropout")
        checkpoint_minutes: float = Field(
            10.0, ge=0, description="besides the checkpoint after every epoch, save one within an epoch after this "
                                    "many minutes of training, so that an interrupted run loses less (0: every step)")
        device: DeviceSetting = Field("auto", description="'auto' (CUDA when present), 'cpu', 'cuda', 'cuda:1', ...")

    return Recipe


def recipe_model(registry: Registry) -> type[BaseModel]:
    """The ``Recipe`` class for the components in ``registry`` (built once per registry)."""
    if "recipe" not in registry.derived:
        registry.derived["recipe"] = _component_models(registry)
    return registry.derived["recipe"]
