"""Deep K-SVD (Scetbon, Elad, Milanfar, "Deep K-SVD Denoising", IEEE TIP 2021) as one
serializable layer.

The forward pass is the authors' ``DenoisingNet_MLP`` (meyerscetbon/Deep-K-SVD,
``Deep_KSVD.py``).  Their images live in [-1, 1] (``Normalize(mean=255/2, std=255/2)``); the
layer takes the zoo's [0, 1] images, maps them with ``y = 2 x - 1``, and maps the result back
with ``(r + 1) / 2``, so their trained weights apply unchanged.  On the [-1, 1] image:

1. every overlapping ``p x p`` patch (stride 1, no padding) as a vector ``y`` of ``p^2`` pixels
   in row-major order -- **no mean subtraction** (the authors feed the raw patch);
2. ``lambda = MLP(y)``: Dense ``p^2 -> 128 -> 64 -> 32 -> 1``, ReLU on the hidden layers, the
   output **linear** (lambda is not forced positive);
3. with ``D`` the ``p^2 x m^2`` dictionary and ``c`` the learnt step (a scalar)::

       b   = D^T y                       S = I - D^T D / c
       z_0 = ST(b, lambda / c)           (no 1/c on the first step, as theirs)
       z_t = ST(z_{t-1} S + b / c, lambda / c)      t = 1 .. T   (T = ``unfoldings``)

   with ``ST(v, l) = sign(v) max(|v| - l, 0)`` (their form, also for a negative ``l``);
   so ``T`` unfoldings are ``T + 1`` thresholdings;
4. patch estimate ``x_hat = clip(D z_T, -1, 1)``;
5. ``r = sum(w * x_hat) / sum(w)`` over the patches covering each pixel, ``w`` a learnt weight
   per patch pixel (``p^2`` values).

Learnt: ``D``, ``c``, the MLP and ``w`` -- all of the authors' parameters, nothing else.
Initialisation as their training script: ``D`` the overcomplete separable 2-D DCT of
``init_dct(8, 16)`` (64 x 256, unit columns, atom 0 constant), ``c = ||D||_2^2``,
``w ~ N(1, 0.1)``, the MLP with Keras' default (Glorot) initialisers -- PyTorch's ``Linear``
default differs; only the initial values, not the model, depend on it.  The authors train
with ``T = 5`` and evaluate their checkpoint with ``T = 7``.

TFLite-friendly: the patches come from a convolution with a fixed identity kernel (``p^2``
filters), the overlapping sum ("col2im", torch ``fold``) is a zero padding of ``p - 1`` and a
convolution with the flipped identity kernel -- the transposed convolution of the extraction --
and the rest is matmuls and element-wise ops (no ``extract_patches``, no Lambda).

Porting a PyTorch checkpoint: ``Dict -> dictionary``, ``c -> step``, ``w -> w``,
``linear{k}.weight.T / .bias -> mlp{k}.kernel / .bias``.

Example::

    import keras
    from zoo.layers.deep_ksvd import DeepKSVD
    y = keras.Input((None, None, 1))
    x = DeepKSVD(unfoldings=7)(y)
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers, ops


def overcomplete_dct(patch_size: int = 8, atoms_per_dim: int = 16) -> np.ndarray:
    """The authors' ``init_dct(n, m)``: ``(n^2, m^2)`` separable overcomplete DCT, unit columns.

    1-D atoms ``cos(i k pi / m)``, ``i = 0 .. n-1``, the mean removed for ``k > 0`` and
    normalised; the 2-D dictionary is their Kronecker product with the rows taken in the
    authors' order (Fortran to C), so atom ``k1 * m + k2`` is ``A[:, k2] A[:, k1]^T`` as an
    ``n x n`` patch (rows, columns).  Atom 0 is the constant ``1 / n``.
    """
    n, m = int(patch_size), int(atoms_per_dim)
    a = np.zeros((n, m))
    for k in range(m):
        v = np.cos(np.arange(n) * k * np.pi / m)
        if k > 0:
            v = v - v.mean()
        a[:, k] = v / np.linalg.norm(v)
    d = np.kron(a, a)
    d = d / np.sqrt((d ** 2).sum(axis=0))
    order = np.arange(n * n).reshape(n, n, order="F").reshape(n * n, order="C")
    return d[order, :]


def _identity_patch_kernel(p: int) -> np.ndarray:
    """``(p, p, 1, p^2)`` kernel: output channel ``i p + j`` is the pixel at offset ``(i, j)``."""
    kernel = np.zeros((p, p, 1, p * p), np.float32)
    for i in range(p):
        for j in range(p):
            kernel[i, j, 0, i * p + j] = 1.0
    return kernel


def _fold_kernel(p: int) -> np.ndarray:
    """``(p, p, p^2, 1)`` kernel of the overlapping-patch sum after zero padding by ``p - 1``.

    Output pixel ``q`` gets, from the patch starting at ``q - p + 1 + (a, b)`` (window position
    ``(a, b)``), its pixel at offset ``(p - 1 - a, p - 1 - b)`` -- the one that lands on ``q``.
    """
    kernel = np.zeros((p, p, p * p, 1), np.float32)
    for a in range(p):
        for b in range(p):
            kernel[a, b, (p - 1 - a) * p + (p - 1 - b), 0] = 1.0
    return kernel


@keras.saving.register_keras_serializable(package="zoo")
class DeepKSVD(layers.Layer):
    """Deep K-SVD denoiser: patch-wise LISTA with an MLP-predicted threshold, weighted averaging.

    Input ``(N, H, W, 1)`` noisy grey image in [0, 1], ``H, W >= patch_size``; output the
    denoised image, same shape (not clipped to [0, 1] in general, but every patch estimate is
    clipped to the image range before the averaging).

    Args:
        patch_size: patch side ``p`` (8 in the paper).
        atoms_per_dim: 1-D DCT atoms ``m``; the dictionary has ``m^2`` atoms (16 -> 256).
        unfoldings: ``T``, LISTA steps after the first thresholding (authors: 5 to train,
            7 to test).
        mlp_units: hidden widths of the lambda MLP (128, 64, 32).

    Weights: ``dictionary (p^2, m^2)``, ``step (1,)`` (``c``), ``w (p^2,)``, and the Dense
    sublayers ``mlp1`` .. ``mlp4``.
    """

    def __init__(self, patch_size=8, atoms_per_dim=16, unfoldings=7, mlp_units=(128, 64, 32), **kwargs):
        super().__init__(**kwargs)
        if int(unfoldings) < 0:
            raise ValueError(f"unfoldings must be >= 0, got {unfoldings}")
        if int(patch_size) < 2 or int(atoms_per_dim) < 1:
            raise ValueError(f"need patch_size >= 2 and atoms_per_dim >= 1, got {patch_size}, {atoms_per_dim}")
        # not called kernel_size: zoo.restore.receptive_radius reads that attribute as a conv's
        self.patch_size = int(patch_size)
        self.atoms_per_dim = int(atoms_per_dim)
        self.unfoldings = int(unfoldings)
        self.mlp_units = tuple(int(u) for u in mlp_units)
        self.mlp = [layers.Dense(u, activation="relu", name=f"mlp{i + 1}") for i, u in enumerate(self.mlp_units)]
        self.mlp.append(layers.Dense(1, name=f"mlp{len(self.mlp_units) + 1}"))
        p = self.patch_size
        self._extract = _identity_patch_kernel(p)
        self._fold = _fold_kernel(p)

    # -- tiling contract (zoo.restore) -----------------------------------------------------

    @property
    def receptive_radius(self) -> int:
        """An output pixel depends on the patches covering it: ``p - 1`` pixels each side."""
        return self.patch_size - 1

    @property
    def min_input_size(self) -> int:
        """At least one whole patch."""
        return self.patch_size

    @property
    def tile_alignment(self) -> int:
        """Stride-1 patches: any tile offset sees the same patches."""
        return 1

    # -------------------------------------------------------------------------------------

    def build(self, input_shape):
        if input_shape[-1] not in (None, 1):
            raise ValueError(f"DeepKSVD takes one-channel images, got input shape {tuple(input_shape)}")
        p2, atoms = self.patch_size ** 2, self.atoms_per_dim ** 2
        width = p2
        for dense in self.mlp:
            dense.build((None, None, None, width))
            width = dense.units
        dct = overcomplete_dct(self.patch_size, self.atoms_per_dim).astype("float32")
        self.dictionary = self.add_weight(name="dictionary", shape=(p2, atoms), initializer="zeros")
        self.dictionary.assign(dct)
        # c_init = ||D||_2^2 (squared spectral norm), as the authors' training script
        c = float(np.linalg.norm(dct.astype(np.float64), ord=2) ** 2)
        self.step = self.add_weight(name="step", shape=(1,), initializer=keras.initializers.Constant(c))
        self.w = self.add_weight(name="w", shape=(p2,),
                                 initializer=keras.initializers.RandomNormal(mean=1.0, stddev=0.1))
        self.built = True

    # -- the pieces ------------------------------------------------------------------------

    @staticmethod
    def soft_threshold(v, t):
        """``sign(v) max(|v| - t, 0)`` -- the authors' form (differs from v -+ t for t < 0).

        Written with selects instead of ``sign`` (no int8 kernel in TFLite): the same values,
        0 included, for any ``t``.
        """
        return ops.where(v > 0, ops.relu(v - t), 0.0) - ops.where(v < 0, ops.relu(v * -1.0 - t), 0.0)

    def patches(self, y):
        """``(N, H, W, 1) -> (N, H - p + 1, W - p + 1, p^2)``: every patch, row-major."""
        return ops.conv(y, ops.convert_to_tensor(self._extract), strides=1, padding="valid")

    def fold(self, v):
        """``(N, h, w, p^2) -> (N, h + p - 1, w + p - 1, 1)``: sum of the overlapping patches."""
        k = self.patch_size - 1
        v = ops.pad(v, [[0, 0], [k, k], [k, k], [0, 0]])
        return ops.conv(v, ops.convert_to_tensor(self._fold), strides=1, padding="valid")

    def threshold(self, y):
        """The per-patch lambda of the MLP, ``(N, h, w, 1)``."""
        for dense in self.mlp:
            y = dense(y)
        return y

    def sparse_code(self, y, lam):
        """``T`` unfoldings of the authors' LISTA on the patches ``y``; returns ``z_T``."""
        d = self.dictionary
        c = self.step
        t = lam / c
        b = ops.matmul(y, d)
        s = ops.eye(self.atoms_per_dim ** 2, dtype=d.dtype) - ops.matmul(ops.transpose(d), d) / c
        z = self.soft_threshold(b, t)
        for _ in range(self.unfoldings):
            z = self.soft_threshold(ops.matmul(z, s) + b / c, t)
        return z

    def call(self, x):
        y = x * 2.0 - 1.0  # the authors' [-1, 1] images
        patches = self.patches(y)
        z = self.sparse_code(patches, self.threshold(patches))
        estimate = ops.clip(ops.matmul(z, ops.transpose(self.dictionary)), -1.0, 1.0)
        numerator = self.fold(estimate * self.w)
        denominator = self.fold(ops.ones_like(estimate) * self.w)
        return (numerator / denominator + 1.0) * 0.5

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            patch_size=self.patch_size,
            atoms_per_dim=self.atoms_per_dim,
            unfoldings=self.unfoldings,
            mlp_units=list(self.mlp_units),
        )
        return config
