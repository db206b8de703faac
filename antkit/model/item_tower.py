"""The item side of ANT: per-modality adaptors, then fusion. Absent modalities contribute nothing."""

from __future__ import annotations

from collections.abc import Collection

import torch
from torch import nn

from antkit.components.base import Adaptor, Fusion
from antkit.data.catalogue import Catalogue


class ItemTower(nn.Module):
    """Frozen features -> adaptor per modality -> fusion -> item vectors (N, dim)."""

    def __init__(self, adaptors: dict[str, Adaptor], fusion: Fusion):
        super().__init__()
        self.adaptors = nn.ModuleDict(adaptors)
        self.fusion = fusion

    def adapt(self, catalogue: Catalogue) -> dict[str, torch.Tensor]:
        """Adapted vectors per modality (N, dim); rows of items lacking the modality are zero.

        Each adaptor runs only on the rows that have its modality.
        """
        adapted = {}
        for modality, adaptor in self.adaptors.items():
            features, present = catalogue.features[modality], catalogue.present[modality]
            if bool(present.all()):
                adapted[modality] = adaptor(features)
                continue
            rows = present.nonzero().squeeze(1)
            out = features.new_zeros(features.shape[0], adaptor.dim)
            if len(rows):
                out = out.index_copy(0, rows, adaptor(features.index_select(0, rows)))
            adapted[modality] = out
        return adapted

    def forward(self, catalogue: Catalogue) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        adapted = self.adapt(catalogue)
        return self.fusion(adapted, catalogue.present), adapted

    def reset_parameters(self, keep: Collection[str] = ()) -> None:
        """Re-initialise the fusion and every adaptor but those of the modalities in ``keep``."""
        for modality, adaptor in self.adaptors.items():
            if modality not in keep:
                adaptor.reset_parameters()
        self.fusion.reset_parameters()
