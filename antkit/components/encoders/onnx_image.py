"""``onnx_image``: image vectors of an ONNX image model through onnxruntime, preprocessed with PIL + numpy."""

from __future__ import annotations

from typing import Literal

import numpy as np
import torch
from PIL import Image
from pydantic import Field

from antkit.components.encoders.image import ImageEncoder, ImageModelConfig
from antkit.errors import AntkitError


class OnnxImageConfig(ImageModelConfig):
    model: str = Field(description="path of the .onnx file")
    output: str | None = Field(None, description="the graph output or node output to use as the vector (default: "
                                                 "the first graph output); an internal node needs the onnx package")
    input_size: int = Field(224, ge=1, le=16_384, description="images are resized to input_size x input_size")
    channels: Literal["RGB", "BGR"] = Field("RGB", description="channel order the model expects")
    scale: float = Field(1 / 255, description="pixel values 0..255 are multiplied by this before mean/std")
    mean: tuple[float, float, float] = Field((0.485, 0.456, 0.406), description="per channel, in model order")
    std: tuple[float, float, float] = Field((0.229, 0.224, 0.225), description="per channel, in model order")
    layout: Literal["NCHW", "NHWC"] = Field("NCHW", description="the model input's axis order")


class OnnxImage(ImageEncoder):
    """An ONNX image model; its first input takes the preprocessed batch, ``output`` gives the vectors.

    Runs on CUDA when the installed onnxruntime offers it, else on the CPU.
    """

    name = "onnx_image"
    description = "ONNX image model through onnxruntime (any graph output or internal node as the vector)"
    Config = OnnxImageConfig

    def __init__(self, config: OnnxImageConfig):
        super().__init__(config)
        self._session = None
        self._output = ""  # set on load

    def _fail(self, problem: str) -> AntkitError:
        return AntkitError(f"image encoder 'onnx_image': model '{self.config.model}': {problem}")

    def _load(self):
        if self._session is None:
            try:
                import onnxruntime
            except ImportError:
                raise self._fail("onnxruntime is not installed (pip install 'antkit[onnx]')") from None

            available = onnxruntime.get_available_providers()
            providers = [p for p in ("CUDAExecutionProvider", "CPUExecutionProvider") if p in available]
            try:
                session = onnxruntime.InferenceSession(self.config.model, providers=providers)
            except Exception as error:
                raise self._fail(f"cannot load it: {error}") from None
            outputs = [output.name for output in session.get_outputs()]
            self._output = self.config.output or outputs[0]
            if self._output not in outputs:
                session = onnxruntime.InferenceSession(self._with_output(outputs), providers=providers)
            self._check_input(session.get_inputs()[0].shape)
            self._session = session
        return self._session

    def _with_output(self, outputs: list[str]) -> bytes:
        """The model with the internal node output ``self._output`` added as a graph output (needs onnx)."""
        try:
            import onnx
        except ImportError:
            raise self._fail(f"'{self._output}' is not one of its graph outputs {outputs}; install the onnx package "
                             "to read an internal node, or export the model with it as an output") from None
        model = onnx.load(self.config.model)
        if not any(self._output in node.output for node in model.graph.node):
            raise self._fail(f"it has no output or node output '{self._output}' (graph outputs: {outputs})")
        model.graph.output.append(onnx.helper.make_empty_tensor_value_info(self._output))
        return model.SerializeToString()

    def _check_input(self, shape: list) -> None:
        spatial = shape[2:4] if self.config.layout == "NCHW" else shape[1:3]
        if len(shape) != 4 or any(isinstance(size, int) and size != self.config.input_size for size in spatial):
            raise self._fail(f"its input has shape {shape}, which does not take {self.config.layout} images of "
                             f"input_size {self.config.input_size}")

    def preprocess(self, image: Image.Image) -> np.ndarray:
        size = self.config.input_size
        pixels = np.asarray(image.resize((size, size), Image.Resampling.BILINEAR), dtype=np.float32)
        if self.config.channels == "BGR":
            pixels = pixels[:, :, ::-1]
        pixels = (pixels * self.config.scale - np.float32(self.config.mean)) / np.float32(self.config.std)
        return pixels.transpose(2, 0, 1) if self.config.layout == "NCHW" else pixels

    def embed(self, images):
        session = self._load()
        batch = np.ascontiguousarray(np.stack([self.preprocess(image) for image in images]), dtype=np.float32)
        (output,) = session.run([self._output], {session.get_inputs()[0].name: batch})
        vectors = torch.from_numpy(np.asarray(output, dtype=np.float32).reshape(len(images), -1))
        return torch.nn.functional.normalize(vectors, dim=1) if self.config.normalize else vectors
