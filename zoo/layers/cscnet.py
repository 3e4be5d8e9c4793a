"""Convolutional LISTA of CSCNet (Simon & Elad, "Rethinking the CSC Model for Natural Images",
NeurIPS 2019) as one serializable layer.

Three strided dictionaries act on a grey image ``y`` (stride ``s``, ``F`` filters ``k x k``):
``B`` is an ``F``-channel strided convolution (analysis), ``A`` and ``C`` are transposed strided
convolutions back to one channel (synthesis).  With the soft threshold
``ST_t(v) = (v - t)[v > t] + (v + t)[v < -t]`` (one learnt ``t`` per filter, shared by all
unfoldings) the layer computes, exactly as the authors' ``ConvLista_T``::

    gamma_1     = ST(B y)
    gamma_{k+1} = ST(gamma_k - B(A gamma_k - y))      k = 1 .. unfoldings - 1
    x           = C gamma_K

i.e. ``B`` plays the role of ``A^T`` of ISTA (the *conv*, not a transposed conv, is ``B``), and
there is no bias, no input scaling and no mean subtraction: ``y`` is the noisy image in [0, 1].

Because the code is ``s``-times subsampled, the result depends on how the image sits on the
stride grid.  The authors therefore run every one of the ``s * s`` shifts (as one batch) and
average them: for shift ``(r, c)`` the image is **reflect**-padded by ``s - r`` on top, ``s - c``
on the left and ``p_h + s + r`` / ``p_w + s + c`` at the bottom / right, where ``p`` (0 .. s-1)
makes ``(size + s + p - k)`` a multiple of ``s`` (their ``calc_pad_sizes``); the strided
convolutions are unpadded ('valid'), so ``C gamma`` has exactly the padded size; the ``H x W``
window of the image is cut back out of each result and the ``s * s`` windows are averaged.
``shift_average=False`` runs the single shift ``(0, 0)`` instead (``s * s`` times cheaper, for
training or quick previews; the authors train and test with all shifts).

Reflect padding needs the image to be larger than the padding: at least ``3 s - 1`` pixels on
each side (23 for ``s = 8``).  Inputs are processed as one batch of ``N * s * s`` padded images
(memory grows accordingly: about 2 GB for a 512 x 512 image with the paper's settings).

Example::

    import keras
    from zoo.layers.cscnet import ConvLista
    y = keras.Input((None, None, 1))
    x = ConvLista(filters=175, kernel_size=11, stride=8, unfoldings=12)(y)
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers, ops

from zoo.layers.resample import counted_size


def _power_method_norm(kernel: np.ndarray, stride: int, needles: int = 12, iters: int = 60,
                       seed: int = 0) -> float:
    """Largest eigenvalue of ``D^T D`` for the strided synthesis ``D`` of ``kernel (k, k, F)``.

    The authors' initialisation (``conv_power_method``) on a small image of ``needles x
    needles`` code positions; plain numpy, a few milliseconds.
    """
    k, _, f = kernel.shape
    size = (needles - 1) * stride + k
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((needles, needles, f))
    for _ in range(iters):
        x /= np.linalg.norm(x)
        y = np.zeros((size, size))
        for u in range(k):
            for v in range(k):
                y[u:u + (needles - 1) * stride + 1:stride, v:v + (needles - 1) * stride + 1:stride] += x @ kernel[u, v]
        x = np.zeros((needles, needles, f))
        for u in range(k):
            for v in range(k):
                x += y[u:u + (needles - 1) * stride + 1:stride, v:v + (needles - 1) * stride + 1:stride, None] * kernel[u, v]
    return float(np.linalg.norm(x))


@keras.saving.register_keras_serializable(package="zoo")
class ConvLista(layers.Layer):
    """Convolutional LISTA (CSCNet): ``unfoldings`` ISTA steps with learnt strided dictionaries.

    Input ``(N, H, W, 1)``, output ``(N, H, W, 1)``: the reconstruction ``C gamma`` (CSCNet
    predicts the clean image itself, not the noise).

    Args:
        filters: number of atoms ``F`` (175 in the paper).
        kernel_size: atom size ``k`` (11).
        stride: dictionary stride ``s`` (8).
        unfoldings: number of ISTA steps ``K`` (12).
        shift_average: average the ``s * s`` shifted reconstructions (the paper; True) or run
            the single shift (0, 0).
        threshold_init: initial soft threshold (0.01 as in the authors' training code).

    Sublayers: ``apply_a``, ``apply_c`` (``Conv2DTranspose(1, k, strides=s)``), ``apply_b``
    (``Conv2D(F, k, strides=s)``), all unpadded and without bias; weight ``threshold (F,)``.
    A new layer is initialised like the authors' code: one Gaussian dictionary scaled by the
    square root of the largest eigenvalue of ``D^T D``, copied into ``A``, ``B`` and ``C``.
    """

    def __init__(self, filters=175, kernel_size=11, stride=8, unfoldings=12, shift_average=True,
                 threshold_init=0.01, **kwargs):
        super().__init__(**kwargs)
        if int(unfoldings) < 1:
            raise ValueError(f"unfoldings must be at least 1, got {unfoldings}")
        if int(stride) < 1 or int(kernel_size) < int(stride):
            raise ValueError(f"need 1 <= stride <= kernel_size, got stride {stride}, kernel_size {kernel_size}")
        self.filters = int(filters)
        # not called kernel_size: zoo.restore.receptive_radius reads that attribute as a conv's
        self.atom_size = int(kernel_size)
        self.stride = int(stride)
        self.unfoldings = int(unfoldings)
        self.shift_average = bool(shift_average)
        self.threshold_init = float(threshold_init)
        k, s = self.atom_size, self.stride
        self.apply_a = layers.Conv2DTranspose(1, k, strides=s, padding="valid", use_bias=False, name="apply_a")
        self.apply_b = layers.Conv2D(self.filters, k, strides=s, padding="valid", use_bias=False, name="apply_b")
        self.apply_c = layers.Conv2DTranspose(1, k, strides=s, padding="valid", use_bias=False, name="apply_c")

    @property
    def receptive_radius(self) -> int:
        """Pixels of context on each side an output pixel depends on (an upper bound).

        The first B and the final C each reach k - 1 pixels; every unfolding B(A gamma - y)
        links codes up to ceil((k - 1) / s) grid positions apart; the shifts add s.
        """
        k, s = self.atom_size, self.stride
        return 2 * (k - 1) + self.unfoldings * -(-(k - 1) // s) * s + s

    @property
    def tile_alignment(self) -> int:
        """Tiles must start on the code grid (multiples of the stride) to see the same phases."""
        return self.stride

    @property
    def min_input_size(self) -> int:
        """Smallest image side the unpadded strided dictionaries accept."""
        return 2 * self.atom_size + 1

    def build(self, input_shape):
        if input_shape[-1] not in (None, 1):
            raise ValueError(f"ConvLista takes one-channel images, got input shape {tuple(input_shape)}")
        code_shape = (None, None, None, self.filters)
        self.apply_b.build((None, None, None, 1))
        self.apply_a.build(code_shape)
        self.apply_c.build(code_shape)
        self.threshold = self.add_weight(
            name="threshold", shape=(self.filters,),
            initializer=keras.initializers.Constant(self.threshold_init),
        )
        # The authors' initialisation: A = randn / sqrt(||D^T D||), B = C = A.
        d = np.asarray(keras.initializers.RandomNormal(stddev=1.0)(
            (self.atom_size, self.atom_size, 1, self.filters)), dtype=np.float64)
        d /= np.sqrt(_power_method_norm(d[:, :, 0, :], self.stride))
        for sub in (self.apply_a, self.apply_b, self.apply_c):
            sub.kernel.assign(d.astype("float32"))
        self.built = True

    # -- the pieces ------------------------------------------------------------------------

    def soft_threshold(self, v):
        t = self.threshold
        return ops.where(v > t, v - t, 0.0) + ops.where(v < -t, v + t, 0.0)

    def lista(self, y):
        """The ``unfoldings`` ISTA steps on a padded image batch ``y``; returns ``C gamma``."""
        gamma = self.soft_threshold(self.apply_b(y))
        for _ in range(self.unfoldings - 1):
            residual = self.apply_b(self.apply_a(gamma) - y)
            gamma = self.soft_threshold(gamma - residual)
        return self.apply_c(gamma)

    def shifts(self):
        s = self.stride
        return [(r, c) for r in range(s) for c in range(s)] if self.shift_average else [(0, 0)]

    def call(self, x):
        s, k = self.stride, self.atom_size
        n = ops.shape(x)[0]
        h, w = counted_size(x, 1), counted_size(x, 2)
        # calc_pad_sizes: p makes (size + s + p - k) a multiple of s, then s more at the end.
        p_h = (s - (h + s - k) % s) % s
        p_w = (s - (w + s - k) % s) % s
        # One reflect padding big enough for every shift (s on top/left, 3s - 2 at the
        # bottom/right); shift (r, c) is the window starting at (r, c): reflection is the same
        # mapping of indices whatever the padding width, so this equals padding each shift.
        big = ops.pad(x, [[0, 0], [s, 3 * s - 2], [s, 3 * s - 2], [0, 0]], mode="reflect")
        size = ops.stack([n, h + 2 * s + p_h, w + 2 * s + p_w, 1])
        batch = [ops.slice(big, [0, r, c, 0], size) for r, c in self.shifts()]
        y = ops.concatenate(batch, axis=0) if len(batch) > 1 else batch[0]
        out = self.lista(y)  # (shifts * N, H_pad, W_pad, 1)
        total = None
        for i, (r, c) in enumerate(self.shifts()):
            window = ops.slice(out, ops.stack([i * n, s - r, s - c, 0]), ops.stack([n, h, w, 1]))
            total = window if total is None else total + window
        return total / float(len(self.shifts()))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            filters=self.filters,
            kernel_size=self.atom_size,
            stride=self.stride,
            unfoldings=self.unfoldings,
            shift_average=self.shift_average,
            threshold_init=self.threshold_init,
        )
        return config
