"""Fusion of adapted modality vectors into one item vector.

``sum_product`` is ANT's fusion (Peng et al., arXiv 2309.10195): ``image + text + price + beta * image ⊙ text``.
With ``beta: 0`` it is the plain sum (the "without the product term" ablation).
"""

from __future__ import annotations

import torch
from pydantic import Field

from antkit.components.base import ComponentConfig, Fusion
from antkit.plugins import hookimpl


class SumProductConfig(ComponentConfig):
    beta: float = Field(0.1, description="weight of the elementwise product term")
    product: tuple[str, str] = Field(("image", "text"), description="the two modalities whose product is added")


class SumProduct(Fusion):
    """Sum of the modality vectors plus ``beta`` times the product of two of them."""

    name = "sum_product"
    description = "sum of modality vectors + beta * (image ⊙ text) (ANT)"
    Config = SumProductConfig

    def forward(self, vectors: dict[str, torch.Tensor], present: dict[str, torch.Tensor]) -> torch.Tensor:
        fused = sum(vectors[m] for m in self.modalities)
        first, second = self.config.product
        if self.config.beta and first in vectors and second in vectors:
            fused = fused + self.config.beta * vectors[first] * vectors[second]
        return fused


@hookimpl
def register_fusions(register):
    register(SumProduct)
