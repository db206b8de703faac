"""``transformers_image``: image vectors of any transformers vision model (CLIP, ViT, Swin, DINOv2, ...)."""

from __future__ import annotations

from typing import Literal

import torch
from pydantic import Field

from antkit.components.encoders.image import ImageEncoder, ImageModelConfig
from antkit.errors import AntkitError
from antkit.training.distributed import DeviceSetting, resolve_device


class TransformersImageConfig(ImageModelConfig):
    model: str = Field(description="hub name or local folder of a transformers vision model")
    pooling: Literal["auto", "cls", "mean"] = Field(
        "auto", description="'auto': image_embeds or pooler_output, else mean over tokens; 'cls': first token; "
                            "'mean': mean over tokens (or over the feature map of a CNN)")
    device: DeviceSetting = Field("auto", description="'auto' (CUDA when present), 'cpu', 'cuda', ...")


class TransformersImage(ImageEncoder):
    """A pretrained vision model through ``AutoImageProcessor`` + ``AutoModel``.

    A model with ``get_image_features`` (CLIP, SigLIP, ...) is run through it, so 'auto' pooling gives its
    projected image embedding; other models are run whole.
    """

    name = "transformers_image"
    description = "pretrained transformers vision model (CLIP, ViT, Swin, ...) by hub name or local folder"
    Config = TransformersImageConfig

    def __init__(self, config: TransformersImageConfig):
        super().__init__(config)
        self._processor = None
        self._model = None

    def _load(self):
        if self._model is None:
            from transformers import AutoImageProcessor, AutoModel

            try:
                self._processor = AutoImageProcessor.from_pretrained(self.config.model)
                model = AutoModel.from_pretrained(self.config.model)
                self._model = model.to(resolve_device(self.config.device)).eval()
            except Exception as error:
                raise AntkitError(f"image encoder 'transformers_image': cannot load model '{self.config.model}': "
                                  f"{error}") from None
        return self._processor, self._model

    def embed(self, images):
        processor, model = self._load()
        pixels = processor(images=images, return_tensors="pt")["pixel_values"].to(model.device, model.dtype)
        forward = getattr(model, "get_image_features", model)
        with torch.inference_mode():
            vectors = self._pool(forward(pixel_values=pixels)).float()
        return torch.nn.functional.normalize(vectors, dim=1) if self.config.normalize else vectors

    def _pool(self, output) -> torch.Tensor:
        if isinstance(output, torch.Tensor):  # get_image_features of older transformers releases
            return output
        if self.config.pooling == "auto":
            for pooled in (getattr(output, "image_embeds", None), getattr(output, "pooler_output", None)):
                if pooled is not None:
                    return pooled.flatten(1)
        hidden = output.last_hidden_state
        if hidden.ndim == 4:  # a CNN's feature map (n, channels, height, width)
            if self.config.pooling == "cls":
                raise AntkitError(f"image encoder 'transformers_image': model '{self.config.model}' has no tokens, "
                                  "so no CLS vector: use pooling 'auto' or 'mean'")
            return hidden.flatten(2).mean(2)
        return hidden[:, 0] if self.config.pooling == "cls" else hidden.mean(1)
