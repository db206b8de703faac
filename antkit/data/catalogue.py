"""The item side of a domain as tensors: frozen features per modality, and which items have each."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class Catalogue:
    """Features ``{modality: (n_items + 1, dim)}`` and presence ``{modality: (n_items + 1,) bool}``.

    Row 0 is the padding item: all zero and absent in every modality, so it can never be a candidate.
    """

    features: dict[str, torch.Tensor]
    present: dict[str, torch.Tensor]

    @property
    def n_items(self) -> int:
        return next(iter(self.present.values())).shape[0] - 1 if self.present else 0

    @property
    def dims(self) -> dict[str, int]:
        return {m: f.shape[1] for m, f in self.features.items()}

    def to(self, device: torch.device | str) -> "Catalogue":
        return Catalogue(
            {m: f.to(device) for m, f in self.features.items()}, {m: p.to(device) for m, p in self.present.items()}
        )

    def select(self, modalities: list[str]) -> "Catalogue":
        return Catalogue({m: self.features[m] for m in modalities}, {m: self.present[m] for m in modalities})

    def rows(self, ids: torch.Tensor) -> "Catalogue":
        """The catalogue restricted to item ``ids`` (in that order; no padding row added)."""
        return Catalogue({m: f[ids] for m, f in self.features.items()}, {m: p[ids] for m, p in self.present.items()})

    @staticmethod
    def concat(catalogues: list["Catalogue"]) -> tuple["Catalogue", list[int]]:
        """One catalogue holding several domains' items; returns it and each domain's id offset.

        Item ``i`` (1-based) of domain ``d`` becomes item ``offsets[d] + i``.
        """
        modalities = list(catalogues[0].features)
        offsets, total = [], 0
        for catalogue in catalogues:
            if list(catalogue.features) != modalities:
                raise ValueError("catalogues must have the same modalities")
            offsets.append(total)
            total += catalogue.n_items
        features = {
            m: torch.cat([catalogues[0].features[m][:1]] + [c.features[m][1:] for c in catalogues]) for m in modalities
        }
        present = {m: torch.cat([catalogues[0].present[m][:1]] + [c.present[m][1:] for c in catalogues]) for m in modalities}
        return Catalogue(features, present), offsets
