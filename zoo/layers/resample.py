"""Resampling layers: sub-pixel shuffles (depth_to_space / space_to_depth), edge padding to a
multiple of a block size and cropping back, all with run-time sizes (any H x W, also in TFLite).

Example::

    from zoo.layers import CropLike, PadToMultiple, PixelShuffle, PixelUnshuffle
    y = PixelShuffle(4)(x)      # (N, H, W, 3*16) -> (N, 4H, 4W, 3)
    z = PixelUnshuffle(2)(PadToMultiple(2)(img))   # odd sizes padded by repeating the edge
    out = CropLike()([PixelShuffle(2)(z), img])    # back to the size of img
"""

from __future__ import annotations

import keras
from keras import layers, ops


def counted_size(x, axis: int):
    """``x.shape[axis]`` (int32) counted from the data of ``x`` at run time.

    Sizes taken from ``ops.shape`` become constants when a converter is given a fixed input size
    (the TFLite converter folds shapes), and the model then breaks when it is resized at run time
    (``Interpreter.resize_tensor_input``, tiles of another size). Counting the elements of one
    line of ``x`` -- ``(v != v) + (v == v)`` is 1 for every value, NaN included -- cannot be
    folded, so every size computed from it stays a run-time quantity.
    """
    line = x[0, :, 0, 0] if axis == 1 else x[0, 0, :, 0]
    ones = ops.cast(ops.not_equal(line, line), "int32") + ops.cast(ops.equal(line, line), "int32")
    return ops.sum(ones)


@keras.saving.register_keras_serializable(package="zoo")
class PixelShuffle(layers.Layer):
    """Rearrange ``C * s^2`` channels into an ``s``-times larger image (TF ``depth_to_space``).

    Note the channel order is TensorFlow's (``(i * s + j) * C + c``), not
    PyTorch's ``nn.PixelShuffle`` (``c * s^2 + i * s + j``); ports permute the
    preceding convolution's output channels accordingly.
    """

    def __init__(self, scale, **kwargs):
        super().__init__(**kwargs)
        if int(scale) < 1:
            raise ValueError(f"scale must be >= 1, got {scale}")
        self.scale = int(scale)

    def call(self, x):
        return ops.depth_to_space(x, self.scale, data_format="channels_last")

    def compute_output_shape(self, input_shape):
        n, h, w, c = input_shape
        s = self.scale
        return (n, None if h is None else h * s, None if w is None else w * s, c // (s * s))

    def get_config(self):
        return {**super().get_config(), "scale": self.scale}


@keras.saving.register_keras_serializable(package="zoo")
class PixelUnshuffle(layers.Layer):
    """Fold each ``s x s`` block into channels (TF ``space_to_depth``): ``(N, sH, sW, C) -> (N, H, W, s^2 C)``.

    Channel order is TensorFlow's, ``(i * s + j) * C + c`` for the pixel at offset ``(i, j)`` of
    its block. H and W must be multiples of ``s`` (see :class:`PadToMultiple`).
    """

    def __init__(self, scale, **kwargs):
        super().__init__(**kwargs)
        if int(scale) < 1:
            raise ValueError(f"scale must be >= 1, got {scale}")
        self.scale = int(scale)

    @property
    def tile_alignment(self) -> int:
        """Tiles must start on the block grid to group the same pixels."""
        return self.scale

    def call(self, x):
        return ops.space_to_depth(x, self.scale, data_format="channels_last")

    def compute_output_shape(self, input_shape):
        n, h, w, c = input_shape
        s = self.scale
        return (n, None if h is None else h // s, None if w is None else w // s, c * s * s)

    def get_config(self):
        return {**super().get_config(), "scale": self.scale}


@keras.saving.register_keras_serializable(package="zoo")
class PadToMultiple(layers.Layer):
    """Pad the bottom and right by repeating the last row / column until H and W are multiples
    of ``multiple`` (MATLAB-style edge replication, as FFDNet's authors pad odd images)."""

    def __init__(self, multiple, **kwargs):
        super().__init__(**kwargs)
        if int(multiple) < 1:
            raise ValueError(f"multiple must be >= 1, got {multiple}")
        self.multiple = int(multiple)

    def call(self, x):
        m = self.multiple
        if m == 1:
            return x
        h, w = counted_size(x, 1), counted_size(x, 2)
        x = ops.concatenate([x] + [x[:, -1:]] * (m - 1), axis=1)[:, : h + (m - h % m) % m]
        return ops.concatenate([x] + [x[:, :, -1:]] * (m - 1), axis=2)[:, :, : w + (m - w % m) % m]

    def compute_output_shape(self, input_shape):
        n, h, w, c = input_shape
        m = self.multiple
        return (n, None if h is None else -(-h // m) * m, None if w is None else -(-w // m) * m, c)

    def get_config(self):
        return {**super().get_config(), "multiple": self.multiple}


@keras.saving.register_keras_serializable(package="zoo")
class CropLike(layers.Layer):
    """``[x, reference] -> x[:, :H, :W]`` with H x W the size of ``reference`` (undoes a padding)."""

    def call(self, inputs):
        x, reference = inputs
        return x[:, : counted_size(reference, 1), : counted_size(reference, 2)]

    def compute_output_shape(self, input_shapes):
        x, reference = input_shapes
        return (x[0], reference[1], reference[2], x[3])
