"""Adaptation strategies: how a target-domain model starts (Peng et al., arXiv 2309.10195, Section 3).

- ``relearn`` (ANT): keep the pre-trained sequence layers, frozen; re-initialise the position embedding
  and the whole item side (adaptors, fusion), and learn them on the target.
- ``finetune`` (UniSRec-style): keep everything pre-trained; freeze the sequence layers and positions,
  tune the pre-trained item side.
- ``scratch``: no pre-training; the reference point for negative transfer.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from antkit.components.base import ComponentConfig, Strategy
from antkit.model.init import init_weights
from antkit.plugins import hookimpl
from antkit.recipe.schema import MODALITIES, Unique


def _freeze(modules) -> None:
    for module in modules:
        for parameter in module.parameters():
            parameter.requires_grad_(False)


class TransferConfig(ComponentConfig):
    freeze_sequence: bool = Field(True, description="freeze the backbone's pre-trained sequence layers")


class RelearnConfig(TransferConfig):
    added_later = ("keep_adaptors",)
    reset_positions: bool = Field(True, description="re-initialise the position embedding too (as ANT does)")
    keep_adaptors: Annotated[tuple[Literal[MODALITIES], ...], Unique] = Field(
        (), description="modalities whose pre-trained adaptors are kept and tuned instead of re-initialised "
        "(partial re-learning, an ablation; ANT keeps none)")


class Relearn(Strategy):
    """Transfer only the sequence layers; re-learn the item side and positions on the target."""

    name = "relearn"
    description = "ANT re-learning: frozen pre-trained transformer, re-initialised item side and positions"
    Config = RelearnConfig

    def prepare(self, model, pretrained):
        model.load_pretrained(pretrained)
        if self.config.reset_positions:
            for module in model.backbone.position_modules():
                module.apply(init_weights)
        if model.item_tower is not None:
            model.item_tower.reset_parameters(keep=self.config.keep_adaptors)
        if self.config.freeze_sequence:
            _freeze(model.backbone.sequence_modules())


class Finetune(Strategy):
    """Transfer everything; tune the pre-trained item side with the sequence layers and positions frozen."""

    name = "finetune"
    description = "UniSRec-style fine-tuning: all weights pre-trained, transformer and positions frozen"
    Config = TransferConfig

    def prepare(self, model, pretrained):
        model.load_pretrained(pretrained)
        if self.config.freeze_sequence:
            _freeze(model.backbone.sequence_modules())
            _freeze(model.backbone.position_modules())


class Scratch(Strategy):
    """Random initialisation, target data only."""

    name = "scratch"
    description = "train from scratch on the target domain (no transfer)"
    uses_pretrained = False

    def prepare(self, model, pretrained):
        return None


@hookimpl
def register_strategies(register):
    register(Relearn)
    register(Finetune)
    register(Scratch)
