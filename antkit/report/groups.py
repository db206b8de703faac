"""Test users in groups, to see where two arms differ: by how often each user's held-out item occurs in the
target's training data (rare items against popular ones, where a pre-trained item side should matter most), or
by how long each user's input is (short histories against long ones)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from antkit.data.splits import evaluation_set
from antkit.report.analysis import paired_comparison

# grouping -> what its values count, for table titles
GROUPINGS = {"item-popularity": "the held-out item's interactions in the training data",
             "history-length": "the user's input items"}


@dataclass(frozen=True)
class UserGroup:
    low: int  # the smallest value of the grouping in the group
    high: int  # the largest
    rows: np.ndarray  # the group's test users, as positions in the test set (``evaluation_set`` order)


def grouping_values(sequences: list[np.ndarray], by: str, max_length: int) -> np.ndarray:
    """One value per test user (``evaluation_set``'s test cases, in order): for ``item-popularity`` how often the
    held-out item occurs in the training part of all sequences (every item but the last two), for
    ``history-length`` the number of input items (at most ``max_length``)."""
    cases = evaluation_set(sequences, "test", max_length)
    if by == "item-popularity":
        training = np.concatenate([s[:-2] for s in sequences]) if sequences else np.zeros(0, dtype=np.int64)
        counts = np.bincount(training, minlength=max((int(s.max()) for s in sequences), default=0) + 1)
        return counts[cases.targets.numpy()]
    if by == "history-length":
        return cases.lengths.numpy()
    raise ValueError(f"unknown grouping '{by}' (known: {', '.join(GROUPINGS)})")


def user_groups(values: np.ndarray, groups: int) -> list[UserGroup]:
    """The users split at the values' quantiles into at most ``groups`` groups of about equal size; users with
    equal values stay together, so heavy ties give fewer groups."""
    if len(values) == 0:
        return []
    cuts = np.unique(np.quantile(values, np.arange(1, groups) / groups, method="lower"))
    found, low = [], None
    for high in [*cuts, values.max()]:
        inside = (values <= high) if low is None else (values > low) & (values <= high)
        if inside.any():
            rows = np.flatnonzero(inside)
            found.append(UserGroup(int(values[rows].min()), int(high), rows))
        low = high
    return found


def grouped_comparison(first: dict[str, torch.Tensor], second: dict[str, torch.Tensor],
                       groups: list[UserGroup]) -> list[dict]:
    """Per group: its range, both arms' mean test metrics over its users, and their ``paired_comparison``."""
    found = []
    for group in groups:
        rows = torch.from_numpy(group.rows)
        parts = [{m: v[rows] for m, v in arm.items()} for arm in (first, second)]
        found.append({"low": group.low, "high": group.high,
                      "test": [{m: float(v.mean()) for m, v in part.items()} for part in parts],
                      **paired_comparison(*parts)})
    return found
