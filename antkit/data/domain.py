"""Domains before and after processing."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class RawDomain:
    """What a data source provides: items with content, and interactions, as columns.

    ``items``: ``item_id`` (str) plus any of ``text`` (str or None), ``price`` (float or None),
    ``images`` (list of image references per item), ``image_vector`` (a precomputed image vector or None).
    ``interactions``: ``user_id``, ``item_id``, ``timestamp``. ``skipped`` counts rows a lenient importer
    skipped, by reason.
    """

    name: str
    items: dict[str, list]
    interactions: dict[str, list]
    skipped: dict[str, int] = field(default_factory=dict)


@dataclass
class Domain:
    """A processed domain: items numbered 1..n (0 is padding) and each user's chronological item sequence."""

    name: str
    item_ids: list[str]
    content: dict[str, list]  # per modality ("text", "price", "images"), one value per item, in id order
    user_ids: list[str]
    sequences: list[np.ndarray]  # 1-based item ids, oldest first
    stats: dict[str, int] = field(default_factory=dict)  # what processing removed, for the summary

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    @property
    def n_interactions(self) -> int:
        return int(sum(len(s) for s in self.sequences))
