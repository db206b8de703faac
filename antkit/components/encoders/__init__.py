"""Built-in modality encoders (raw content -> frozen feature vectors)."""

from antkit.components.encoders.image import ColorLayout, PrecomputedImage
from antkit.components.encoders.onnx_image import OnnxImage
from antkit.components.encoders.price import QuantilePrice, SinusoidalPrice
from antkit.components.encoders.text import HashedNgrams, SentenceTransformerText, TransformersText
from antkit.components.encoders.timm_image import TimmImage
from antkit.components.encoders.transformers_image import TransformersImage
from antkit.plugins import hookimpl


@hookimpl
def register_encoders(register):
    for encoder in (SentenceTransformerText, TransformersText, HashedNgrams, ColorLayout, TransformersImage,
                    OnnxImage, TimmImage, PrecomputedImage, SinusoidalPrice, QuantilePrice):
        register(encoder)
