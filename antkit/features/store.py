"""The feature store: encoder outputs saved as safetensors, keyed by the encoder and each item's content,
so that a re-run computes only items that are new or changed."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

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
    """Vectors of one encoder (with its settings) for every item content it has seen.

    New contents are encoded in chunks of ``chunk`` items and the store is saved after each, so an
    interrupted extraction keeps what it finished and the next run computes only the rest.
    """

    def __init__(self, root: Path, encoder: Encoder, context: str = "", chunk: int = 4096):
        key = hashlib.sha256((encoder.cache_key() + context).encode()).hexdigest()[:16]
        self.path = Path(root) / f"{encoder.name}-{key}.safetensors"
        self.encoder = encoder
        self.chunk = chunk
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

    def features(self, values: list, progress: Callable[[int, int], None] | None = None):
        """Vectors (N, dim) and presence (N,) for ``values``, computing only unseen contents;
        ``progress(done, to_compute)`` is called after each chunk."""
        keys = [content_key(v) for v in values]
        index, vectors, present = self._load()
        missing = list(dict.fromkeys(k for k in keys if k not in index))
        first = {k: i for i, k in reversed(list(enumerate(keys)))}
        self.computed = 0
        for start in range(0, len(missing), self.chunk):
            part = missing[start : start + self.chunk]
            new_vectors, new_present = self.encoder.encode([values[first[k]] for k in part])
            new_vectors, new_present = new_vectors.float(), new_present.bool()
            if vectors is not None and vectors.shape[1] != new_vectors.shape[1]:
                self.path.unlink()  # the encoder's output changed shape: start this store afresh
                return self.features(values, progress)
            if vectors is None:
                vectors, present = new_vectors[:0], new_present[:0]
            index.update({k: len(index) + i for i, k in enumerate(part)})
            vectors, present = torch.cat([vectors, new_vectors]), torch.cat([present, new_present])
            atomic_save({"vectors": vectors, "present": present}, self.path, {"keys": json.dumps(list(index))})
            self.computed += len(part)
            if progress is not None:
                progress(self.computed, len(missing))
        rows = torch.tensor([index[k] for k in keys], dtype=torch.long)
        return vectors[rows], present[rows]


@dataclass
class StoredFeatures:
    """One store file, as ``antkit features info`` lists it."""

    path: Path
    encoder: str
    items: int
    dim: int


def stored_features(folder: Path) -> list[StoredFeatures]:
    """The readable store files in ``folder`` (damaged ones are skipped: they are rebuilt when used)."""
    found = []
    for path in sorted(Path(folder).glob("*.safetensors")):
        try:
            with safe_open(str(path), "pt") as handle:
                rows, dim = handle.get_slice("vectors").get_shape()
        except Exception:  # noqa: BLE001 - damaged: not listed
            continue
        found.append(StoredFeatures(path, path.stem.rsplit("-", 1)[0], rows, dim))
    return found
