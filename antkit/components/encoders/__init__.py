"""Built-in modality encoders (raw content -> frozen feature vectors)."""

from antkit.components.encoders.image import ColorLayout, PrecomputedImage
from antkit.components.encoders.price import QuantilePrice, SinusoidalPrice
from antkit.components.encoders.text import HashedNgrams, SentenceTransformerText
from antkit.plugins import hookimpl


@hookimpl
def register_encoders(register):
    for encoder in (SentenceTransformerText, HashedNgrams, ColorLayout, PrecomputedImage, SinusoidalPrice, QuantilePrice):
        register(encoder)
