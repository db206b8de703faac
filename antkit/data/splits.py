"""Leave-one-out splits and batches.

For a user's sequence ``s``: the training part is ``s[:-2]``, validation predicts ``s[-2]`` from ``s[:-2]`` and
test predicts ``s[-1]`` from ``s[:-1]``; inputs keep their last ``max_length`` items.

Training counts every prefix of the training part as one sample, as the reference does, but runs each user's
sequence through the causal backbone once: position ``t`` of a segment predicts the item after it. A prefix
longer than ``max_length`` cannot share that pass (its window starts later), so it gets a segment of its own
whose last position alone has a target. The mathematics is the reference's; the work is a fraction of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch

from antkit.model.recommender import Batch

Segment = tuple[np.ndarray, np.ndarray]  # (inputs, targets), same length; target 0 = none


def training_segments(sequences: list[np.ndarray], max_length: int, offset: int = 0) -> list[Segment]:
    """Segments covering every prefix of every training part exactly once; ids shifted by ``offset``."""
    segments = []
    for sequence in sequences:
        train = sequence[:-2] + offset
        if len(train) < 2:
            continue
        first = min(len(train) - 1, max_length)
        segments.append((train[:first], train[1 : first + 1]))
        for end in range(max_length + 1, len(train)):
            targets = np.zeros(max_length, dtype=np.int64)
            targets[-1] = train[end]
            segments.append((train[end - max_length : end], targets))
    return segments


def joint_segments(sequence_lists: list[list[np.ndarray]], max_length: int, offsets: list[int]) -> list[Segment]:
    """Several domains' segments in one list (pre-training), each domain's ids shifted by its offset."""
    return [segment for sequences, offset in zip(sequence_lists, offsets)
            for segment in training_segments(sequences, max_length, offset)]


def epoch_order(seed: int, epoch: int) -> np.random.Generator:
    """The generator that packs and orders an epoch's batches: the same in every process and after a resume."""
    return np.random.default_rng([seed, epoch])


def pack_batches(segments: list[Segment], batch_size: int, rng: np.random.Generator, pool: int = 50) -> list[list[int]]:
    """Group segment indices into batches of at most ``batch_size`` targets (prefixes).

    Segments are shuffled, sorted by length within pools of about ``pool`` batches (less padding), packed
    greedily, and the batches shuffled again. A pool's last batch under half of ``batch_size`` joins another
    (``_host_for``; a batch then holds up to 1.5 x ``batch_size``): Adam takes a full-size step on any batch, and
    on the gradient of one or two examples that step throws training back (docs/results.md).
    """
    counts = np.array([int((t > 0).sum()) for _, t in segments])
    lengths = np.array([len(i) for i, _ in segments])
    order = rng.permutation(len(segments))
    per_batch = max(1, int(batch_size / max(1.0, counts.mean())))
    batches: list[list[int]] = []
    for start in range(0, len(order), per_batch * pool):
        chunk = order[start : start + per_batch * pool]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        current, filled = [], 0
        for index in chunk:
            if current and filled + counts[index] > batch_size:
                batches.append(current)
                current, filled = [], 0
            current.append(int(index))
            filled += counts[index]
        host = _host_for(filled, batches, counts, batch_size) if filled < batch_size / 2 else None
        if host is None:
            batches.append(current)
        else:
            host.extend(current)
    return [batches[i] for i in rng.permutation(len(batches))]


def _host_for(filled: int, batches: list[list[int]], counts: np.ndarray, batch_size: int) -> list[int] | None:
    """The batch a leftover of ``filled`` targets joins: the one packed before it, or else the smallest (when the
    one before already took a leftover), keeping every batch within 1.5 x ``batch_size``; None if none can."""
    if not batches:
        return None
    room = 1.5 * batch_size - filled
    if counts[batches[-1]].sum() <= room:
        return batches[-1]
    smallest = min(batches, key=lambda batch: counts[batch].sum())
    return smallest if counts[smallest].sum() <= room else None


def collate(segments: list[Segment], indices: list[int]) -> Batch:
    """Pad the chosen segments to their longest (not to max_length) and stack them."""
    length = max(len(segments[i][0]) for i in indices)
    inputs = np.zeros((len(indices), length), dtype=np.int64)
    targets = np.zeros((len(indices), length), dtype=np.int64)
    lengths = np.zeros(len(indices), dtype=np.int64)
    for row, index in enumerate(indices):
        seq_inputs, seq_targets = segments[index]
        inputs[row, : len(seq_inputs)] = seq_inputs
        targets[row, : len(seq_targets)] = seq_targets
        lengths[row] = len(seq_inputs)
    return Batch(torch.from_numpy(inputs), torch.from_numpy(targets), torch.from_numpy(lengths))


@dataclass
class EvaluationSet:
    """One target per user: ``inputs`` (U, L) left-aligned, ``lengths`` (U,), ``targets`` (U,)."""

    inputs: torch.Tensor
    lengths: torch.Tensor
    targets: torch.Tensor

    def __len__(self) -> int:
        return len(self.targets)


def evaluation_set(sequences: list[np.ndarray], split: Literal["valid", "test"], max_length: int) -> EvaluationSet:
    """Users' validation or test cases (users with fewer than 3 items have none)."""
    cut = 2 if split == "valid" else 1
    cases = [(s[:-cut][-max_length:], s[-cut]) for s in sequences if len(s) >= 3]
    length = max((len(i) for i, _ in cases), default=1)
    inputs = np.zeros((len(cases), length), dtype=np.int64)
    for row, (seq_inputs, _) in enumerate(cases):
        inputs[row, : len(seq_inputs)] = seq_inputs
    lengths = np.array([len(i) for i, _ in cases], dtype=np.int64)
    targets = np.array([t for _, t in cases], dtype=np.int64)
    return EvaluationSet(torch.from_numpy(inputs), torch.from_numpy(lengths), torch.from_numpy(targets))
