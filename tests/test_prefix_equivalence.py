"""The central efficiency claim: one causal pass over a sequence equals running every prefix on its own."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from antkit.data.catalogue import Catalogue
from antkit.data.splits import collate, training_segments
from antkit.model.item_tower import ItemTower
from antkit.model.recommender import SequentialRecommender
from antkit.plugins.registry import tagged_config

DIM, MAX_LENGTH = 16, 6


def make_backbone(registry, layers=2, heads=2):
    cls = registry.get("backbone", "sasrec")
    config = tagged_config(cls)(name="sasrec", layers=layers, heads=heads, inner=24)
    backbone = registry.build("backbone", config, DIM, MAX_LENGTH)
    with torch.no_grad():  # large weights and non-trivial LayerNorms: positions really interact
        for name, parameter in backbone.named_parameters():
            if "norm" in name:
                parameter.add_(torch.randn_like(parameter) * 0.3)
            elif "position" not in name:
                parameter.normal_(std=0.4)
    return backbone.eval()


@pytest.mark.parametrize("layers,heads", [(1, 1), (2, 2), (2, 4)])
def test_whole_sequence_equals_each_prefix_alone(registry, layers, heads):
    """Output at position t of the whole sequence == last output of the prefix s[:t+1] run alone."""
    torch.manual_seed(layers * 10 + heads)
    backbone = make_backbone(registry, layers, heads)
    items = torch.randn(1, MAX_LENGTH, DIM)
    with torch.no_grad():
        whole = backbone(items, torch.tensor([MAX_LENGTH]))
        for t in range(MAX_LENGTH):
            alone = backbone(items[:, : t + 1], torch.tensor([t + 1]))
            assert torch.allclose(whole[0, t], alone[0, -1], atol=1e-5), t
            assert torch.allclose(whole[0, : t + 1], alone[0], atol=1e-5), t


def test_outputs_depend_on_the_input(registry):
    """Sanity: changing an earlier item changes later outputs (the comparison above is not vacuous)."""
    torch.manual_seed(0)
    backbone = make_backbone(registry)
    items = torch.randn(1, 4, DIM)
    changed = items.clone()
    changed[0, 0] = torch.randn(DIM)  # (a constant shift would vanish in the input LayerNorm)
    with torch.no_grad():
        a, b = backbone(items, torch.tensor([4])), backbone(changed, torch.tensor([4]))
    assert (a[0, 3] - b[0, 3]).abs().max() > 1e-2


def test_padded_batch_equals_unpadded_single_sequences(registry):
    """Left-aligned batch with padding: real positions equal the single, unpadded runs, whatever the padding."""
    torch.manual_seed(1)
    backbone = make_backbone(registry)
    lengths = [6, 2, 4, 1]
    singles = [torch.randn(1, n, DIM) for n in lengths]
    for padding in ("zero", "noise"):
        batch = torch.zeros(len(lengths), MAX_LENGTH, DIM) if padding == "zero" else torch.randn(len(lengths), MAX_LENGTH, DIM) * 5
        for row, single in enumerate(singles):
            batch[row, : lengths[row]] = single[0]
        with torch.no_grad():
            out = backbone(batch, torch.tensor(lengths))
            for row, single in enumerate(singles):
                alone = backbone(single, torch.tensor([lengths[row]]))
                assert torch.allclose(out[row, : lengths[row]], alone[0], atol=1e-5), (padding, row)


def make_model(registry, n_items=12, id_items=0):
    """A small content model (text + image moe adaptors, sum_product fusion) and its catalogue."""
    torch.manual_seed(2)
    moe = registry.get("adaptor", "moe")
    adaptors = {
        "text": registry.build("adaptor", tagged_config(moe)(name="moe", experts=2), 10, DIM),
        "image": registry.build("adaptor", tagged_config(moe)(name="moe", experts=2), 6, DIM),
    }
    fusion_cls = registry.get("fusion", "sum_product")
    fusion = registry.build("fusion", tagged_config(fusion_cls)(name="sum_product"), ["text", "image"], DIM)
    with torch.no_grad():
        for adaptor in adaptors.values():
            adaptor.gate.normal_()
            adaptor.center.normal_(std=0.1)
            adaptor.weight.normal_(std=0.3)
    model = SequentialRecommender(make_backbone(registry), ItemTower(adaptors, fusion), id_items, temperature=0.1)
    image_present = torch.ones(n_items + 1, dtype=torch.bool)
    image_present[[0, 3, 7]] = False
    text_present = torch.ones(n_items + 1, dtype=torch.bool)
    text_present[0] = False
    text = torch.randn(n_items + 1, 10) * text_present[:, None]
    image = torch.randn(n_items + 1, 6) * image_present[:, None]
    catalogue = Catalogue({"text": text, "image": image}, {"text": text_present, "image": image_present})
    return model.eval(), catalogue


def reference_prefix_loss(model, catalogue, window, target, n_items):
    """One prefix alone, as the reference runs it: item vectors one item at a time, explicit softmax."""
    vectors = []
    for item in range(1, n_items + 1):
        vector, _ = model.item_tower(catalogue.rows(torch.tensor([item])))
        vectors.append(vector[0])
    candidates = torch.stack(vectors)  # (n, D): the padding item is not among them
    inputs = torch.stack([candidates[i - 1] for i in window])[None]
    state = model.backbone(inputs, torch.tensor([len(window)]))[0, -1]
    logits = F.cosine_similarity(state[None], candidates, dim=-1) / model.temperature
    return -torch.log_softmax(logits, dim=0)[target - 1]


def test_forward_full_equals_mean_of_per_prefix_losses(registry):
    """forward(objective='full') on packed segments == mean over the reference's per-prefix samples."""
    n_items = 12
    model, catalogue = make_model(registry, n_items)
    rng = np.random.default_rng(0)
    sequences = [rng.integers(1, n_items + 1, size=n).astype(np.int64) for n in (5, 4, 9, 14, 3)]
    segments = training_segments(sequences, MAX_LENGTH)
    batch = collate(segments, list(range(len(segments))))
    samples = []
    for sequence in sequences:
        train = sequence[:-2].tolist()
        samples += [(train[:t][-MAX_LENGTH:], train[t]) for t in range(1, len(train))]
    assert any(len(train) > MAX_LENGTH + 1 for train in (s[:-2] for s in sequences))
    with torch.no_grad():
        got = model(batch, catalogue, objective="full")
        expected = torch.stack([reference_prefix_loss(model, catalogue, w, t, n_items) for w, t in samples]).mean()
    assert torch.allclose(got, expected, atol=1e-5), (got.item(), expected.item())


def test_item_table_row_zero_is_padding(registry):
    """The item table has n + 1 rows, row 0 all zero, rows 1..n the tower's vectors of items 1..n."""
    model, catalogue = make_model(registry, 12)
    with torch.no_grad():
        table = model.item_table(catalogue)
        assert table.shape == (13, DIM)
        assert torch.equal(table[0], torch.zeros(DIM))
        vector, _ = model.item_tower(catalogue.rows(torch.tensor([5])))
        assert torch.allclose(table[5], vector[0], atol=1e-6)


def test_forward_in_batch_equals_reference_per_prefix_in_batch_loss(registry):
    """forward(objective='in_batch') == the reference's in-batch loss over per-prefix samples (one column per
    sample, same-target columns of other samples masked), plus w x image->text loss over distinct targets."""
    n_items = 12
    model, catalogue = make_model(registry, n_items)
    rng = np.random.default_rng(3)
    sequences = [rng.integers(1, n_items + 1, size=n).astype(np.int64) for n in (6, 4, 10, 5)]
    segments = training_segments(sequences, MAX_LENGTH)
    batch = collate(segments, list(range(len(segments))))
    samples = []
    for sequence in sequences:
        train = sequence[:-2].tolist()
        samples += [(train[:t][-MAX_LENGTH:], train[t]) for t in range(1, len(train))]
    targets = [t for _, t in samples]
    assert len(set(targets)) < len(targets)  # duplicate targets are exercised
    weight = 0.5
    with torch.no_grad():
        vectors, adapted = {}, {}
        for item in range(1, n_items + 1):
            vector, parts = model.item_tower(catalogue.rows(torch.tensor([item])))
            vectors[item], adapted[item] = vector[0], {m: v[0] for m, v in parts.items()}
        losses = []
        for i, (window, target) in enumerate(samples):
            state = model.backbone(torch.stack([vectors[v] for v in window])[None], torch.tensor([len(window)]))[0, -1]
            columns = [j for j, t in enumerate(targets) if j == i or t != target]
            logits = torch.stack(
                [F.cosine_similarity(state, vectors[targets[j]], dim=0) for j in columns]
            ) / model.temperature
            losses.append(-torch.log_softmax(logits, 0)[columns.index(i)])
        expected = torch.stack(losses).mean()
        distinct = sorted(set(targets))
        with_text = [d for d in distinct if catalogue.present["text"][d]]
        rows = [d for d in with_text if catalogue.present["image"][d]]
        image_text = []
        for d in rows:
            logits = torch.stack(
                [F.cosine_similarity(adapted[d]["image"], adapted[c]["text"], dim=0) for c in with_text]
            ) / model.temperature
            image_text.append(-torch.log_softmax(logits, 0)[with_text.index(d)])
        assert 0 < len(rows) < len(distinct)  # some targets lack an image
        plain = model(batch, catalogue, objective="in_batch")
        combined = model(batch, catalogue, objective="in_batch", image_text_weight=weight)
    assert torch.allclose(plain, expected, atol=1e-5), (plain.item(), expected.item())
    assert torch.allclose(combined, expected + weight * torch.stack(image_text).mean(), atol=1e-5)


def test_last_states_equal_full_pass_at_last_positions(registry):
    """SASRec.last_states (last layer run for the last position only) equals the full pass at lengths - 1."""
    torch.manual_seed(0)
    backbone = registry.build("backbone", registry.config_type("backbone").model_validate(
        {"name": "sasrec", "layers": 2, "heads": 2, "inner": 16}), 8, 10)
    backbone.eval()
    items = torch.randn(5, 7, 8)
    lengths = torch.tensor([7, 1, 3, 5, 2])
    full = backbone(items, lengths)[torch.arange(5), lengths - 1]
    assert torch.allclose(backbone.last_states(items, lengths), full, atol=1e-5)


def test_window_rows_take_the_backbones_last_states(registry, monkeypatch):
    """Windows over histories longer than the inputs have one target, after their last position: they run
    through last_states (less work), the whole sequences through the full pass, and the loss is unchanged."""
    n_items = 12
    model, catalogue = make_model(registry, n_items)
    rng = np.random.default_rng(0)
    sequences = [rng.integers(1, n_items + 1, size=n).astype(np.int64) for n in (5, 14, 11)]
    segments = training_segments(sequences, MAX_LENGTH)
    windows = sum(1 for _, targets in segments if (np.asarray(targets) > 0).sum() == 1)
    batch = collate(segments, list(range(len(segments))))
    calls = []
    last_states = model.backbone.last_states
    monkeypatch.setattr(model.backbone, "last_states", lambda items, lengths: calls.append(len(lengths))
                        or last_states(items, lengths))
    with torch.no_grad():
        got = model(batch, catalogue, objective="full")
        has_target = batch.targets > 0
        states = model.user_states(model.item_table(catalogue)[batch.inputs], batch.lengths)[has_target]
        table = model.item_table(catalogue)
        logits = F.cosine_similarity(states[:, None], table[None, 1:], dim=-1) / model.temperature
        expected = F.cross_entropy(logits, batch.targets[has_target] - 1)
    assert windows >= 2 and calls == [windows]
    assert torch.allclose(got, expected, atol=1e-5), (got.item(), expected.item())
