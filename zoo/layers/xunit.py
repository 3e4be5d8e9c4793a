"""The xUnit spatial activation (Kligvasser, Rott Shaham, Michaeli, CVPR 2018).

Given a convolution's output ``z``, xUnit computes a per-pixel, per-channel gate

    g = exp(-d^2),   d = BN(DepthwiseConv_kxk(ReLU(BN(z))))

and returns ``z * g``.  Unlike ReLU, the gate of a pixel depends on its
neighbourhood (the k x k depthwise convolution), which lets much smaller
networks reach the same restoration quality.  The square is written as
``d * d * -1.0`` (not ``square``/``neg``) so the layer stays fully int8 in
TFLite.  Batch-norm settings default to PyTorch's (epsilon 1e-5, momentum 0.1)
so the authors' weights port exactly.

Example::

    import keras
    from zoo.layers import XUnit
    x = keras.Input((None, None, 3))
    z = keras.layers.Conv2D(32, 3, padding="same")(x)
    y = XUnit(kernel_size=9)(z)
"""

from __future__ import annotations

import keras
from keras import layers, ops

from zoo.layers.batch_norm import BatchNormalization


@keras.saving.register_keras_serializable(package="zoo")
class XUnit(layers.Layer):
    """xUnit activation: ``z * exp(-(BN(dwconv(ReLU(BN(z)))))^2)``.

    Args:
        kernel_size: size of the depthwise spatial kernel (9 in the paper).
        batch_norm: use the two batch normalisations (True in the paper);
            False gives ``z * exp(-(dwconv(ReLU(z)))^2)``.
        bn_epsilon, bn_momentum: batch-norm settings (PyTorch defaults).
        gate_clip: if set, ``d`` is clipped to ``[-gate_clip, gate_clip]`` before squaring.
            The gate changes by at most ``exp(-gate_clip^2)`` (1.2e-4 for 3.0), but int8
            TFLite then spends its 256 levels of ``d^2`` on ``[0, gate_clip^2]`` instead of
            the calibration maximum, which is what keeps a gate near 1 from snapping to ~0.87.
            None (default) is the paper's layer.
    """

    def __init__(self, kernel_size=9, batch_norm=True, bn_epsilon=1e-5, bn_momentum=0.9,
                 depthwise_initializer="glorot_uniform", gate_clip=None, **kwargs):
        super().__init__(**kwargs)
        if int(kernel_size) < 1 or int(kernel_size) % 2 == 0:
            raise ValueError(f"kernel_size must be a positive odd number, got {kernel_size}")
        self.kernel_size = int(kernel_size)
        self.batch_norm = bool(batch_norm)
        self.bn_epsilon = float(bn_epsilon)
        self.bn_momentum = float(bn_momentum)
        if gate_clip is not None and not float(gate_clip) > 0:
            raise ValueError(f"gate_clip must be a positive number or None, got {gate_clip}")
        self.gate_clip = None if gate_clip is None else float(gate_clip)
        self.depthwise_initializer = keras.initializers.get(depthwise_initializer)
        if self.batch_norm:
            self.bn_in = BatchNormalization(epsilon=self.bn_epsilon, momentum=self.bn_momentum, name="bn_in")
            self.bn_out = BatchNormalization(epsilon=self.bn_epsilon, momentum=self.bn_momentum, name="bn_out")
        self.depthwise = layers.DepthwiseConv2D(
            self.kernel_size, padding="same", use_bias=True,
            depthwise_initializer=self.depthwise_initializer, name="depthwise",
        )

    def build(self, input_shape):
        sublayers = [self.depthwise] + ([self.bn_in, self.bn_out] if self.batch_norm else [])
        for sub in sublayers:
            if not sub.built:
                sub.build(input_shape)
        self.built = True

    def gate(self, z, training=None):
        """The multiplicative gate ``exp(-d^2)`` in (0, 1]."""
        if not self.built:
            self.build(z.shape)
        a = self.bn_in(z, training=training) if self.batch_norm else z
        a = ops.relu(a)
        d = self.depthwise(a)
        if self.batch_norm:
            d = self.bn_out(d, training=training)
        if self.gate_clip is not None:
            d = ops.clip(d, -self.gate_clip, self.gate_clip)
        return ops.exp(d * d * -1.0)

    def call(self, z, training=None):
        return z * self.gate(z, training=training)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            kernel_size=self.kernel_size,
            batch_norm=self.batch_norm,
            bn_epsilon=self.bn_epsilon,
            bn_momentum=self.bn_momentum,
            depthwise_initializer=keras.initializers.serialize(self.depthwise_initializer),
            gate_clip=self.gate_clip,
        )
        return config
