"""A constant noise-level map appended as an extra input channel (FFDNet's conditioning).

Example::

    from zoo.layers import NoiseLevelMap
    y = NoiseLevelMap(sigma=25)(x)     # (N, H, W, C) -> (N, H, W, C + 1), last channel 25 / 255
"""

from __future__ import annotations

import keras
from keras import layers, ops


@keras.saving.register_keras_serializable(package="zoo")
class NoiseLevelMap(layers.Layer):
    """Append one channel holding ``sigma / 255`` (the noise standard deviation on the [0, 1]
    scale) at every pixel.

    ``sigma`` is part of the layer's configuration, not a weight: the same weights file serves
    every noise level, and a model for another level is built with another ``sigma``.  The map
    is written ``x * 0 + level`` (MUL and ADD), which stays int8 in TFLite.
    """

    def __init__(self, sigma, **kwargs):
        super().__init__(**kwargs)
        sigma = float(sigma)
        if not sigma >= 0:
            raise ValueError(f"sigma must be a non-negative noise level on the 0-255 scale, got {sigma}")
        self.sigma = sigma

    def call(self, x):
        level = ops.cast(self.sigma / 255.0, x.dtype)
        return ops.concatenate([x, x[..., :1] * 0.0 + level], axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], None if input_shape[-1] is None else input_shape[-1] + 1)

    def get_config(self):
        return {**super().get_config(), "sigma": self.sigma}
