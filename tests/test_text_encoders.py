"""The transformers text encoder on the packaged all-MiniLM-L6-v2: mean pooling reproduces the
sentence-transformers vectors, CLS pooling is the first token's vector, batching changes nothing."""

from __future__ import annotations

import pytest
import torch

from antkit.components.encoders.text import (
    SentenceTransformerConfig,
    SentenceTransformerText,
    TransformersText,
    TransformersTextConfig,
)
from antkit.errors import AntkitError

TEXTS = ["red steel kettle for the kitchen", "", "quarterly tax report, printed and bound", None, "pen"]


def test_mean_pooling_matches_sentence_transformers():
    """all-MiniLM-L6-v2 is mean pooling + normalisation: the same vectors as the sentence-transformers encoder."""
    ours, present = TransformersText(TransformersTextConfig(normalize=True, device="cpu")).encode(TEXTS)
    reference, _ = SentenceTransformerText(SentenceTransformerConfig(device="cpu")).encode(TEXTS)
    assert present.tolist() == [True, False, True, False, True]
    assert ours.shape == (5, 384)
    assert torch.allclose(ours, reference, atol=1e-5)
    assert torch.count_nonzero(ours[[1, 3]]) == 0


def test_cls_pooling_and_batching():
    """CLS: the first token's hidden state, by hand through the same model; batch size 1 gives the same."""
    encoder = TransformersText(TransformersTextConfig(pooling="cls", device="cpu", batch_size=2))
    features, _ = encoder.encode(TEXTS)
    tokenizer, model = encoder._load()
    with torch.no_grad():
        by_hand = model(**tokenizer(["pen"], return_tensors="pt")).last_hidden_state[0, 0]
    assert torch.allclose(features[4], by_hand, atol=1e-5)
    one_by_one, _ = TransformersText(TransformersTextConfig(pooling="cls", device="cpu", batch_size=1)).encode(TEXTS)
    assert torch.allclose(features, one_by_one, atol=1e-5)
    assert features[0].norm() > 1.5  # not normalised unless asked


def test_missing_model_is_a_clear_error(tmp_path):
    encoder = TransformersText(TransformersTextConfig(model=str(tmp_path / "no-model"), device="cpu"))
    with pytest.raises(AntkitError, match="cannot load model '.*no-model'"):
        encoder.encode(["text"])
