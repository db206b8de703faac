"""The timm encoder's contract and preprocessing.

timm needs torchvision, which cannot be installed beside the CPU torch build antkit's CI uses, so most tests
here use a stand-in ``timm`` module (a mock, the only one in the suite): ``create_model`` returns a small
real torch network with a ``pretrained_cfg`` like timm's. They test antkit's side: the arguments it passes,
the preprocessing the pretrained config asks for, pooling, batching and absent items. The last test uses the
real timm with a small model built from a config and saved to a folder; it runs wherever timm imports (it
was run in a venv with torch 2.14.1 + torchvision 0.29.1 + timm 1.0.31) and is skipped elsewhere.
"""

from __future__ import annotations

import io
import sys
import types

import numpy as np
import pytest
import torch
from PIL import Image

from antkit.components.encoders.timm_image import TimmImage, TimmImageConfig
from antkit.errors import AntkitError


class TinyNet(torch.nn.Module):
    """Mean colour per channel, then a fixed linear map: easy to compute by hand."""

    pretrained_cfg = {"input_size": (3, 8, 8), "crop_pct": 1.0, "interpolation": "bilinear",
                      "mean": (0.5, 0.5, 0.5), "std": (0.25, 0.25, 0.25)}

    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(3, 4, bias=False)
        with torch.no_grad():
            self.linear.weight.copy_(torch.tensor([[1.0, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 1]]))

    def forward(self, pixels):
        return self.linear(pixels.mean(dim=(2, 3)))


@pytest.fixture
def fake_timm(monkeypatch):
    calls = []

    def create_model(name, pretrained, num_classes, checkpoint_path):
        calls.append({"name": name, "pretrained": pretrained, "num_classes": num_classes, "checkpoint": checkpoint_path})
        if name == "missing":
            raise RuntimeError("Unknown model (missing)")
        return TinyNet()

    monkeypatch.setitem(sys.modules, "timm", types.SimpleNamespace(create_model=create_model))
    return calls


def png(color, size=(16, 12)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


def test_pooled_features_by_hand(fake_timm):
    encoder = TimmImage(TimmImageConfig(model="swin_base_patch4_window7_224", normalize=False, batch_size=2))
    features, present = encoder.encode([[png((255, 0, 0))], [], [png((255, 0, 0)), png((0, 0, 255))], [b"junk"]])
    assert fake_timm[0] == {"name": "swin_base_patch4_window7_224", "pretrained": True, "num_classes": 0, "checkpoint": ""}
    red = torch.tensor([(1 - 0.5) / 0.25, (0 - 0.5) / 0.25, (0 - 0.5) / 0.25])  # normalised channel means
    blue = torch.tensor([-2.0, -2.0, 2.0])
    assert torch.allclose(features[0], torch.cat([red, red.sum(0, keepdim=True)]), atol=1e-5)
    assert torch.allclose(features[2], (torch.cat([red, red.sum(0, keepdim=True)])
                                        + torch.cat([blue, blue.sum(0, keepdim=True)])) / 2, atol=1e-5)
    assert present.tolist() == [True, False, True, False]
    assert encoder.failed_images == 1


def test_preprocessing_resizes_by_crop_pct_and_centre_crops(fake_timm):
    """A 16 x 12 image with input 8 x 8, crop_pct 1: shorter side to 8 (-> 11 x 8), then the centre 8 x 8."""
    left_half_white = np.zeros((12, 16, 3), dtype=np.uint8)
    left_half_white[:, :8] = 255
    encoder = TimmImage(TimmImageConfig(model="m"))
    pixels = encoder.preprocess(Image.fromarray(left_half_white))
    assert pixels.shape == (3, 8, 8)
    assert pixels[0, 4, 0] == pytest.approx(2.0) and pixels[0, 4, 7] == pytest.approx(-2.0)  # white left, black right


def test_checkpoint_means_no_download_and_errors_are_clear(fake_timm, monkeypatch):
    TimmImage(TimmImageConfig(model="m", checkpoint="/w/swin.safetensors")).encode([[png((1, 2, 3))]])
    assert fake_timm[-1]["pretrained"] is False and fake_timm[-1]["checkpoint"] == "/w/swin.safetensors"
    with pytest.raises(AntkitError, match="cannot load model 'missing'"):
        TimmImage(TimmImageConfig(model="missing")).encode([[png((1, 2, 3))]])
    monkeypatch.setitem(sys.modules, "timm", None)  # not installed
    with pytest.raises(AntkitError, match="needs timm"):
        TimmImage(TimmImageConfig(model="m")).encode([[png((1, 2, 3))]])


def _real_timm():
    try:
        import timm
    except Exception as error:  # noqa: BLE001 - ImportError, or a torchvision built for another torch
        pytest.skip(f"timm does not import here ({type(error).__name__}: {error})")
    return timm


def test_real_timm_model_from_a_local_folder(tmp_path):
    """A tiny ResNet built from timm's config (random weights), saved with save_for_hf, loaded by
    'local-dir:' through the encoder: its pooled features, equal to running timm's model by hand."""
    timm = _real_timm()
    from timm.models import save_for_hf

    model = timm.create_model("resnet18", pretrained=False, num_classes=0, pretrained_cfg_overlay={
        "input_size": (3, 32, 32), "crop_pct": 1.0})
    save_for_hf(model, str(tmp_path / "tiny-resnet"))
    encoder = TimmImage(TimmImageConfig(model=f"local-dir:{tmp_path / 'tiny-resnet'}", pretrained=True,
                                        device="cpu", normalize=False))
    features, present = encoder.encode([[png((255, 0, 0), (32, 32))], [], [b"junk"]])
    assert features.shape == (3, 512) and present.tolist() == [True, False, False]
    loaded = encoder._load()
    assert torch.equal(loaded.state_dict()["conv1.weight"], model.state_dict()["conv1.weight"])
    model.eval()
    red = Image.open(io.BytesIO(png((255, 0, 0), (32, 32)))).convert("RGB")
    with torch.inference_mode():
        by_hand = model(torch.from_numpy(encoder.preprocess(red))[None])
    assert torch.allclose(features[0], by_hand[0], atol=1e-5)
