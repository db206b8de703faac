"""Leave-one-out splits, training segments (every prefix exactly once) and batch packing."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from antkit.data.splits import collate, epoch_order, evaluation_set, joint_segments, pack_batches, training_segments


def reference_samples(sequences, max_length, offset=0):
    """The reference's samples: every prefix of s[:-2] with the next item as target, input truncated."""
    samples = []
    for sequence in sequences:
        train = [int(v) + offset for v in sequence[:-2]]
        for t in range(1, len(train)):
            samples.append((tuple(train[:t][-max_length:]), train[t]))
    return samples


def segment_samples(segments):
    """(input window, target) represented by each target position of each segment."""
    samples = []
    for inputs, targets in segments:
        assert len(inputs) == len(targets)
        for position, target in enumerate(targets):
            if target > 0:
                samples.append((tuple(int(v) for v in inputs[: position + 1]), int(target)))
    return samples


def random_sequences(rng, count, low, high, n_items=30):
    return [rng.integers(1, n_items + 1, size=int(rng.integers(low, high + 1))).astype(np.int64) for _ in range(count)]


def test_training_segments_by_hand():
    """s = 1..7, max_length 3: train 1..5; one segment for prefixes up to 3, one per longer prefix."""
    segments = training_segments([np.arange(1, 8)], max_length=3)
    as_lists = [(i.tolist(), t.tolist()) for i, t in segments]
    assert as_lists == [([1, 2, 3], [2, 3, 4]), ([2, 3, 4], [0, 0, 5])]
    assert Counter(segment_samples(segments)) == Counter(reference_samples([np.arange(1, 8)], 3))


@pytest.mark.parametrize("max_length", [1, 2, 3, 5, 50])
def test_segments_represent_exactly_the_reference_prefix_samples(max_length):
    """Multiset of (window, target) from segments == the reference's per-prefix samples (long sequences too)."""
    rng = np.random.default_rng(max_length)
    sequences = random_sequences(rng, 40, 1, 20)
    sequences.append(np.arange(1, 3 * max_length + 10))  # much longer than max_length + 1
    got = Counter(segment_samples(training_segments(sequences, max_length)))
    expected = Counter(reference_samples(sequences, max_length))
    assert got == expected
    assert sum(got.values()) == sum(max(0, len(s) - 3) for s in sequences)


def test_segments_respect_max_length_and_offset():
    """No segment is longer than max_length; ids are shifted by offset."""
    sequences = [np.arange(1, 30), np.array([4, 5, 6, 7])]
    segments = training_segments(sequences, max_length=4, offset=100)
    assert all(len(i) <= 4 for i, _ in segments)
    assert all(i.min() > 100 for i, _ in segments)
    assert Counter(segment_samples(segments)) == Counter(reference_samples(sequences, 4, offset=100))


def test_joint_segments_shift_each_domain_by_its_offset():
    """Pre-training's segments: every domain's segments in order, its ids shifted by its own offset."""
    first, second = [np.array([1, 2, 3, 4, 5])], [np.array([1, 2, 3, 4]), np.array([2, 1, 3, 4])]
    joint = joint_segments([first, second], max_length=5, offsets=[0, 10])
    expected = training_segments(first, 5) + training_segments(second, 5, offset=10)
    assert [(i.tolist(), t.tolist()) for i, t in joint] == [(i.tolist(), t.tolist()) for i, t in expected]
    assert [i.tolist() for i, _ in joint] == [[1, 2], [11], [12]]


def test_epoch_order_differs_by_epoch_and_repeats_for_the_same_epoch():
    """Each epoch gets its own batches; a resumed epoch (or another process) gets the same ones again."""
    segments = training_segments(random_sequences(np.random.default_rng(2), 60, 3, 12), max_length=8)
    first = pack_batches(segments, 16, epoch_order(seed=0, epoch=3))
    assert pack_batches(segments, 16, epoch_order(seed=0, epoch=3)) == first
    assert pack_batches(segments, 16, epoch_order(seed=0, epoch=4)) != first
    assert pack_batches(segments, 16, epoch_order(seed=1, epoch=3)) != first


def test_short_sequences_have_no_training_segment():
    """Sequences of length <= 3 have at most one training item: no prefix with a target."""
    assert training_segments([np.array([1, 2, 3]), np.array([1, 2]), np.array([5])], max_length=5) == []
    segments = training_segments([np.array([1, 2, 3, 4])], max_length=5)
    assert [(i.tolist(), t.tolist()) for i, t in segments] == [([1], [2])]


def test_evaluation_set_leave_one_out_by_hand():
    """valid: s[:-2] -> s[-2]; test: s[:-1] -> s[-1]; inputs keep the last max_length items, left-aligned."""
    sequences = [np.array([1, 2, 3, 4, 5, 6]), np.array([7, 8, 9]), np.array([3, 4])]
    valid = evaluation_set(sequences, "valid", max_length=3)
    assert len(valid) == 2  # the 2-item user has no case
    assert valid.targets.tolist() == [5, 8]
    assert valid.lengths.tolist() == [3, 1]
    assert valid.inputs.tolist() == [[2, 3, 4], [7, 0, 0]]
    test = evaluation_set(sequences, "test", max_length=3)
    assert test.targets.tolist() == [6, 9]
    assert test.lengths.tolist() == [3, 2]
    assert test.inputs.tolist() == [[3, 4, 5], [7, 8, 0]]
    wide = evaluation_set(sequences, "test", max_length=50)
    assert wide.inputs.tolist() == [[1, 2, 3, 4, 5], [7, 8, 0, 0, 0]]


def test_pack_batches_each_segment_once_and_size_bound():
    """Every segment appears exactly once; no batch holds more than batch_size targets unless it is one segment
    or a pool's small leftover joined it (then at most 1.5 x batch_size)."""
    rng = np.random.default_rng(0)
    sequences = random_sequences(rng, 200, 3, 40)
    segments = training_segments(sequences, max_length=10)
    counts = [int((t > 0).sum()) for _, t in segments]
    for batch_size in (1, 7, 32, 100):
        batches = pack_batches(segments, batch_size, np.random.default_rng(5))
        flat = [i for batch in batches for i in batch]
        assert sorted(flat) == list(range(len(segments)))
        for batch in batches:
            assert batch
            total = sum(counts[i] for i in batch)
            assert total <= 1.5 * batch_size or len(batch) == 1


def test_pack_batches_leaves_no_tiny_batch():
    """Targets 9, 9, 9 and 2 at batch_size 10: the last 2 would be a batch of its own, on whose gradient Adam
    would take a full step; it joins the batch before it instead."""
    full = [(np.arange(1, 10), np.arange(1, 10)) for _ in range(3)]
    longest = (np.arange(1, 12), np.array([0] * 9 + [5, 6]))  # sorted last: the pool's leftover
    batches = pack_batches([*full, longest], 10, np.random.default_rng(0))
    assert sorted(len(batch) for batch in batches) == [1, 1, 2]
    assert any(3 in batch and len(batch) == 2 for batch in batches)


def test_pack_batches_small_last_pool_joins_the_batch_before():
    """Seven segments of 3 targets, batch_size 10, pools of 6 segments: the second pool holds one segment (3 < 5
    targets), which joins the last batch of the first pool instead of becoming a batch of its own."""
    segments = [(np.arange(1, 4), np.arange(1, 4)) for _ in range(7)]
    batches = pack_batches(segments, 10, np.random.default_rng(0), pool=2)
    assert sorted(len(batch) for batch in batches) == [3, 4]
    assert sorted(i for batch in batches for i in batch) == list(range(7))


@pytest.mark.parametrize("seed", range(5))
def test_pack_batches_no_batch_under_half_on_a_long_tail(seed):
    """Many short histories and a few very long ones (whose windows have one target each), as in real data: with
    ``batch_size`` at least twice a segment's targets, every batch holds at least half of ``batch_size``."""
    rng = np.random.default_rng(seed)
    lengths = np.minimum(5 + rng.geometric(0.15, size=400), 300)
    sequences = [rng.integers(1, 200, size=int(n)).astype(np.int64) for n in lengths]
    segments = training_segments(sequences, max_length=20)
    counts = [int((t > 0).sum()) for _, t in segments]
    for batch_size, pool in [(40, 3), (64, 5), (256, 2), (256, 50)]:
        batches = pack_batches(segments, batch_size, np.random.default_rng(seed), pool=pool)
        sizes = [sum(counts[i] for i in batch) for batch in batches]
        assert len(batches) > 1 and min(sizes) >= batch_size / 2, (batch_size, pool, sorted(sizes)[:3])
        assert max(sizes) <= 1.5 * batch_size


def test_pack_batches_deterministic_for_seed():
    """Same seed -> same batches; another seed -> (almost surely) different ones."""
    rng = np.random.default_rng(1)
    segments = training_segments(random_sequences(rng, 100, 3, 15), max_length=8)
    a = pack_batches(segments, 16, np.random.default_rng(42))
    b = pack_batches(segments, 16, np.random.default_rng(42))
    c = pack_batches(segments, 16, np.random.default_rng(43))
    assert a == b
    assert a != c


def test_collate_pads_to_longest_left_aligned():
    """collate pads at the right to the batch's longest segment."""
    segments = [(np.array([1, 2, 3]), np.array([2, 3, 4])), (np.array([5]), np.array([6]))]
    batch = collate(segments, [1, 0])
    assert batch.inputs.tolist() == [[5, 0, 0], [1, 2, 3]]
    assert batch.targets.tolist() == [[6, 0, 0], [2, 3, 4]]
    assert batch.lengths.tolist() == [1, 3]
