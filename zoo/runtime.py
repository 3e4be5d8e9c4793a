"""Inference with exported ``.tflite`` files using only ``ai_edge_litert`` and numpy.

This module never imports TensorFlow or Keras, so an app-side or server-side install
needs only ``pip install ai-edge-litert numpy pillow pypng`` plus this package's pure
Python files.  It reads the sidecar JSON written by :func:`zoo.export.tflite` to know
the input layout, scale and receptive radius, and tiles large images.

Example::

    from zoo.runtime import LiteRTModel
    sr = LiteRTModel("xunit_sr_x4_int8.tflite", num_threads=2)
    sr.restore_file("photo.png", "photo_x4.png")

    # an export with io_dtype="uint8" also runs on bytes, end to end:
    sr8 = LiteRTModel("xunit_sr_x4_int8_u8.tflite")
    hr = sr8(np.zeros((1, 180, 320, 3), np.uint8))     # uint8 (1, 720, 1280, 3)
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from zoo.errors import InvalidInputError, ZooError


def quantize_input(x: np.ndarray, detail: dict) -> np.ndarray:
    """What to hand the interpreter for a float batch in [0, 1] (quantized for a uint8 input)."""
    x = np.asarray(x, dtype=np.float32)
    if detail["dtype"] == np.uint8:
        scale, zero = detail["quantization"]
        return np.clip(np.round(x / scale + zero), 0, 255).astype(np.uint8)
    return x


def dequantize_output(y: np.ndarray, detail: dict) -> np.ndarray:
    """A new float32 array from an output tensor (uint8 outputs mapped back with their scale)."""
    if detail["dtype"] == np.uint8:
        scale, zero = detail["quantization"]
        return (y.astype(np.float32) - zero) * np.float32(scale)
    return np.array(y, dtype=np.float32)


class LiteRTModel:
    """A ``.tflite`` model plus its sidecar, runnable on images of any size."""

    def __init__(self, path, num_threads: int = 2, sidecar=None):
        from ai_edge_litert.interpreter import Interpreter

        self.path = Path(path)
        if not self.path.is_file():
            raise ZooError(f"model file {self.path} does not exist")
        side = Path(sidecar) if sidecar else self.path.with_suffix(".json")
        self.meta = json.loads(side.read_text()) if side.is_file() else {}
        try:
            self.interpreter = Interpreter(model_path=str(self.path), num_threads=int(num_threads))
        except (ValueError, RuntimeError) as e:
            raise ZooError(f"{self.path} is not a valid TFLite model: {e}") from None
        self._in = self.interpreter.get_input_details()[0]
        self._out = self.interpreter.get_output_details()[0]
        self.channels = int(self._in["shape"][-1])
        self.scale = int(self.meta.get("scale", 1))
        self.radius = int(self.meta.get("receptive_radius", 16))
        self.align = int(self.meta.get("tile_alignment", 1))
        self._shape = None

    @property
    def dynamic(self) -> bool:
        return bool((np.asarray(self._in["shape_signature"])[1:3] == -1).any())

    @property
    def uint8_io(self) -> bool:
        """True for an export with 8-bit pixel input (and, for image outputs, 8-bit pixel output)."""
        return self._in["dtype"] == np.uint8

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Run on one 1xHxWxC batch: float32 in [0, 1] gives float32 out.

        A model exported with ``io_dtype="uint8"`` also takes a uint8 batch (8-bit pixel values)
        and then returns its uint8 output as is -- no float conversion on either side.
        """
        x = np.asarray(x)
        if np.issubdtype(x.dtype, np.integer) and not (self.uint8_io and x.dtype == np.uint8):
            raise InvalidInputError(
                f"this model takes float32 pixels in [0, 1]" + (" or uint8 pixel values" if self.uint8_io else "")
                + f", got {x.dtype}; divide by 255 (or 65535) first" + ("" if self.uint8_io else
                  ", or export with io_dtype='uint8' to feed bytes"))
        # zoo's uint8 exports pin the input to scale 1/255, zero point 0: the bytes are the values
        raw = x.dtype == np.uint8
        x = x if raw else quantize_input(x, self._in)
        shape = list(x.shape)
        if shape != self._shape:
            if list(self._in["shape"]) != shape:
                if not self.dynamic:
                    raise InvalidInputError(f"this model takes {list(self._in['shape'])}, got {shape}")
                self.interpreter.resize_tensor_input(self._in["index"], shape)
            self.interpreter.allocate_tensors()
            self._shape = shape
        self.interpreter.set_tensor(self._in["index"], x)
        self.interpreter.invoke()
        y = self.interpreter.get_tensor(self._out["index"])
        return y.copy() if raw else dequantize_output(y, self._out)

    def restore(self, pixels: np.ndarray, tile: int = 256, out_dtype=np.float32, progress=None) -> np.ndarray:
        """Super-resolve / denoise an HxWxC float array in [0, 1], tile by tile."""
        from zoo.tiling import tile_apply

        x = np.asarray(pixels, dtype=np.float32)
        if x.ndim != 3 or x.shape[-1] != self.channels:
            raise InvalidInputError(f"expected HxWx{self.channels}, got shape {x.shape}")
        if not np.isfinite(x).all():
            raise InvalidInputError("image contains NaN or Inf values")
        if min(x.shape[:2]) < 2 * self.radius + 1:
            raise InvalidInputError(f"image is smaller than the receptive field ({2 * self.radius + 1} px)")
        if not self.dynamic:
            raise ZooError("this .tflite has a fixed input size; export it without input_size to tile images")
        return tile_apply(self, x, scale=self.scale, out_channels=int(self._out["shape"][-1]), tile=tile,
                          overlap=self.radius + 2, out_dtype=out_dtype, progress=progress, align=self.align)

    def restore_file(self, input_path, output_path, tile: int = 256, progress=None) -> dict:
        """Image file -> restored image file (grey and RGBA handled like :mod:`zoo.restore`)."""
        from zoo.data.image_io import check_output_path, read_image, write_image

        output_path = check_output_path(output_path)
        img = read_image(input_path)
        px, alpha = img.pixels, None
        if img.mode == "rgba":
            px, alpha = px[..., :3], px[..., 3]
        if px.shape[-1] == 1 and self.channels == 3:
            px = np.repeat(px, 3, -1)
        dtype = np.uint16 if img.bit_depth == 16 else np.uint8
        start = time.perf_counter()
        out = self.restore(px, tile=tile, out_dtype=dtype, progress=progress)
        if img.mode == "grey" and out.shape[-1] == 3:
            out = np.round(out.astype(np.float32).mean(-1, keepdims=True)).astype(dtype)
        if alpha is not None:
            from zoo.restore import _resize_alpha  # numpy + Pillow only: no TensorFlow here

            out = np.concatenate([out, _resize_alpha(alpha, self.scale, dtype)], -1)
        seconds = time.perf_counter() - start
        write_image(output_path, out, bit_depth=img.bit_depth)
        return {"output": str(output_path), "seconds": seconds, "output_size": (out.shape[1], out.shape[0])}
