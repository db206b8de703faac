"""From a processed domain and the recipe's encoders to a ``Catalogue`` of frozen features."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from antkit.components.base import Encoder
from antkit.data.catalogue import Catalogue
from antkit.data.domain import Domain
from antkit.features.store import FeatureStore, item_keys
from antkit.progress import Reporter

CONTENT_COLUMNS = {"text": "text", "image": "images", "price": "price"}


@dataclass
class FeatureStep:
    """What computing one modality's features of one domain did."""

    domain: str
    modality: str
    encoder: str
    items: int
    computed: int  # items encoded now; the others came from the store
    present: int  # items that have the modality
    failed_images: int  # images that could not be opened (image encoders)
    seconds: float
    failed_examples: tuple[str, ...] = ()  # some of those images' references


def build_catalogue(domain: Domain, encoders: dict[str, Encoder], cache_dir: Path,
                    reporter: Reporter | None = None) -> tuple[Catalogue, list[FeatureStep]]:
    """Features of every item of ``domain`` for each modality in ``encoders`` (row 0: padding), and a
    record of each modality's step."""
    reporter = reporter or Reporter()
    features, present, steps = {}, {}, []
    for modality, encoder in encoders.items():
        column = encoder.content_column or CONTENT_COLUMNS[modality]
        values = list(domain.content.get(column) or [None] * domain.n_items)
        context = ""
        if not encoder.per_item:  # its vectors depend on the whole catalogue
            context = hashlib.sha256("".join(item_keys(values, encoder)).encode()).hexdigest()
        store = FeatureStore(Path(cache_dir) / "features", encoder, context)
        label = f"features {domain.name}/{modality}"
        failed_before, examples_before = getattr(encoder, "failed_images", 0), len(getattr(encoder, "failed_examples", []))
        started = time.perf_counter()
        vectors, has = store.features(values, lambda done, total: reporter.items_done(label, done, total))
        steps.append(FeatureStep(domain.name, modality, encoder.name, len(values), store.computed, int(has.sum()),
                                 getattr(encoder, "failed_images", 0) - failed_before, time.perf_counter() - started,
                                 tuple(getattr(encoder, "failed_examples", [])[examples_before:])))
        features[modality] = torch.cat([vectors.new_zeros(1, vectors.shape[1]), vectors])
        present[modality] = torch.cat([torch.zeros(1, dtype=torch.bool), has])
    return Catalogue(features, present), steps


def feature_line(step: FeatureStep) -> str:
    """One line for the log: how many items were encoded, how fast, and what failed."""
    rate = step.computed / step.seconds if step.seconds > 0 else float("inf")
    line = (f"features {step.domain}/{step.modality} ({step.encoder}): {step.computed:,} of {step.items:,} items "
            f"computed in {step.seconds:.1f} s ({rate:,.0f} items/s), {step.present:,} have {step.modality}")
    if step.failed_images:
        line += f", {step.failed_images:,} images could not be opened"
        if step.failed_examples:
            line += f" (e.g. {', '.join(step.failed_examples)})"
    return line
