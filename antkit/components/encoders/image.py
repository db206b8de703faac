"""Image encoders. ``color_layout``: a classic hand-crafted descriptor (no model needed); ``precomputed``:
vectors that come with the data.

The image is averaged on a ``grid x grid`` layout of mean RGB colours, plus a joint RGB histogram with
``levels`` levels per channel; an item's vector is the mean over its images that load.
"""

from __future__ import annotations

import torch
from pydantic import Field

from antkit.components.base import ComponentConfig, Encoder
from antkit.data.images import open_image
from antkit.errors import DataError


class ColorLayoutConfig(ComponentConfig):
    grid: int = Field(4, ge=1, le=16, description="layout grid size (grid x grid mean colours)")
    levels: int = Field(4, ge=2, le=8, description="histogram levels per RGB channel")
    max_images: int = Field(4, ge=1, description="use at most this many images per item")


class ColorLayout(Encoder):
    """Colour layout + colour histogram of each item's images."""

    name = "color_layout"
    modality = "image"
    description = "colour layout + RGB histogram descriptor (no model needed)"
    Config = ColorLayoutConfig

    def __init__(self, config: ColorLayoutConfig):
        super().__init__(config)
        self.failed_images = 0

    @property
    def dim(self) -> int:
        return 3 * self.config.grid**2 + self.config.levels**3

    def describe(self, image) -> torch.Tensor:
        grid, levels = self.config.grid, self.config.levels
        rgb = torch.tensor(bytearray(image.convert("RGB").resize((32, 32)).tobytes()), dtype=torch.float32)
        rgb = rgb.view(32, 32, 3) / 255.0
        layout = torch.nn.functional.adaptive_avg_pool2d(rgb.permute(2, 0, 1)[None], grid)[0].flatten()
        quantised = (rgb * levels).long().clamp(max=levels - 1).view(-1, 3)
        codes = quantised[:, 0] * levels * levels + quantised[:, 1] * levels + quantised[:, 2]
        histogram = torch.bincount(codes, minlength=levels**3).float() / codes.numel()
        return torch.cat([layout, histogram])

    def encode(self, values):
        features = torch.zeros(len(values), self.dim)
        present = torch.zeros(len(values), dtype=torch.bool)
        for row, references in enumerate(values):
            vectors = []
            for reference in list(references or [])[: self.config.max_images]:
                image = open_image(reference)
                if image is None:
                    self.failed_images += 1
                    continue
                vectors.append(self.describe(image))
            if vectors:
                features[row] = torch.stack(vectors).mean(0)
                present[row] = True
        return features, present


class PrecomputedImageConfig(ComponentConfig):
    dim: int = Field(ge=1, description="length of the vectors (items without one get an absent all-zero row)")


class PrecomputedImage(Encoder):
    """Image vectors computed elsewhere, shipped with the data (e.g. RecBole's ``NAME.image.npy``)."""

    name = "precomputed"
    modality = "image"
    content_column = "image_vector"
    description = "image vectors that come with the data source (no model run)"
    Config = PrecomputedImageConfig

    def encode(self, values):
        features = torch.zeros(len(values), self.config.dim)
        present = torch.zeros(len(values), dtype=torch.bool)
        for row, vector in enumerate(values):
            if vector is None or len(vector) == 0:
                continue
            if len(vector) != self.config.dim:
                raise DataError(f"encoder 'precomputed': the data's image vectors have {len(vector)} values, "
                                f"the recipe says dim {self.config.dim}")
            features[row] = torch.as_tensor(vector, dtype=torch.float32)
            present[row] = True
        return features, present
