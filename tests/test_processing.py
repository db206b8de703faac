"""Data processing: iterative k-core, unknown items, chronological order with file-order ties, numbering."""

from __future__ import annotations

import pytest

from antkit.data.domain import RawDomain
from antkit.data.processing import k_core, process
from antkit.errors import DataError


def test_k_core_is_iterative():
    """k = 2: dropping u4 leaves c with one user (u3), dropping c leaves u3 with one item: only u1, u2 remain."""
    pairs = [("u1", "a"), ("u1", "b"), ("u2", "a"), ("u2", "b"), ("u3", "b"), ("u3", "c"), ("u4", "c")]
    kept = k_core(pairs, 2)
    assert sorted(kept) == [("u1", "a"), ("u1", "b"), ("u2", "a"), ("u2", "b")]
    # a single pass would have kept u3's pairs
    assert ("u3", "b") not in kept


def test_k_core_keeps_a_core_untouched_and_k1_keeps_everything():
    """Already a k-core: nothing removed; k = 1 removes nothing."""
    pairs = [("u1", "a"), ("u1", "b"), ("u2", "a"), ("u2", "b")]
    assert k_core(pairs, 2) == pairs
    more = pairs + [("u3", "c")]
    assert k_core(more, 1) == more
    assert k_core(more, 3) == []


def raw(interactions, items=("A", "B", "C", "D")):
    users, item_ids, times = zip(*interactions)
    return RawDomain(
        "toy",
        {"item_id": list(items), "text": [f"t{i}" for i in items], "price": [float(n) for n in range(len(items))]},
        {"user_id": list(users), "item_id": list(item_ids), "timestamp": list(times)},
    )


def test_process_order_ties_numbering_and_unknown_items():
    """Chronological per user, ties in file order, items numbered from 1 by first appearance; unknowns counted."""
    domain = process(
        raw(
            [
                ("u2", "B", 5),
                ("u1", "C", 3),
                ("u1", "A", 1),
                ("u2", "A", 5),  # same time as u2's B, later in the file
                ("u1", "X", 2),  # unknown item
                ("u1", "B", 3),  # same time as u1's C, later in the file
                ("u2", "Y", 0),  # unknown item
            ]
        ),
        min_interactions=1,
    )
    assert domain.user_ids == ["u1", "u2"]
    # u1: A (t=1), C (t=3, row 1), B (t=3, row 5) -> A=1, C=2, B=3; u2: B (t=5, row 0), A (t=5, row 3)
    assert domain.item_ids == ["A", "C", "B"]
    assert [s.tolist() for s in domain.sequences] == [[1, 2, 3], [3, 1]]
    assert domain.content["text"] == ["tA", "tC", "tB"]
    assert domain.content["price"] == [0.0, 2.0, 1.0]
    assert "item_id" not in domain.content
    assert domain.stats["unknown_item_interactions"] == 2
    assert domain.stats["interactions_before_filter"] == 5
    assert domain.n_items == 3 and domain.n_interactions == 5
    assert min(min(s) for s in domain.sequences) == 1  # 0 is reserved for padding


def test_process_applies_iterative_k_core():
    """With k = 2 the cascade of test_k_core_is_iterative happens inside process too."""
    domain = process(
        raw(
            [
                ("u1", "A", 1), ("u1", "B", 2), ("u2", "B", 1), ("u2", "A", 2),
                ("u3", "B", 1), ("u3", "C", 2), ("u4", "C", 1), ("u4", "Z", 3),
            ]
        ),
        min_interactions=2,
    )
    assert domain.user_ids == ["u1", "u2"]
    assert domain.item_ids == ["A", "B"]
    assert [s.tolist() for s in domain.sequences] == [[1, 2], [2, 1]]
    assert domain.stats["unknown_item_interactions"] == 1
    assert domain.stats["removed_by_k_core"] == 3  # u3's two and u4's one known interaction


def test_process_nothing_left_raises_data_error():
    """No user survives the filter: DataError naming the domain."""
    with pytest.raises(DataError, match="toy"):
        process(raw([("u1", "A", 1), ("u2", "B", 1)]), min_interactions=2)
