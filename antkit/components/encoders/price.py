"""Price encoders. A missing price (None, NaN, negative) is absent: an all-zero row.

- ``sinusoidal_price``: ``[sin(f_i log(1+p)), cos(f_i log(1+p))] / sqrt(dim/2)`` (a unit vector) with
  ``dim/2`` frequencies spaced geometrically between ``min_frequency`` and ``max_frequency``: nearby prices
  get nearby vectors, at every scale from cents to thousands.
- ``quantile_price``: one-hot of the price's quantile bucket among the prices of the domain being encoded
  (so "expensive for this category" looks the same in every domain).
"""

from __future__ import annotations

import math

import torch
from pydantic import Field, model_validator

from antkit.components.base import MAX_DIM, ComponentConfig, Encoder


def prices_and_presence(values) -> tuple[torch.Tensor, torch.Tensor]:
    prices = torch.tensor([float(v) if v is not None else math.nan for v in values], dtype=torch.float64)
    present = torch.isfinite(prices) & (prices >= 0)
    return prices.nan_to_num(0.0).clamp(min=0.0), present


class SinusoidalConfig(ComponentConfig):
    dim: int = Field(64, ge=2, le=MAX_DIM, description="output size (even)")
    min_frequency: float = Field(0.5, gt=0)
    max_frequency: float = Field(50.0, gt=0)

    @model_validator(mode="after")
    def _check(self):
        if self.dim % 2:
            raise ValueError("dim must be even")
        if self.max_frequency < self.min_frequency:
            raise ValueError("max_frequency must be >= min_frequency")
        return self


class SinusoidalPrice(Encoder):
    """Sinusoidal encoding of log(1 + price)."""

    name = "sinusoidal_price"
    modality = "price"
    description = "sin/cos of log(1+price) at geometric frequencies (default 64-d)"
    Config = SinusoidalConfig

    def encode(self, values):
        prices, present = prices_and_presence(values)
        half = self.config.dim // 2
        frequencies = torch.logspace(
            math.log10(self.config.min_frequency), math.log10(self.config.max_frequency), half, dtype=torch.float64
        )
        angles = torch.log1p(prices)[:, None] * frequencies[None, :]
        features = torch.cat([angles.sin(), angles.cos()], dim=1).float() / math.sqrt(half)
        return features * present[:, None], present


class QuantileConfig(ComponentConfig):
    buckets: int = Field(64, ge=2, le=MAX_DIM, description="number of quantile buckets (the output size)")


class QuantilePrice(Encoder):
    """One-hot quantile bucket of the price within the encoded catalogue."""

    name = "quantile_price"
    modality = "price"
    description = "one-hot quantile bucket of the price within its domain"
    Config = QuantileConfig
    per_item = False

    def encode(self, values):
        prices, present = prices_and_presence(values)
        features = torch.zeros(len(values), self.config.buckets)
        if present.any():
            known = prices[present]
            edges = torch.quantile(known, torch.linspace(0, 1, self.config.buckets + 1, dtype=torch.float64)[1:-1])
            buckets = torch.bucketize(prices, edges, right=True)
            features[torch.arange(len(values)), buckets] = 1.0
        return features * present[:, None], present
