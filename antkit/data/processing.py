"""The field's processing convention (UniSRec, ANT): items with metadata, iterative k-core, chronological
order with a deterministic tie-break, and leave-one-out splits (see ``antkit.data.splits``)."""

from __future__ import annotations

from collections import Counter, defaultdict

import numpy as np

from antkit.data.domain import Domain, RawDomain
from antkit.errors import DataError


def k_core(pairs: list[tuple[str, str]], k: int) -> list[tuple[str, str]]:
    """Repeatedly drop users and items with fewer than ``k`` interactions until none is left."""
    while True:
        users = Counter(u for u, _ in pairs)
        items = Counter(i for _, i in pairs)
        kept = [(u, i) for u, i in pairs if users[u] >= k and items[i] >= k]
        if len(kept) == len(pairs):
            return kept
        pairs = kept


def process(raw: RawDomain, min_interactions: int = 5) -> Domain:
    """Keep interactions with known items, drop exact repeats (same user, item and time), apply the k-core
    filter, order each user's items by time (ties kept in file order), and number items by first appearance
    in that order. ``stats`` of the result counts what each step removed."""
    item_rows = {item_id: row for row, item_id in enumerate(raw.items["item_id"])}
    columns = raw.interactions
    events = []  # (user, timestamp, position in file, item)
    seen = set()
    unknown = duplicates = 0
    for position, (user, item, timestamp) in enumerate(zip(columns["user_id"], columns["item_id"], columns["timestamp"])):
        if item not in item_rows:
            unknown += 1
            continue
        if (user, item, timestamp) in seen:
            duplicates += 1
            continue
        seen.add((user, item, timestamp))
        events.append((user, float(timestamp), position, item))
    kept = set(k_core([(u, i) for u, _, _, i in events], min_interactions))
    by_user: dict[str, list] = defaultdict(list)
    for user, timestamp, position, item in events:
        if (user, item) in kept:
            by_user[user].append((timestamp, position, item))
    if not by_user:
        raise DataError(f"domain '{raw.name}': no user is left after the {min_interactions}-core filter")

    item_index: dict[str, int] = {}
    user_ids, sequences = [], []
    for user in sorted(by_user):
        ordered = [item for _, _, item in sorted(by_user[user])]
        for item in ordered:
            item_index.setdefault(item, len(item_index) + 1)
        user_ids.append(user)
        sequences.append(np.array([item_index[i] for i in ordered], dtype=np.int64))
    item_ids = list(item_index)
    content = {
        column: [raw.items[column][item_rows[i]] for i in item_ids] for column in raw.items if column != "item_id"
    }
    stats = {**raw.skipped, "unknown_item_interactions": unknown, "duplicate_interactions": duplicates,
             "interactions_before_filter": len(events),
             "removed_by_k_core": len(events) - sum(len(s) for s in sequences)}
    return Domain(raw.name, item_ids, content, user_ids, sequences, stats)
