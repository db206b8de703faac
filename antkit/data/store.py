"""Processed domains cached on disk with ``datasets``, keyed by the source's fingerprint and the settings."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from pathlib import Path

import datasets
import numpy as np

from antkit.components.base import DataSource
from antkit.data.domain import Domain
from antkit.data.processing import process
from antkit.errors import DataError
from antkit.io import writable_folder

FORMAT = 3  # bump when the stored layout or the processing changes
datasets.disable_progress_bars()

CONTENT_FEATURES = {  # the item columns a domain may carry, as stored
    "text": datasets.Value("string"),
    "price": datasets.Value("float64"),
    # image references as stored (encoded bytes, or a path / URL), never opened here: a missing file is the
    # image encoder's to count, not a reason for the data step to fail
    "images": datasets.List({"bytes": datasets.Value("binary"), "path": datasets.Value("string")}),
    "image_vector": datasets.Sequence(datasets.Value("float32")),
}


def cache_key(source: DataSource, domain: str, min_interactions: int) -> str:
    text = json.dumps([FORMAT, source.fingerprint(domain), min_interactions])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def prepared_domain(source: DataSource, domain: str, min_interactions: int, cache_dir: Path) -> Domain:
    """The processed ``domain``, from the cache when its key matches, else loaded, processed and cached."""
    folder = Path(cache_dir) / "domains" / f"{domain}-{cache_key(source, domain, min_interactions)}"
    if (folder / "stats.json").exists():
        return load_domain(folder, domain)
    processed = process(source.load(domain), min_interactions)
    save_domain(processed, folder)
    return processed


def recorded_domain(recipe, registry, domain: str, cache_dir: Path, where: str) -> Domain:
    """``domain`` as the recorded ``recipe`` (stored in ``where``: a model's or a run's) reads it; data that has
    moved since is a clear error saying how to point at it."""
    source = registry.build("data_source", recipe.data.source)
    try:
        return prepared_domain(source, domain, recipe.data.min_interactions, cache_dir)
    except DataError as error:
        raise DataError(f"{error} (the data of {where}; where it has moved, give --set data.source.path=DIR)") from None


def save_domain(domain: Domain, folder: Path) -> None:
    """Write atomically: into a temporary folder, renamed into place once complete. Runs sharing a cache may
    prepare the same domain at once: the first to finish places it, the others keep theirs in memory."""
    writable_folder(folder.parent, "cache folder")
    partial = folder.with_name(f".{folder.name}.{os.getpid()}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    columns = {"item_id": domain.item_ids}
    features = {"item_id": datasets.Value("string")}
    for column, values in domain.content.items():
        if column not in CONTENT_FEATURES:
            raise DataError(f"domain '{domain.name}': unknown item column '{column}'; known: {', '.join(CONTENT_FEATURES)}")
        columns[column] = [[_image_cell(i) for i in v or []] for v in values] if column == "images" else values
        features[column] = CONTENT_FEATURES[column]
    datasets.Dataset.from_dict(columns, features=datasets.Features(features)).save_to_disk(str(partial / "items"))
    datasets.Dataset.from_dict(
        {"user_id": domain.user_ids, "sequence": [s.tolist() for s in domain.sequences]},
        features=datasets.Features({"user_id": datasets.Value("string"), "sequence": datasets.Sequence(datasets.Value("int64"))}),
    ).save_to_disk(str(partial / "users"))
    (partial / "stats.json").write_text(json.dumps(domain.stats))
    if folder.exists() and not (folder / "stats.json").exists():
        shutil.rmtree(folder, ignore_errors=True)  # damaged (a finished copy, maybe another run's, stays)
    try:
        os.replace(partial, folder)
    except OSError:
        if not (folder / "stats.json").exists():
            raise
        shutil.rmtree(partial, ignore_errors=True)  # another run sharing the cache finished the same domain first


def _image_cell(reference) -> dict:
    if isinstance(reference, (bytes, bytearray)):
        return {"bytes": bytes(reference), "path": None}
    if isinstance(reference, dict):
        return reference
    return {"bytes": None, "path": str(reference)}


def load_domain(folder: Path, name: str) -> Domain:
    try:
        items = datasets.load_from_disk(str(folder / "items"))
        users = datasets.load_from_disk(str(folder / "users"))
        stats = json.loads((folder / "stats.json").read_text())
    except Exception as error:
        raise DataError(f"cached domain {folder} is unreadable ({error}); delete that folder to rebuild it") from None
    content = {column: items[column] for column in items.column_names if column != "item_id"}
    sequences = [np.asarray(s, dtype=np.int64) for s in users["sequence"]]
    return Domain(name, items["item_id"], content, users["user_id"], sequences, stats)


def prepare_domains(recipe, registry, domains: list[str], cache_dir: Path):
    """Process (or load from the cache) each of ``domains`` of ``recipe`` (default: all it uses);
    yields (name, domain, seconds)."""
    names = recipe.data.auxiliary + recipe.data.targets
    unknown = [d for d in domains if d not in names]
    if unknown:
        raise DataError(f"the recipe has no domain {', '.join(unknown)}; it has {', '.join(names)}")
    source = registry.build("data_source", recipe.data.source)
    for name in domains or names:
        started = time.perf_counter()
        domain = prepared_domain(source, name, recipe.data.min_interactions, cache_dir)
        yield name, domain, time.perf_counter() - started
