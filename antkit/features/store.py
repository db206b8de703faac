"""The feature store: encoder outputs saved as safetensors, keyed by the encoder and each item's content,
so that a re-run computes only items that are new or changed."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import load_file

from antkit.components.base import Encoder
from antkit.io import atomic_save


def content_key(value) -> str:
    """A digest of one item's raw content of one modality."""
    digest = hashlib.sha1()
    if isinstance(value, (list, tuple)) and value and isinstance(value[0], float):  # a precomputed vector
        digest.update(np.asarray(value, dtype=np.float32).tobytes())
    elif isinstance(value, (list, tuple)):
        for part in value:
            digest.update(content_key(part).encode())
    elif isinstance(value, dict):  # an image cell: {"bytes", "path"}
        digest.update(value.get("bytes") or str(value.get("path")).encode())
    elif isinstance(value, (bytes, bytearray)):
        digest.update(value)
    else:
        digest.update(repr(value).encode())
    return digest.hexdigest()


class FeatureStore:
    """Vectors of one encoder (with its settings) for every item content it has seen."""

    def __init__(self, root: Path, encoder: Encoder, context: str = ""):
        key = hashlib.sha256((encoder.cache_key() + context).encode()).hexdigest()[:16]
        self.path = Path(root) / f"{encoder.name}-{key}.safetensors"
        self.encoder = encoder
        self.computed = 0  # items encoded by the last ``features`` call

    def _load(self) -> tuple[dict[str, int], torch.Tensor | None, torch.Tensor | None]:
        """The stored index and tensors; an unreadable or inconsistent store counts as empty (it is rebuilt)."""
        empty: tuple[dict[str, int], None, None] = ({}, None, None)
        if not self.path.exists():
            return empty
        try:
            tensors = load_file(str(self.path))
            with safe_open(str(self.path), "pt") as handle:
                keys = json.loads((handle.metadata() or {})["keys"])
            vectors, present = tensors["vectors"], tensors["present"]
        except Exception:  # any damage: never trust it
            return empty
        if not (isinstance(keys, list) and vectors.ndim == 2 and len(keys) == len(vectors) == len(present)):
            return empty
        return {k: i for i, k in enumerate(keys)}, vectors.float(), present.bool()

    def features(self, values: list) -> tuple[torch.Tensor, torch.Tensor]:
        """Vectors (N, dim) and presence (N,) for ``values``, computing only unseen contents."""
        keys = [content_key(v) for v in values]
        index, vectors, present = self._load()
        missing = list(dict.fromkeys(k for k in keys if k not in index))
        self.computed = len(missing)
        if missing:
            first = {k: i for i, k in reversed(list(enumerate(keys)))}
            new_vectors, new_present = self.encoder.encode([values[first[k]] for k in missing])
            new_vectors, new_present = new_vectors.float(), new_present.bool()
            if vectors is not None and vectors.shape[1] != new_vectors.shape[1]:
                self.path.unlink()  # the encoder's output changed shape: start this store afresh
                return self.features(values)
            if vectors is None:
                vectors, present = new_vectors[:0], new_present[:0]
            base = len(index)
            index.update({k: base + i for i, k in enumerate(missing)})
            vectors, present = torch.cat([vectors, new_vectors]), torch.cat([present, new_present])
            atomic_save({"vectors": vectors, "present": present}, self.path, {"keys": json.dumps(list(index))})
        rows = torch.tensor([index[k] for k in keys], dtype=torch.long)
        return vectors[rows], present[rows]
