"""antkit's contract checks (``antkit.testing``) on both components, with default and other settings."""

from __future__ import annotations

from antkit.testing import check_backbone, check_fusion

from antkit_extras import GatedConfig, GatedFusion, GRU4Rec, GRU4RecConfig


def test_gru4rec_keeps_the_backbone_contract():
    check_backbone(GRU4Rec)
    check_backbone(GRU4Rec, GRU4RecConfig(layers=2, hidden=24, dropout=0.0), dim=16, max_length=5)


def test_gated_keeps_the_fusion_contract():
    check_fusion(GatedFusion)
    check_fusion(GatedFusion, GatedConfig(temperature=0.5), modalities=("text", "image"), dim=8)
