"""Gated fusion: each item's vector is a convex combination of the modality vectors it has.

A softmax-gated form of the gated multimodal unit (Arevalo et al., "Gated Multimodal Units for Information
Fusion", ICLR Workshop 2017): modality ``m`` scores ``s_m = (w_m . v_m + b_m) / temperature``, the scores of
the modalities an item has are soft-maxed into gates, and the item vector is ``sum_m gate_m * v_m``. Absent
modalities are masked out before the softmax (gate exactly zero, whatever their row holds); an item with no
modality gets the zero vector. An alternative to ANT's ``sum_product``, which adds the vectors with fixed weights.
"""

from __future__ import annotations

import torch
from antkit.components import ComponentConfig, Fusion
from antkit.model.init import STD
from antkit.plugins import hookimpl
from pydantic import Field
from torch import nn


class GatedConfig(ComponentConfig):
    temperature: float = Field(1.0, gt=0.0, description="softmax temperature of the gates; higher = more even")


class GatedFusion(Fusion):
    """Per-item softmax gates over the present modalities, from one learned linear score per modality."""

    name = "gated"
    description = "softmax gates over each item's present modalities (w_m . v_m + b_m): sum of gate_m * v_m"
    Config = GatedConfig

    def __init__(self, config: GatedConfig, modalities: list[str], dim: int):
        super().__init__(config, modalities, dim)
        self.score_weight = nn.Parameter(torch.empty(len(self.modalities), dim))  # w_m, one row per modality
        self.score_bias = nn.Parameter(torch.empty(len(self.modalities)))  # b_m
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Weights N(0, 0.02) as antkit initialises linear layers, biases zero: the gates start nearly even."""
        nn.init.normal_(self.score_weight, std=STD)
        nn.init.zeros_(self.score_bias)

    def gates(self, vectors: dict[str, torch.Tensor], present: dict[str, torch.Tensor]) -> torch.Tensor:
        """Gate of each modality (N, M), in ``self.modalities`` order; zero where absent, rows summing to one
        (or all zero for an item without any modality)."""
        return self._gates(*self._stack(vectors, present))

    def forward(self, vectors: dict[str, torch.Tensor], present: dict[str, torch.Tensor]) -> torch.Tensor:
        stacked, mask = self._stack(vectors, present)
        return (stacked * self._gates(stacked, mask).unsqueeze(-1)).sum(1)  # (N, D); einsum: N tiny products

    def _stack(self, vectors, present) -> tuple[torch.Tensor, torch.Tensor]:
        """Modality vectors (N, M, D) with absent rows zeroed, and the presence mask (N, M)."""
        mask = torch.stack([present[m] for m in self.modalities], dim=1)
        stacked = torch.stack([vectors[m] for m in self.modalities], dim=1)
        return stacked.masked_fill(~mask[..., None], 0.0), mask

    def _gates(self, stacked: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        scores = ((stacked * self.score_weight).sum(-1) + self.score_bias) / self.config.temperature  # (N, M)
        scores = scores.masked_fill(~mask, torch.finfo(scores.dtype).min)
        return torch.softmax(scores, dim=1) * mask  # an all-absent row is an even softmax, zeroed by the mask


@hookimpl
def register_fusions(register):
    register(GatedFusion)
