"""Image encoders. ``ImageEncoder``: what every image encoder shares (opening, batching, averaging);
``color_layout``: a classic hand-crafted descriptor (no model needed); ``precomputed``: vectors that come
with the data.

The colour layout is the image averaged on a ``grid x grid`` layout of mean RGB colours, plus a joint RGB
histogram with ``levels`` levels per channel.
"""

from __future__ import annotations

from functools import cached_property

import torch
from PIL import Image
from pydantic import Field

from antkit.components.base import MAX_BATCH, MAX_DIM, ComponentConfig, Encoder
from antkit.data.images import open_image
from antkit.errors import DataError


class ImageModelConfig(ComponentConfig):
    """Settings every model-based image encoder shares."""

    max_images: int = Field(4, ge=1, le=1_024, description="use at most this many images per item")
    batch_size: int = Field(32, ge=1, le=MAX_BATCH, description="images per model call (across items)")
    normalize: bool = Field(True, description="L2-normalise each image's vector (before averaging over images)")


FAILED_EXAMPLES = 3  # references of images that could not be opened, kept to name in the summary


def describe_reference(reference) -> str:
    """A short name for an image reference: its path or URL, or the size of its bytes."""
    if isinstance(reference, dict):
        reference = reference.get("path") or reference.get("bytes")
    if isinstance(reference, (bytes, bytearray)):
        return f"<{len(reference):,} bytes>"
    return str(reference)


class ImageEncoder(Encoder):
    """An encoder of item images: each item's vector is the mean over its images that load.

    Up to ``config.max_images`` references per item are opened (bytes, paths, ``datasets`` dicts, URLs);
    the loaded images of a call go to ``embed`` in batches of ``batch_size``, across items. An item with no
    image that loads is absent (zero row); images that fail to load are counted in ``failed_images``.
    Subclasses implement ``embed`` and, when it is known without running the model, ``dim``.
    """

    modality = "image"

    def __init__(self, config: ComponentConfig):
        super().__init__(config)
        self.failed_images = 0  # running total over all calls
        self.failed_examples: list[str] = []  # the first few references that failed, to show the user

    @property
    def batch_size(self) -> int:
        return self.config.batch_size

    @cached_property
    def dim(self) -> int:
        """Length of the vectors: by default found by embedding one blank image."""
        return self.embed([Image.new("RGB", (32, 32))]).shape[1]

    def embed(self, images: list[Image.Image]) -> torch.Tensor:
        """Vectors (n, dim) of ``n`` RGB images."""
        raise NotImplementedError

    def encode(self, values):
        vectors: list[list[torch.Tensor]] = [[] for _ in values]
        pending: list[tuple[int, Image.Image]] = []
        for row, references in enumerate(values):
            for reference in list(references or [])[: self.config.max_images]:
                image = open_image(reference)
                if image is None:
                    self.failed_images += 1
                    if len(self.failed_examples) < FAILED_EXAMPLES:
                        self.failed_examples.append(describe_reference(reference))
                    continue
                pending.append((row, image.convert("RGB")))
                if len(pending) == self.batch_size:
                    self._embed_into(vectors, pending)
                    pending = []
        self._embed_into(vectors, pending)
        features = torch.zeros(len(values), self.dim)
        present = torch.tensor([bool(item) for item in vectors], dtype=torch.bool)
        for row, item in enumerate(vectors):
            if item:
                features[row] = torch.stack(item).mean(0)
        return features, present

    def _embed_into(self, vectors: list[list[torch.Tensor]], pending: list[tuple[int, Image.Image]]) -> None:
        if pending:
            embedded = self.embed([image for _, image in pending]).float().cpu()
            for (row, _), vector in zip(pending, embedded):
                vectors[row].append(vector)


class ColorLayoutConfig(ComponentConfig):
    grid: int = Field(4, ge=1, le=16, description="layout grid size (grid x grid mean colours)")
    levels: int = Field(4, ge=2, le=8, description="histogram levels per RGB channel")
    max_images: int = Field(4, ge=1, le=1_024, description="use at most this many images per item")


class ColorLayout(ImageEncoder):
    """Colour layout + colour histogram of each item's images."""

    name = "color_layout"
    description = "colour layout + RGB histogram descriptor (no model needed)"
    Config = ColorLayoutConfig
    batch_size = 256  # no model: batching only bounds how many decoded images wait at once

    @property
    def dim(self) -> int:
        return 3 * self.config.grid**2 + self.config.levels**3

    def embed(self, images):
        return torch.stack([self.describe(image) for image in images])

    def describe(self, image: Image.Image) -> torch.Tensor:
        grid, levels = self.config.grid, self.config.levels
        rgb = torch.tensor(bytearray(image.resize((32, 32)).tobytes()), dtype=torch.float32)
        rgb = rgb.view(32, 32, 3) / 255.0
        layout = torch.nn.functional.adaptive_avg_pool2d(rgb.permute(2, 0, 1)[None], grid)[0].flatten()
        quantised = (rgb * levels).long().clamp(max=levels - 1).view(-1, 3)
        codes = quantised[:, 0] * levels * levels + quantised[:, 1] * levels + quantised[:, 2]
        histogram = torch.bincount(codes, minlength=levels**3).float() / codes.numel()
        return torch.cat([layout, histogram])


class PrecomputedImageConfig(ComponentConfig):
    dim: int = Field(ge=1, le=MAX_DIM, description="length of the vectors (items without one get an absent all-zero row)")


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
                raise DataError(f"encoder 'precomputed': the data's image vectors (e.g. RecBole's DOMAIN.image.npy) "
                                f"have {len(vector)} values, but model.modalities.image.encoder.dim is "
                                f"{self.config.dim}; set it to {len(vector)}")
            features[row] = torch.as_tensor(vector, dtype=torch.float32)
            present[row] = True
        return features, present
