"""Base classes of the pluggable component kinds.

A component is a class with a ``name`` (what a recipe writes), a pydantic ``Config`` (its settings) and a
short ``description``. Plugins hand these classes to the ``register`` callback of the hook of their kind.
"""

from __future__ import annotations

from typing import Any, ClassVar, Iterable

import torch
from torch import nn

from antkit.settings import Settings

# Upper bounds of size-like settings, far beyond any real run: a larger number is an error at its field, where
# it would otherwise overflow the 64-bit sizes torch and numpy work with.
MAX_DIM = 65_536  # vector sizes: the model dim, encoder outputs, attention heads
MAX_BATCH = 10_000_000  # items, users, images or prefixes per batch


class ComponentConfig(Settings):
    """Settings of one component. Unknown fields are an error, so a typo in a recipe is caught.

    ``added_later`` names settings added after the component's first release: they are left out of dumps
    while at their default, so that checkpoints and run folders written before they existed still match
    the recipes that now dump them (checkpoint checks, resume and reuse fingerprints).
    """

    def changed_settings(self) -> dict:
        """The settings (JSON values) that differ from the component's defaults; ``name`` (which a recipe's
        config carries) is not a setting."""
        named = {"name": self.name} if "name" in type(self).model_fields else {}
        defaults = type(self).model_validate(named).model_dump(mode="json")
        return {k: v for k, v in self.model_dump(mode="json").items() if k != "name" and v != defaults.get(k)}


class Component:
    """What every component kind shares: a registered name, a config model, a description."""

    kind: ClassVar[str] = ""
    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    Config: ClassVar[type[ComponentConfig]] = ComponentConfig


class Encoder(Component):
    """Turns raw item content of one modality into frozen feature vectors.

    ``encode`` receives one value per item (``None`` or an empty list where the item lacks the modality)
    and returns ``(features (N, dim) float32, present (N,) bool)``; absent rows must be all zero.
    """

    kind: ClassVar[str] = "encoder"
    modality: ClassVar[str] = ""  # "text", "image" or "price"
    content_column: ClassVar[str] = ""  # the item column it reads; "" = the modality's usual one
    per_item: ClassVar[bool] = True  # False when an item's vector depends on the other items too

    def __init__(self, config: ComponentConfig):
        self.config = config

    def encode(self, values: list[Any]) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError

    def cache_key(self) -> str:
        """Identifies the vectors this encoder produces: its name and settings."""
        return f"{self.name}:{self.config.model_dump_json()}"


class Adaptor(Component, nn.Module):
    """Maps frozen features of one modality (N, in_dim) into the recommendation space (N, dim)."""

    kind: ClassVar[str] = "adaptor"

    def __init__(self, config: ComponentConfig, in_dim: int, dim: int):
        nn.Module.__init__(self)
        self.config = config
        self.in_dim = in_dim
        self.dim = dim

    def reset_parameters(self) -> None:
        raise NotImplementedError


class Fusion(Component, nn.Module):
    """Combines the adapted vectors of each modality, ``{modality: (N, dim)}``, into item vectors (N, dim).

    An absent modality arrives as a zero row, and ``present`` says which rows are real.
    """

    kind: ClassVar[str] = "fusion"

    def __init__(self, config: ComponentConfig, modalities: list[str], dim: int):
        nn.Module.__init__(self)
        self.config = config
        self.modalities = list(modalities)
        self.dim = dim

    def forward(self, vectors: dict[str, torch.Tensor], present: dict[str, torch.Tensor]) -> torch.Tensor:
        raise NotImplementedError

    def reset_parameters(self) -> None:
        """Re-draw trainable parameters, if any (re-learning resets the whole item side)."""
        for module in self.modules():
            if module is not self and hasattr(module, "reset_parameters"):
                module.reset_parameters()


class Backbone(Component, nn.Module):
    """Reads left-aligned item-vector sequences (B, L, dim) and returns the user state after each prefix.

    Output position ``t`` may depend only on inputs ``0..t`` (causal), so one pass scores every prefix.
    """

    kind: ClassVar[str] = "backbone"

    def __init__(self, config: ComponentConfig, dim: int, max_length: int):
        nn.Module.__init__(self)
        self.config = config
        self.dim = dim
        self.max_length = max_length

    def forward(self, items: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def last_states(self, items: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """The state after each whole sequence (B, dim). Override when that can be computed with less work."""
        states = self(items, lengths)
        return states[torch.arange(len(lengths), device=states.device), lengths - 1]

    def sequence_modules(self) -> Iterable[nn.Module]:
        """The layers that model the sequence: what transfer keeps and freezes."""
        raise NotImplementedError

    def position_modules(self) -> Iterable[nn.Module]:
        """Position encodings (learned), if any: re-learning re-initialises them, fine-tuning freezes them."""
        return ()


class Strategy(Component):
    """How a target-domain model starts: what it loads from pre-training, freezes and re-initialises."""

    kind: ClassVar[str] = "strategy"
    uses_pretrained: ClassVar[bool] = True

    def __init__(self, config: ComponentConfig):
        self.config = config

    def prepare(self, model, pretrained: dict[str, torch.Tensor] | None) -> None:
        """Load ``pretrained`` (a state dict, None when ``uses_pretrained`` is False) into ``model`` and set
        which parameters train. ``model`` is an ``antkit.model.recommender.SequentialRecommender``."""
        raise NotImplementedError


class DataSource(Component):
    """Provides raw domains (items with content, and interactions) by name."""

    kind: ClassVar[str] = "data_source"

    def __init__(self, config: ComponentConfig):
        self.config = config

    def load(self, domain: str):
        """Return an ``antkit.data.domain.RawDomain`` for ``domain``; raise ``DataError`` if it cannot."""
        raise NotImplementedError

    def fingerprint(self, domain: str) -> str:
        """A string that changes whenever the raw data of ``domain`` would change (for the cache)."""
        return f"{self.name}:{self.config.model_dump_json()}:{domain}"


KINDS: dict[str, type[Component]] = {
    "encoder": Encoder,
    "adaptor": Adaptor,
    "fusion": Fusion,
    "backbone": Backbone,
    "strategy": Strategy,
    "data_source": DataSource,
}
