"""Sub-pixel upsampling (PixelShuffle / depth_to_space) as a serializable layer.

Example::

    from zoo.layers import PixelShuffle
    y = PixelShuffle(4)(x)      # (N, H, W, 3*16) -> (N, 4H, 4W, 3)
"""

from __future__ import annotations

import keras
from keras import layers, ops


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
