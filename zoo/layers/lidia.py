"""LIDIA (Vaksman, Elad, Milanfar, "LIDIA: Lightweight Learned Image Denoising with Instance
Adaptation", CVPR Workshops 2020) as serializable Keras layers, grey images.

The forward pass is the authors' inference pipeline (grishavak/LIDIA-denoiser,
``code/modules.py``: ``NonLocalDenoiser.forward`` with ``train=False``), rewritten with
Keras/TensorFlow ops.  The authors' images live in [-1, 1] (``(x - 0.5) / 0.5``); the layer takes
the zoo's [0, 1] images, maps them with ``y = 2 x - 1`` and maps the result back with
``(r + 1) / 2``, so their weights apply unchanged.  On the [-1, 1] image ``y`` (``N x H x W``):

1. **Global mean.** ``m = mean(y)`` per image; the network sees ``y - m`` and ``m`` is added back.
2. **Scale 0.** ``y0`` = ``y - m`` reflect-padded by 6 (the patch side ``p = 7`` minus 1), then
   padded with the **constant -1** by 14 (the search half-window).  Every 7 x 7 patch of the
   reflect-padded image (``(H + 6) x (W + 6)`` patches, stride 1) is a *reference patch*.
3. **Scale 1.** ``y - m`` reflect-padded by 10, blurred by the 3 x 3 kernel
   ``[1, 2, 1]^T [1, 2, 1] / 16`` ("valid"), padded with -1 by 28.  Its patches are 7 x 7 with
   **dilation 2** (13 x 13 footprint); reference patch ``(i, j)`` of this scale is concentric with
   reference patch ``(i, j)`` of scale 0, so both scales have the same ``(H + 6) x (W + 6)`` grid.
4. **Nearest neighbours** (``NonLocalDenoiser.find_nn``), per scale: the squared Euclidean
   distance between the reference patch and the patches displaced by ``s (dr, dc)``,
   ``dr, dc in [-14, 14]`` (``s`` = 1 at scale 0, 2 at scale 1: the authors search the four
   polyphase components of the scale-1 image separately, which is the same set), i.e. 29 x 29 =
   841 candidates, **including** candidates lying partly or wholly in the -1 padding; keep the 14
   closest, sorted (the first is the reference patch itself, distance 0).  Equal distances go to
   the lower candidate number ``dr * 29 + dc``.  Besides identical patches (the -1 padding), the
   reflect padding makes exactly equidistant pairs: mirror-image candidates of a reference patch
   centred on the image border.  The authors' float32 ``conv2d`` breaks those ties by rounding
   noise (an arbitrary order, which can also differ between their CPU and GPU runs); here the
   distances are summed in mirror-symmetric order so they tie exactly and the order is defined.
5. **Per-patch network** (``PatchDenoiseNet``), for each reference patch, both scales:
   features ``f = [d_1 .. d_13, 49/48 * sum((q - mean(q))^2)]`` (the 13 neighbour distances and
   49 times the unbiased variance of the reference patch ``q``), neighbour weights
   ``w = WeightsNet(exp(-|alpha| f))`` (:class:`LidiaWeightsNet`), weighted neighbours
   ``w_k * patch_k`` as a 14 x 49 matrix; separable fully-connected layers
   (:class:`SeparableFC`: ``W_hor X W_ver^T + B``, the "horizontal" matrix mixing the 14
   neighbours, the "vertical" one the 49 pixels, optional batch norm over the neighbour axis,
   ReLU) -- part 1 per scale, then an **aggregation** branch per scale (project to one 49-pixel
   patch, average the overlapping patches into an image, re-extract the patches; scale 1 divides
   by its first neighbour weight before, blurs the aggregated image, and multiplies by that weight
   after), then part 2 on the 56 x 64 concatenation ``[x0, x1, agg0, agg1]``, which predicts the
   noise of the reference patch.  Denoised patch ``q - noise``, patch weight
   ``exp(-|beta| mean((q' - mean(q'))^2))``.
6. **Aggregation**: the weighted average of the overlapping denoised patches, cropped back to
   ``H x W``; plus ``m``.

LIDIA-S (``small=True``) drops the second separable layer of part 1 (both scales) and of part 2,
and their mixing scalars ``a`` (``x <- a x + (1 - a) layer(x)`` in the full net).

Implementation notes: the distances are box sums of squared differences (no ``|a|^2 + |b|^2 -
2ab`` shortcut, so the reference patch is at distance exactly 0 and always first); the search
keeps a running top-14, merged with blocks of 4 rows of the window (``top_k`` over 14 + 116
candidates; it selects the same neighbours as a top-14 over all 841 with less memory); patches are
extracted and folded with fixed one-hot convolution kernels (as ``zoo.layers.deep_ksvd``).  The
per-patch network runs on chunks of ``chunk_size`` patches (the authors' ``max_chunk``; a Python
loop when eager, ``tf.map_fn`` in a graph), and part 1 is computed twice (once for the
aggregation branch, once with part 2) rather than holding 2 x 14 x 64 features per patch: a
512 x 512 image runs in about 1.5 GB (process peak).  A fixed-size graph is TFLite builtin ops
(the map_fn of a dynamic-size graph is not).

Only the inference pipeline is reproduced: the authors train on crops (``train=True`` crops the
borders instead of padding them) with batch norm in training mode; training this layer trains
its inference form.

Example::

    import keras
    from zoo.layers.lidia import Lidia
    y = keras.Input((None, None, 1))
    x = Lidia(small=False)(y)     # 61,589 trainable parameters
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers, ops

from zoo.layers.deep_ksvd import _identity_patch_kernel

PATCH = 7  #: patch side (grey)
NEIGHBOURS = 14  #: neighbours per patch, the patch itself included
HALF_WINDOW = 14  #: search offsets -14 .. 14 (x 2 at scale 1)
FEATURES = 64  #: the separable layers' "vertical" width (``ver_size``)
BLUR_1D = (0.25, 0.5, 0.25)


def blur_kernel() -> np.ndarray:
    """The authors' 3 x 3 ``bilinear_conv`` weight ``[1, 2, 1]^T [1, 2, 1] / 16``, ``(3, 3)``."""
    k = np.asarray(BLUR_1D, np.float32)
    return np.outer(k, k).astype(np.float32)


def _fold_kernel(p: int) -> np.ndarray:
    """``(p, p, p^2, 1)``: after zero padding by ``(p - 1) d`` (dilation ``d``), a "valid"
    convolution with this kernel sums the overlapping patches (torch ``fold``)."""
    kernel = np.zeros((p, p, p * p, 1), np.float32)
    for a in range(p):
        for b in range(p):
            kernel[a, b, (p - 1 - a) * p + (p - 1 - b), 0] = 1.0
    return kernel


def extract_patches(image, dilation: int = 1):
    """``(N, H, W, 1) -> (N, H - 6d, W - 6d, 49)``: every 7 x 7 patch (dilation ``d``), row-major
    (torch ``unfold`` order)."""
    return ops.conv(image, ops.convert_to_tensor(_identity_patch_kernel(PATCH)), strides=1,
                    padding="valid", dilation_rate=dilation)


def fold_patches(patches, dilation: int = 1):
    """``(N, h, w, 49) -> (N, h + 6d, w + 6d, 1)``: the sum of the overlapping patches (torch
    ``fold``), the adjoint of :func:`extract_patches`."""
    k = (PATCH - 1) * dilation
    padded = ops.pad(patches, [[0, 0], [k, k], [k, k], [0, 0]])
    return ops.conv(padded, ops.convert_to_tensor(_fold_kernel(PATCH)), strides=1, padding="valid",
                    dilation_rate=dilation)


def average_patches(patches, dilation: int = 1):
    """Fold and divide by the number of patches covering each pixel (``Aggregation0/1``)."""
    # Pixels no patch covers (count 0) lie in the padding that is cropped away later; dividing
    # them by 1 instead of 0 keeps int8 TFLite's DIV (which refuses a zero divisor) usable.
    counts = ops.maximum(fold_patches(ops.ones_like(patches), dilation), 1.0)
    return fold_patches(patches, dilation) / counts


def _symmetric_filter(x, axis: int, weights, dilation: int = 1):
    """1-D "valid" filter with symmetric ``weights`` along ``axis`` (1 or 2) with taps ``0, d, ..``,
    computed as ``sum_k w_k (t_k + t_{n-1-k})`` (+ the middle tap): each pair sum is commutative,
    so mirror-image windows give bitwise equal results, and the patches the reflect padding makes
    equidistant tie exactly (and go to the lower candidate number) instead of by rounding noise.
    The pair sums are stacked and reduced (not chained with ``+``) so that graph optimisers, which
    re-associate chains of additions, keep the symmetry."""
    n = len(weights)
    span = (n - 1) * dilation

    def tap(k):
        start, stop = k * dilation, k * dilation - span
        index = slice(start, stop if stop < 0 else None)
        return x[:, index] if axis == 1 else x[:, :, index]

    terms = []
    for k in range((n + 1) // 2):
        t = tap(k) if 2 * k == n - 1 else tap(k) + tap(n - 1 - k)
        terms.append(t if weights[k] == 1.0 else t * weights[k])
    return ops.sum(ops.stack(terms, axis=0), axis=0)


def _box_sum(x, dilation: int):
    """Sum over the 7 x 7 windows (dilation ``d``), "valid", per channel: rows then columns."""
    ones = (1.0,) * PATCH
    return _symmetric_filter(_symmetric_filter(x, 1, ones, dilation), 2, ones, dilation)


def blur(x):
    """The 3 x 3 ``[1, 2, 1]^T [1, 2, 1] / 16`` blur, "valid" (rows then columns; the weights are
    powers of two, so only the additions round)."""
    return _symmetric_filter(_symmetric_filter(x, 1, BLUR_1D), 2, BLUR_1D)


def nearest_neighbours(padded, step: int = 1, rows_per_merge: int = 4):
    """Per reference patch, the 14 nearest of the 29 x 29 patches displaced by ``step`` x
    ``(-14 .. 14)`` (the authors' ``find_nn``; ``step`` 2 is the scale-1 search).

    ``padded``: ``(N, Hp, Wp, 1)``, the image padded by ``14 step`` on each side (the reference
    patches are those of the central region). Returns ``(distances, candidates)``, both
    ``(N, Hp - 34 step, Wp - 34 step, 14)``, sorted by increasing distance: the squared Euclidean
    distances (float) and the candidate numbers ``dr * 29 + dc`` (int32) with ``dr, dc in
    0 .. 28`` (the displacement is ``step * (dr - 14, dc - 14)``).

    The window is scanned by rows ``dr``: row 0, then blocks of ``rows_per_merge`` rows, each
    merged into the running top-14 by one ``top_k`` (the running entries first, so equal
    distances keep the lower candidate number) -- the same 14 as one ``top_k`` over all 841, with
    a fraction of the memory (``top_k`` is costly per call, hence blocks rather than single rows;
    the loop is not unrolled, which keeps graphs small).
    """
    window = 2 * HALF_WINDOW + 1
    if (window - 1) % rows_per_merge:
        raise ValueError(f"rows_per_merge must divide {window - 1}, got {rows_per_merge}")
    margin = HALF_WINDOW * step
    ref = padded[:, margin:-margin, margin:-margin, :]
    rows = ops.shape(ref)[1]

    def row_distances(row):
        """``(N, h, w, 29)``: the distances to candidates ``row * 29 + 0 .. 28``."""
        slab = ops.slice(padded, (0, row * step, 0, 0), (-1, rows, -1, -1))
        shifted = ops.concatenate(
            [slab[:, :, dc * step:((dc * step - 2 * margin) or None), :] for dc in range(window)], axis=-1)
        return _box_sum(ops.square(shifted - ref), step)

    def distances(first_row, count):
        """``(N, h, w, 29 count)``: candidates ``first_row * 29 + 0, 1, ..`` in order (computed row
        by row, which bounds the temporaries of the box sums)."""
        return ops.concatenate([row_distances(first_row + j) for j in range(count)], axis=-1)

    neg, pos = ops.top_k(-distances(0, 1), NEIGHBOURS, sorted=True)
    state = (-neg, pos)

    def body(i, state):
        best_d, best_k = state
        first_row = 1 + i * rows_per_merge
        neg, pos = ops.top_k(-ops.concatenate([best_d, distances(first_row, rows_per_merge)], axis=-1),
                             NEIGHBOURS, sorted=True)
        kept = ops.take_along_axis(best_k, ops.minimum(pos, NEIGHBOURS - 1), axis=-1)
        new = first_row * window + pos - NEIGHBOURS
        return -neg, ops.where(pos < NEIGHBOURS, kept, new)

    return ops.fori_loop(0, (window - 1) // rows_per_merge, body, state)


# ----------------------------------------------------------------------------- the layers


@keras.saving.register_keras_serializable(package="zoo")
class SeparableFC(layers.Layer):
    """The authors' ``VerHorMat`` / ``VerHorBnRe``: ``Y = W_hor X W_ver^T + B`` on a ``rows x
    cols`` matrix per sample, then optional batch norm (one channel per output row) and ReLU.

    Input ``(..., rows_in, cols_in)``, output ``(..., rows, cols)``.  Weights: ``ver``
    ``(cols_in, cols)`` (torch ``ver.weight`` transposed), ``hor`` ``(rows_in, rows)`` (torch
    ``hor.weight`` transposed), ``bias`` ``(rows, cols)`` (torch ``b``), and the sublayer ``bn``
    (``keras.layers.BatchNormalization(axis=-2)``, PyTorch's epsilon 1e-5).
    """

    def __init__(self, rows, cols, batch_norm=False, relu=False, **kwargs):
        super().__init__(**kwargs)
        self.rows = int(rows)
        self.cols = int(cols)
        self.batch_norm = bool(batch_norm)
        self.relu = bool(relu)
        self.bn = layers.BatchNormalization(axis=-2, epsilon=1e-5, momentum=0.9, name="bn") if batch_norm else None

    def build(self, input_shape):
        rows_in, cols_in = int(input_shape[-2]), int(input_shape[-1])
        self.ver = self.add_weight(name="ver", shape=(cols_in, self.cols), initializer="glorot_uniform")
        self.hor = self.add_weight(name="hor", shape=(rows_in, self.rows), initializer="glorot_uniform")
        self.bias = self.add_weight(name="bias", shape=(self.rows, self.cols),
                                    initializer=keras.initializers.RandomNormal(stddev=0.05))
        if self.bn is not None:
            self.bn.build((None, self.rows, self.cols))
        self.built = True

    def call(self, x, training=None):
        rows_in, cols_in = self.hor.shape[0], self.ver.shape[0]
        y = ops.matmul(ops.reshape(x, (-1, cols_in)), self.ver)  # (S rows_in, cols)
        y = ops.transpose(ops.reshape(y, (-1, rows_in, self.cols)), (0, 2, 1))  # (S, cols, rows_in)
        y = ops.matmul(ops.reshape(y, (-1, rows_in)), self.hor)  # (S cols, rows)
        y = ops.transpose(ops.reshape(y, (-1, self.cols, self.rows)), (0, 2, 1)) + self.bias
        if self.bn is not None:
            y = self.bn(y, training=training)
        if self.relu:
            y = ops.relu(y)
        return y

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.rows, self.cols)

    def get_config(self):
        config = super().get_config()
        config.update(rows=self.rows, cols=self.cols, batch_norm=self.batch_norm, relu=self.relu)
        return config


@keras.saving.register_keras_serializable(package="zoo")
class LidiaWeightsNet(layers.Layer):
    """The authors' ``FcNet``: 6 x [Dense 14 -> 14 without bias, batch norm, ReLU], Dense 14 -> 14
    with bias; maps the 14 similarity features of a patch to its 14 neighbour weights."""

    def __init__(self, units=NEIGHBOURS, depth=6, **kwargs):
        super().__init__(**kwargs)
        self.units = int(units)
        self.depth = int(depth)
        self.fc = [layers.Dense(self.units, use_bias=False, name=f"fc{i}") for i in range(self.depth)]
        self.bn = [layers.BatchNormalization(epsilon=1e-5, momentum=0.9, name=f"bn{i}") for i in range(self.depth)]
        self.fc_out = layers.Dense(self.units, name="fc_out")

    def build(self, input_shape):
        for fc, bn in zip(self.fc, self.bn):
            fc.build((None, self.units))
            bn.build((None, self.units))
        self.fc_out.build((None, self.units))
        self.built = True

    def call(self, x, training=None):
        for fc, bn in zip(self.fc, self.bn):
            x = ops.relu(bn(fc(x), training=training))
        return self.fc_out(x)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        config = super().get_config()
        config.update(units=self.units, depth=self.depth)
        return config


@keras.saving.register_keras_serializable(package="zoo")
class Lidia(layers.Layer):
    """LIDIA / LIDIA-S grey denoiser: noisy ``(N, H, W, 1)`` in [0, 1] -> denoised, same shape
    (not clipped).  ``H, W >= 11`` (the scale-1 reflect padding is 10 pixels, as the authors').

    Args:
        small: LIDIA-S (40,226 trainable parameters) instead of LIDIA (61,589).
        chunk_size: patches per chunk of the per-patch network (memory vs. overhead only; the
            result does not depend on it).

    Sublayers (named after the authors' modules): ``weights_net0/1``
    (:class:`LidiaWeightsNet`), ``part1_s{0,1}_0`` and (full net) ``part1_s{0,1}_1``,
    ``agg{0,1}_pre``, ``agg{0,1}_post``, ``part2_0``, (full net) ``part2_1``, ``part2_out``
    (:class:`SeparableFC`); scalars ``alpha0``, ``alpha1``, ``beta`` and (full net) the mixing
    weights ``a_s0``, ``a_s1``, ``a_part2``.
    """

    def __init__(self, small=False, chunk_size=4096, **kwargs):
        super().__init__(**kwargs)
        self.small = bool(small)
        self.chunk_size = int(chunk_size)
        if self.chunk_size < 1:
            raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
        f, k, p2 = FEATURES, NEIGHBOURS, PATCH * PATCH
        self.weights_net0 = LidiaWeightsNet(name="weights_net0")
        self.weights_net1 = LidiaWeightsNet(name="weights_net1")
        self.part1 = []
        for s in (0, 1):
            stage = [SeparableFC(k, f, relu=True, name=f"part1_s{s}_0")]
            if not self.small:
                stage.append(SeparableFC(k, f, batch_norm=True, relu=True, name=f"part1_s{s}_1"))
            self.part1.append(stage)
        self.agg_pre = [SeparableFC(1, p2, name=f"agg{s}_pre") for s in (0, 1)]
        self.agg_post = [SeparableFC(k, f, relu=True, name=f"agg{s}_post") for s in (0, 1)]
        self.part2 = [SeparableFC(4 * k, f, batch_norm=True, relu=True, name="part2_0")]
        if not self.small:
            self.part2.append(SeparableFC(4 * k, f, batch_norm=True, relu=True, name="part2_1"))
        self.part2_out = SeparableFC(1, p2, name="part2_out")

    # -- tiling contract (zoo.restore) -----------------------------------------------------

    @property
    def receptive_radius(self) -> int:
        """Geometric reach of an output pixel, 51 pixels: the patches covering it (centres within
        3), the scale-1 patches sharing pixels of their aggregated and blurred scale-1 image (13),
        and those patches' scale-1 neighbours (displacement 28 + dilated half-footprint 6 + blur
        1 = 35).  The global mean subtraction makes the net not strictly local: a tiled run
        differs slightly from a whole-image run."""
        return 51

    @property
    def min_input_size(self) -> int:
        return 11

    @property
    def tile_alignment(self) -> int:
        return 1

    # -------------------------------------------------------------------------------------

    def build(self, input_shape):
        if input_shape[-1] not in (None, 1):
            raise ValueError(f"Lidia takes one-channel images, got input shape {tuple(input_shape)}")
        self._check_size(input_shape)
        f, k, p2 = FEATURES, NEIGHBOURS, PATCH * PATCH
        self.alpha0 = self.add_weight(name="alpha0", shape=(1,), initializer=keras.initializers.Constant(0.5))
        self.alpha1 = self.add_weight(name="alpha1", shape=(1,), initializer=keras.initializers.Constant(0.5))
        self.beta = self.add_weight(name="beta", shape=(1,), initializer=keras.initializers.Constant(0.5))
        if not self.small:
            self.a_s0 = self.add_weight(name="a_s0", shape=(1,), initializer="zeros")
            self.a_s1 = self.add_weight(name="a_s1", shape=(1,), initializer="zeros")
            self.a_part2 = self.add_weight(name="a_part2", shape=(1,), initializer="zeros")
        self.weights_net0.build((None, k))
        self.weights_net1.build((None, k))
        for stage in self.part1:
            stage[0].build((None, k, p2))
            for layer in stage[1:]:
                layer.build((None, k, f))
        for pre, post in zip(self.agg_pre, self.agg_post):
            pre.build((None, k, f))
            post.build((None, 1, p2))
        self.part2[0].build((None, 4 * k, f))
        for layer in self.part2[1:]:
            layer.build((None, 4 * k, f))
        self.part2_out.build((None, 4 * k, f))
        self.built = True

    # -- per-patch pieces ------------------------------------------------------------------

    @staticmethod
    def _mix(a, x, layer, training):
        return a * x + (1.0 - a) * layer(x, training=training)

    def _part1(self, scale, bank, idx, dist, training):
        """Neighbours, their weights and part 1 of one scale for a chunk of reference patches.

        ``idx`` ``(C, 14)`` rows of ``bank``; ``dist`` ``(C, 13)`` the distances of neighbours
        1 .. 13.  Returns the reference patch ``(C, 49)``, ``x`` ``(C, 14, 64)`` and the first
        neighbour weight ``(C, 1)``.
        """
        patches = ops.take(bank, idx, axis=0)  # (C, 14, 49)
        ref = patches[:, 0, :]
        centred = ref - ops.mean(ref, axis=-1, keepdims=True)
        n = PATCH * PATCH
        var = ops.sum(ops.square(centred), axis=-1, keepdims=True) * (n / (n - 1.0))  # 49 x unbiased var
        features = ops.concatenate([dist, var], axis=-1)
        alpha = self.alpha0 if scale == 0 else self.alpha1
        net = self.weights_net0 if scale == 0 else self.weights_net1
        weights = net(ops.exp(-ops.abs(alpha) * features), training=training)  # (C, 14)
        stage = self.part1[scale]
        x = stage[0](patches * weights[:, :, None], training=training)
        if len(stage) > 1:
            x = self._mix(self.a_s0 if scale == 0 else self.a_s1, x, stage[1], training)
        return ref, x, weights[:, :1]

    def _aggregation_inputs(self, banks, chunk, training):
        idx0, dist0, idx1, dist1 = chunk
        _, x0, _ = self._part1(0, banks[0], idx0, dist0, training)
        _, x1, w1 = self._part1(1, banks[1], idx1, dist1, training)
        y0 = self.agg_pre[0](x0, training=training)[:, 0, :]
        y1 = self.agg_pre[1](x1, training=training)[:, 0, :] / w1
        return y0, y1, w1

    def _denoised_patches(self, banks, chunk, training):
        idx0, dist0, idx1, dist1, agg0, agg1 = chunk
        ref, x0, _ = self._part1(0, banks[0], idx0, dist0, training)
        _, x1, _ = self._part1(1, banks[1], idx1, dist1, training)
        z0 = self.agg_post[0](agg0[:, None, :], training=training)
        z1 = self.agg_post[1](agg1[:, None, :], training=training)
        h = ops.concatenate([x0, x1, z0, z1], axis=1)  # (C, 56, 64)
        h = self.part2[0](h, training=training)
        if len(self.part2) > 1:
            h = self._mix(self.a_part2, h, self.part2[1], training)
        noise = self.part2_out(h, training=training)[:, 0, :]
        patch = ref - noise
        spread = ops.mean(ops.square(patch - ops.mean(patch, axis=-1, keepdims=True)), axis=-1, keepdims=True)
        weight = ops.exp(-ops.abs(self.beta) * spread)
        return patch * weight, weight

    def _map_chunks(self, fn, inputs, widths):
        """``fn(chunk)`` over chunks of the leading (patch) axis of ``inputs``; its outputs, of
        ``widths`` columns, concatenated."""
        import tensorflow as tf

        total = inputs[0].shape[0]
        size = self.chunk_size
        if isinstance(total, int) and total <= size:  # one chunk (e.g. a fixed-size TFLite export)
            return list(fn(inputs))
        if isinstance(total, int) and tf.executing_eagerly():  # eager: a Python loop
            parts = [fn([t[start:start + size] for t in inputs]) for start in range(0, total, size)]
            return [ops.concatenate(list(p), axis=0) for p in zip(*parts)]
        # a graph (any size): tf.map_fn over the chunks, the last one zero-padded
        total = tf.shape(inputs[0])[0]
        count = (total + size - 1) // size
        padded = []
        for t in inputs:
            pad = [[0, count * size - total]] + [[0, 0]] * (len(t.shape) - 1)
            t = tf.pad(t, pad)
            padded.append(tf.reshape(t, tf.concat([[count, size], tf.shape(t)[1:]], 0)))
        signature = tuple(tf.TensorSpec((size, w), self.compute_dtype) for w in widths)
        outs = tf.map_fn(lambda c: tuple(fn(list(c))), tuple(padded), fn_output_signature=signature)
        return [tf.reshape(o, (count * size, w))[:total] for o, w in zip(outs, widths)]

    # -------------------------------------------------------------------------------------

    def _check_size(self, shape):
        small = [d for d in tuple(shape)[1:3] if isinstance(d, int) and d < self.min_input_size]
        if small:
            raise ValueError(f"Lidia needs images of at least {self.min_input_size} x {self.min_input_size} "
                             f"pixels (its reflect padding is 10 pixels), got {tuple(shape)[1:3]}")

    def call(self, x, training=None):
        self._check_size(x.shape)
        y = x * 2.0 - 1.0
        mean = ops.mean(y, axis=(1, 2), keepdims=True)
        y = y - mean
        p = PATCH - 1
        # scale 0: reflect by 6, then -1 by 14
        img0 = ops.pad(y, [[0, 0], [p, p], [p, p], [0, 0]], mode="reflect")
        img0 = ops.pad(img0, [[0, 0], [HALF_WINDOW] * 2, [HALF_WINDOW] * 2, [0, 0]], constant_values=-1.0)
        # scale 1: reflect by 10, blur 3 x 3 (valid), then -1 by 28
        img1 = ops.pad(y, [[0, 0], [10, 10], [10, 10], [0, 0]], mode="reflect")
        img1 = blur(img1)
        img1 = ops.pad(img1, [[0, 0], [2 * HALF_WINDOW] * 2, [2 * HALF_WINDOW] * 2, [0, 0]], constant_values=-1.0)

        dist0, cand0 = nearest_neighbours(img0, 1)
        dist1, cand1 = nearest_neighbours(img1, 2)
        bank0 = extract_patches(img0, 1)  # (N, H + 34, W + 34, 49)
        bank1 = extract_patches(img1, 2)  # (N, H + 62, W + 62, 49)
        shape = ops.shape(dist0)
        n, gh, gw = shape[0], shape[1], shape[2]
        idx0 = self._bank_index(cand0, ops.shape(bank0), 1)
        idx1 = self._bank_index(cand1, ops.shape(bank1), 2)
        banks = (ops.reshape(bank0, (-1, PATCH * PATCH)), ops.reshape(bank1, (-1, PATCH * PATCH)))
        flat = lambda t, c: ops.reshape(t, (-1, c))  # noqa: E731
        per_patch = [flat(idx0, NEIGHBOURS), flat(dist0[..., 1:], NEIGHBOURS - 1),
                     flat(idx1, NEIGHBOURS), flat(dist1[..., 1:], NEIGHBOURS - 1)]

        # aggregation branch: one 49-pixel projection per patch and scale, averaged into images
        y0, y1, w1 = self._map_chunks(lambda c: self._aggregation_inputs(banks, c, training), per_patch,
                                      (PATCH * PATCH, PATCH * PATCH, 1))
        grid = lambda t: ops.reshape(t, (n, gh, gw, PATCH * PATCH))  # noqa: E731
        agg0 = extract_patches(average_patches(grid(y0), 1), 1)
        agg1 = average_patches(grid(y1), 2)
        agg1 = ops.pad(agg1, [[0, 0], [1, 1], [1, 1], [0, 0]], mode="reflect")
        agg1 = blur(agg1)
        agg1 = extract_patches(agg1, 2)
        agg0 = flat(agg0, PATCH * PATCH)
        agg1 = flat(agg1, PATCH * PATCH) * w1

        patches, weights = self._map_chunks(lambda c: self._denoised_patches(banks, c, training),
                                            per_patch + [agg0, agg1], (PATCH * PATCH, 1))
        numerator = fold_patches(grid(patches), 1)
        denominator = fold_patches(grid(weights * ops.ones_like(patches)), 1)
        out = numerator[:, p:-p, p:-p, :] / denominator[:, p:-p, p:-p, :] + mean
        return (out + 1.0) * 0.5

    @staticmethod
    def _bank_index(cand, bank_shape, step):
        """Candidate numbers ``(N, h, w, 14)`` -> rows of the flattened patch bank."""
        window = 2 * HALF_WINDOW + 1
        shape = ops.shape(cand)
        n, gh, gw = shape[0], shape[1], shape[2]
        bh, bw = bank_shape[1], bank_shape[2]
        rows = ops.reshape(ops.arange(gh, dtype="int32"), (1, -1, 1, 1)) + (cand // window) * step
        cols = ops.reshape(ops.arange(gw, dtype="int32"), (1, 1, -1, 1)) + (cand % window) * step
        image = ops.reshape(ops.arange(n, dtype="int32"), (-1, 1, 1, 1))
        return (image * bh + rows) * bw + cols

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(small=self.small, chunk_size=self.chunk_size)
        return config
