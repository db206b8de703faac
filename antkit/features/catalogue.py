"""From a processed domain and the recipe's encoders to a ``Catalogue`` of frozen features."""

from __future__ import annotations

import hashlib
from pathlib import Path

import torch

from antkit.components.base import Encoder
from antkit.data.catalogue import Catalogue
from antkit.data.domain import Domain
from antkit.features.store import FeatureStore, content_key

CONTENT_COLUMNS = {"text": "text", "image": "images", "price": "price"}


def build_catalogue(domain: Domain, encoders: dict[str, Encoder], cache_dir: Path) -> Catalogue:
    """Features of every item of ``domain`` for each modality in ``encoders`` (row 0: padding)."""
    features, present = {}, {}
    for modality, encoder in encoders.items():
        column = encoder.content_column or CONTENT_COLUMNS[modality]
        values = domain.content.get(column) or [None] * domain.n_items
        context = ""
        if not encoder.per_item:  # its vectors depend on the whole catalogue
            context = hashlib.sha256("".join(content_key(v) for v in values).encode()).hexdigest()
        vectors, has = FeatureStore(Path(cache_dir) / "features", encoder, context).features(list(values))
        features[modality] = torch.cat([vectors.new_zeros(1, vectors.shape[1]), vectors])
        present[modality] = torch.cat([torch.zeros(1, dtype=torch.bool), has])
    return Catalogue(features, present)
