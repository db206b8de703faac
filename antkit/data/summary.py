"""What a processed domain holds: sizes, sequence lengths, sparsity, modality coverage, and what processing
removed or skipped (``antkit data info``)."""

from __future__ import annotations

import numpy as np

from antkit.data.domain import Domain


def _has(value) -> bool:
    return value is not None and not (hasattr(value, "__len__") and len(value) == 0)


def coverage(domain: Domain) -> dict[str, float]:
    """Share of items that have each modality (text, price, image: pictures or a precomputed vector)."""
    shares = {}
    for modality, columns in (("text", ("text",)), ("price", ("price",)), ("image", ("images", "image_vector"))):
        present = np.zeros(domain.n_items, dtype=bool)
        for column in columns:
            if column in domain.content:
                present |= np.array([_has(v) for v in domain.content[column]], dtype=bool)
        shares[modality] = float(present.mean()) if domain.n_items else 0.0
    return shares


def domain_summary(domain: Domain) -> dict:
    """The figures ``antkit data info`` prints for one domain."""
    lengths = np.array([len(s) for s in domain.sequences])
    users, items = len(domain.user_ids), domain.n_items
    return {
        "users": users,
        "items": items,
        "interactions": domain.n_interactions,
        "mean_length": float(lengths.mean()),
        "max_length": int(lengths.max()),
        "sparsity": 1.0 - domain.n_interactions / (users * items),
        "coverage": coverage(domain),
        "processing": dict(domain.stats),
    }
