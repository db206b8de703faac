"""``timm_image``: pooled features of a timm image model (Swin, as in the ANT paper; ConvNeXt, EVA, ...).

timm needs torchvision. On machines where torchvision cannot be installed beside the torch build (the CPU
build these docs were written on), this encoder cannot run; its tests use a stand-in ``timm`` module.
"""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image
from pydantic import Field

from antkit.components.encoders.image import ImageEncoder, ImageModelConfig
from antkit.errors import AntkitError
from antkit.training.distributed import DeviceSetting, resolve_device

RESAMPLING = {"bicubic": Image.Resampling.BICUBIC, "bilinear": Image.Resampling.BILINEAR,
              "nearest": Image.Resampling.NEAREST}


class TimmImageConfig(ImageModelConfig):
    model: str = Field(description="timm model name (e.g. swin_base_patch4_window7_224), 'hf-hub:ORG/NAME' or "
                                   "'local-dir:/path' (timm's own syntax)")
    pretrained: bool = Field(True, description="load the model's pretrained weights")
    checkpoint: str = Field("", description="a local weights file to load instead (no download)")
    device: DeviceSetting = Field("auto", description="'auto' (CUDA when present), 'cpu', 'cuda', ...")


class TimmImage(ImageEncoder):
    """A timm model without its classifier (``num_classes=0``): its pooled features, preprocessed as the
    model's pretrained config says (resize by ``crop_pct``, centre crop, mean/std)."""

    name = "timm_image"
    description = "pretrained timm image model (Swin, ConvNeXt, ...); needs timm and torchvision"
    Config = TimmImageConfig

    def __init__(self, config: TimmImageConfig):
        super().__init__(config)
        self._model = None

    def _load(self):
        if self._model is None:
            try:
                import timm
            except Exception as error:  # ImportError, or torchvision not matching torch
                raise AntkitError(f"image encoder 'timm_image' needs timm (and torchvision): {error}") from None
            config = self.config
            try:
                model = timm.create_model(config.model, pretrained=config.pretrained and not config.checkpoint,
                                          num_classes=0, checkpoint_path=config.checkpoint)
                self._model = model.to(resolve_device(config.device)).eval()
            except Exception as error:
                raise AntkitError(f"image encoder 'timm_image': cannot load model '{config.model}': {error}") from None
        return self._model

    def preprocess(self, image: Image.Image) -> np.ndarray:
        """(3, H, W) float32: resize the shorter side to H / crop_pct, centre crop, scale to [0, 1], mean/std."""
        settings = self._load().pretrained_cfg
        _, height, width = settings.get("input_size", (3, 224, 224))
        crop_pct = settings.get("crop_pct", 0.875)
        scale = max(height, width) / crop_pct / min(image.size)
        resized = image.resize((max(width, round(image.width * scale)), max(height, round(image.height * scale))),
                               RESAMPLING.get(settings.get("interpolation", "bicubic"), Image.Resampling.BICUBIC))
        left, top = (resized.width - width) // 2, (resized.height - height) // 2
        pixels = np.asarray(resized.crop((left, top, left + width, top + height)), dtype=np.float32) / 255.0
        mean = np.asarray(settings.get("mean", (0.485, 0.456, 0.406)), dtype=np.float32)
        std = np.asarray(settings.get("std", (0.229, 0.224, 0.225)), dtype=np.float32)
        return ((pixels - mean) / std).transpose(2, 0, 1)

    def embed(self, images):
        model = self._load()
        batch = torch.from_numpy(np.stack([self.preprocess(image) for image in images]))
        device = next(model.parameters()).device
        with torch.inference_mode():
            vectors = model(batch.to(device)).flatten(1).float().cpu()
        return torch.nn.functional.normalize(vectors, dim=1) if self.config.normalize else vectors
