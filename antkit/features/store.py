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

from antkit.components.base import Encoder
from antkit.io import atomic_save


def content_key(value, files: bool = False) -> str:
    """A digest of one item's raw content of one modality. With ``files`` (image references), a reference to
    a local file also covers the file's size and modification time, so a file replaced under the same name is
    encoded again."""
    digest = hashlib.sha1()
    if isinstance(value, (list, tuple)) and value and isinstance(value[0], float):  # a precomputed vector
        digest.update(np.asarray(value, dtype=np.float32).tobytes())
    elif isinstance(value, (list, tuple)):
        for part in value:
            digest.update(content_key(part, files).encode())
    elif isinstance(value, dict):  # an image cell: {"bytes", "path"}
        digest.update(value.get("bytes") or content_key(value.get("path"), files).encode())
    elif isinstance(value, (bytes, bytearray)):
        digest.update(value)
    else:
        digest.update(repr(value).encode())
        if files and isinstance(value, (str, Path)):
            digest.update(_file_stamp(value).encode())
    return digest.hexdigest()


def item_keys(values: list, encoder: Encoder) -> list[str]:
    """The content key of each item's value for ``encoder`` (image references also cover their files)."""
    return [content_key(value, files=encoder.modality == "image") for value in values]


def _file_stamp(reference: str | Path) -> str:
    """Size and modification time of the local file ``reference`` names ("" for URLs and missing files)."""
    if str(reference).startswith(("http://", "https://")):
        return ""
    try:
        stat = Path(reference).stat()
    except (OSError, ValueError):
        return ""
    return f"{stat.st_size}:{stat.st_mtime_ns}"


class FeatureStore:
    """Vectors of one encoder (with its settings) for every item content it has seen.

    The store is a folder of shard files. New contents are encoded in chunks of ``chunk`` items and each
    chunk is written (atomically) as a shard of its own, so an interrupted extraction keeps what it
    finished, the next run computes only the rest, and adding items never rewrites what is stored. Past
    ``max_shards`` shards the store is merged into one.
    """

    def __init__(self, root: Path, encoder: Encoder, context: str = "", chunk: int = 4096, max_shards: int = 64):
        key = hashlib.sha256((encoder.cache_key() + context).encode()).hexdigest()[:16]
        self.path = Path(root) / f"{encoder.name}-{key}"
        self.encoder = encoder
        self.chunk = chunk
        self.max_shards = max_shards
        self.computed = 0  # items encoded by the last ``features`` call

    def shards(self) -> list[Path]:
        return shard_files(self.path)

    def _load(self) -> tuple[dict[str, int], torch.Tensor | None, torch.Tensor | None]:
        """The stored index and tensors. A damaged shard is deleted, so its items are computed again; a
        shard whose vector size differs from the first's (the encoder's output changed) empties the store."""
        index: dict[str, int] = {}
        vectors: list[torch.Tensor] = []
        present: list[torch.Tensor] = []
        rows = 0
        for shard in self.shards():
            part = read_shard(shard)
            if part is None:
                shard.unlink(missing_ok=True)  # (or another process merged it away meanwhile)
                continue
            keys, shard_vectors, shard_present = part
            if vectors and shard_vectors.shape[1] != vectors[0].shape[1]:
                self._clear()
                return {}, None, None
            for offset, key in enumerate(keys):
                index.setdefault(key, rows + offset)
            rows += len(keys)
            vectors.append(shard_vectors)
            present.append(shard_present)
        if not vectors:
            return {}, None, None
        return index, torch.cat(vectors), torch.cat(present)

    def _clear(self) -> None:
        for shard in self.shards():
            shard.unlink(missing_ok=True)

    def _write_shard(self, keys: list[str], vectors: torch.Tensor, present: torch.Tensor) -> None:
        existing = self.shards()
        number = int(existing[-1].stem) + 1 if existing else 0
        atomic_save({"vectors": vectors, "present": present}, self.path / f"{number:06d}.safetensors",
                    {"keys": json.dumps(keys)})

    def _merge(self, index: dict[str, int], vectors: torch.Tensor, present: torch.Tensor) -> None:
        """Rewrite the store as one shard (written before the old ones are removed)."""
        old = self.shards()
        rows = torch.tensor(list(index.values()), dtype=torch.long)
        self._write_shard(list(index), vectors[rows], present[rows])
        for shard in old:
            shard.unlink(missing_ok=True)

    def features(self, values: list, progress: Callable[[int, int], None] | None = None):
        """Vectors (N, dim) and presence (N,) for ``values``, computing only unseen contents;
        ``progress(done, to_compute)`` is called after each chunk."""
        keys = item_keys(values, self.encoder)
        index, vectors, present = self._load()
        missing = list(dict.fromkeys(k for k in keys if k not in index))
        first = {k: i for i, k in reversed(list(enumerate(keys)))}
        self.computed = 0
        if missing and not self.encoder.per_item:  # each vector depends on all values: encode them in one call
            all_vectors, all_present = self.encoder.encode(values)
            rows = [first[k] for k in missing]
            vectors, present = all_vectors[rows].float(), all_present[rows].bool()
            self._clear()
            self._write_shard(missing, vectors, present)
            index = {k: i for i, k in enumerate(missing)}
            self.computed, missing = len(rows), []
            if progress is not None:
                progress(self.computed, self.computed)
        for start in range(0, len(missing), self.chunk):
            part = missing[start : start + self.chunk]
            new_vectors, new_present = self.encoder.encode([values[first[k]] for k in part])
            new_vectors, new_present = new_vectors.float(), new_present.bool()
            if vectors is not None and vectors.shape[1] != new_vectors.shape[1]:
                self._clear()  # the encoder's output changed shape: start this store afresh
                return self.features(values, progress)
            if vectors is None:
                vectors, present = new_vectors[:0], new_present[:0]
            self._write_shard(part, new_vectors, new_present)
            index.update({k: len(vectors) + i for i, k in enumerate(part)})
            vectors, present = torch.cat([vectors, new_vectors]), torch.cat([present, new_present])
            self.computed += len(part)
            if progress is not None:
                progress(self.computed, len(missing))
        if len(self.shards()) > self.max_shards:
            self._merge(index, vectors, present)
        rows = torch.tensor([index[k] for k in keys], dtype=torch.long)
        return vectors[rows], present[rows]


def shard_files(store: Path) -> list[Path]:
    """A store folder's shard files, oldest first (numbered: 000000.safetensors, ...)."""
    return sorted(p for p in Path(store).glob("*.safetensors") if p.stem.isdigit())


def read_shard(path: Path) -> tuple[list[str], torch.Tensor, torch.Tensor] | None:
    """A shard's keys, vectors and presence; None when it is damaged or not one of antkit's."""
    try:
        with safe_open(str(path), "pt") as handle:
            keys = json.loads((handle.metadata() or {})["keys"])
            vectors, present = handle.get_tensor("vectors"), handle.get_tensor("present")
    except Exception:  # any damage: never trust it
        return None
    if not (isinstance(keys, list) and vectors.ndim == 2 and len(keys) == len(vectors) == len(present)):
        return None
    return keys, vectors.float(), present.bool()


@dataclass
class StoredFeatures:
    """One store, as ``antkit features info`` lists it."""

    path: Path
    encoder: str
    items: int
    dim: int
    bytes: int


def stored_features(folder: Path) -> list[StoredFeatures]:
    """The stores in ``folder`` with at least one readable shard (damaged shards are not counted: they are
    recomputed when the store is used)."""
    found = []
    for store in sorted(p for p in Path(folder).glob("*") if p.is_dir()):
        items, dims, size = 0, set(), 0
        for shard in shard_files(store):
            try:
                with safe_open(str(shard), "pt") as handle:
                    rows, dim = handle.get_slice("vectors").get_shape()
            except Exception:  # noqa: BLE001 - damaged: not counted
                continue
            items, size = items + rows, size + shard.stat().st_size
            dims.add(dim)
        if dims:
            found.append(StoredFeatures(store, store.name.rsplit("-", 1)[0], items, max(dims), size))
    return found
