"""MATLAB-compatible ``imresize`` (bicubic, antialiased) in pure numpy.

Reproduces MATLAB's ``imresize(I, scale, 'bicubic')`` (Image Processing
Toolbox), which the super-resolution literature uses to make LR inputs and
the "bicubic" baseline:

* cubic convolution kernel with a = -0.5 (Keys);
* when shrinking (scale < 1) the kernel is stretched by 1/scale and its
  height scaled by ``scale`` (antialiasing);
* input coordinate of output pixel x (1-based): ``u = x/scale + 0.5*(1 - 1/scale)``;
* out-of-range taps mirror the border ('symmetric' padding, edge pixel
  repeated) through MATLAB's ``contributions()`` index table, and all-zero
  weight columns are dropped;
* output size ``ceil(in * scale)``; with an explicit output size, the scale
  of each axis is ``out / in``;
* axes are resized one after the other, smallest scale factor first (rows
  first when equal);
* floating input is computed in float64 and returned in the input's float
  dtype, unrounded; integer input (e.g. uint8) is rounded (half away from
  zero) and saturated after *each* axis pass, like MATLAB's ``imresizemex``.

Example::

    >>> import numpy as np
    >>> from zoo.data.imresize import imresize
    >>> imresize(np.ones((8, 6, 3)), 0.5).shape
    (4, 3, 3)
    >>> imresize(np.zeros((5, 5), np.uint8), output_shape=(10, 3)).dtype
    dtype('uint8')
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

__all__ = ["imresize", "cubic", "contributions"]

_KERNEL_WIDTH = 4.0  # support of the bicubic kernel, as in MATLAB
_BLOCK_BYTES = 1 << 20  # output rows processed per block (cache-sized)


def cubic(x: np.ndarray) -> np.ndarray:
    """Keys' cubic convolution kernel with a = -0.5 (MATLAB's ``cubic``)."""
    absx = np.abs(np.asarray(x, dtype=np.float64))
    absx2 = absx * absx
    absx3 = absx2 * absx
    return (1.5 * absx3 - 2.5 * absx2 + 1.0) * (absx <= 1) + (
        -0.5 * absx3 + 2.5 * absx2 - 4.0 * absx + 2.0
    ) * ((absx > 1) & (absx <= 2))


def contributions(
    in_length: int, out_length: int, scale: float, antialiasing: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Weights and 0-based input indices of each output pixel along one axis.

    Port of MATLAB's ``contributions()``: returns ``(weights, indices)``, both
    of shape ``(out_length, taps)``; output pixel ``k`` is
    ``sum_j weights[k, j] * input[indices[k, j]]``. Rows of ``weights`` sum to 1.
    """
    kernel_width = _KERNEL_WIDTH
    if scale < 1 and antialiasing:
        # Stretch the kernel to interpolate and antialias at once.
        def h(t):
            return scale * cubic(scale * t)

        kernel_width = kernel_width / scale
    else:
        h = cubic

    x = np.arange(1, out_length + 1, dtype=np.float64)
    u = x / scale + 0.5 * (1.0 - 1.0 / scale)
    left = np.floor(u - kernel_width / 2.0)
    p = int(math.ceil(kernel_width)) + 2
    indices = left[:, None] + np.arange(p, dtype=np.float64)[None, :]  # 1-based
    weights = h(u[:, None] - indices)
    weights = weights / weights.sum(axis=1, keepdims=True)

    # Symmetric ("mirror with edge repeated") index table, 0-based.
    aux = np.concatenate([np.arange(in_length), np.arange(in_length - 1, -1, -1)])
    indices = aux[np.mod(indices.astype(np.int64) - 1, aux.size)]

    keep = np.any(weights != 0, axis=0)
    return weights[:, keep], indices[:, keep]


def _resize_axis(
    img: np.ndarray, axis: int, out_length: int, scale: float, integer_info
) -> np.ndarray:
    """Resize float64 ``img`` along ``axis`` (0 or 1); returns float64."""
    weights, indices = contributions(img.shape[axis], out_length, scale)
    moved = np.ascontiguousarray(np.moveaxis(img, axis, 0))
    flat = moved.reshape(moved.shape[0], -1)
    out = np.empty((out_length, flat.shape[1]), dtype=np.float64)
    # Gather-multiply-add over the few taps (4 when enlarging, ~4/scale when
    # shrinking), in blocks of output rows that stay in cache. The summation
    # order over taps is MATLAB's.
    rows = max(1, _BLOCK_BYTES // max(1, flat.shape[1] * 8))
    buf = np.empty((min(rows, out_length), flat.shape[1]), dtype=np.float64)
    for r0 in range(0, out_length, rows):
        r1 = min(out_length, r0 + rows)
        o, b = out[r0:r1], buf[: r1 - r0]
        np.take(flat, indices[r0:r1, 0], axis=0, out=o)
        o *= weights[r0:r1, 0, None]
        for j in range(1, weights.shape[1]):
            np.take(flat, indices[r0:r1, j], axis=0, out=b)
            b *= weights[r0:r1, j, None]
            o += b
        if integer_info is not None:
            # imresizemex returns the input's class after every pass: round
            # half away from zero and saturate.
            np.clip(o, integer_info.min, integer_info.max, out=o)
            o[:] = np.where(o >= 0, np.floor(o + 0.5), np.ceil(o - 0.5))
    return np.moveaxis(out.reshape((out_length,) + moved.shape[1:]), 0, axis)


def _output_geometry(in_hw, scale, output_shape):
    if (scale is None) == (output_shape is None):
        raise ValueError("give exactly one of `scale` or `output_shape`")
    if scale is not None:
        scales = np.broadcast_to(np.asarray(scale, dtype=np.float64), (2,)).tolist()
        if any(not s > 0 for s in scales):
            raise ValueError(f"scale must be positive, got {scale!r}")
        out_hw = [int(math.ceil(s * n)) for s, n in zip(scales, in_hw)]
        return scales, out_hw
    if len(output_shape) != 2:
        raise ValueError(f"output_shape must be (height, width), got {output_shape!r}")
    known = [(o, n) for o, n in zip(output_shape, in_hw) if o is not None]
    if not known:
        raise ValueError("output_shape needs at least one of height/width")
    scales, out_hw = [], []
    for o, n in zip(output_shape, in_hw):
        if o is None:  # keep the aspect ratio (MATLAB's NaN)
            s = known[0][0] / known[0][1]
            o = int(math.ceil(s * n))
        else:
            o = int(o)
            if o <= 0:
                raise ValueError(f"output_shape must be positive, got {output_shape!r}")
            s = o / n
        scales.append(float(s))
        out_hw.append(o)
    return scales, out_hw


def imresize(
    image: np.ndarray,
    scale: float | Sequence[float] | None = None,
    output_shape: Sequence[int | None] | None = None,
) -> np.ndarray:
    """Bicubic resize exactly like MATLAB's ``imresize`` (antialiased).

    Args:
        image: ``(H, W)`` or ``(H, W, C)`` array, float (any range) or integer
            (e.g. uint8).
        scale: scalar or ``(scale_h, scale_w)``; output size is
            ``ceil(in * scale)``.
        output_shape: ``(out_h, out_w)``; one entry may be ``None`` to keep the
            aspect ratio. Give ``scale`` or ``output_shape``, not both.

    Returns:
        The resized array; same dtype as ``image`` (floats unrounded,
        integers rounded and saturated as MATLAB does).

    Example::

        >>> import numpy as np
        >>> float(imresize(np.full((4, 4), 0.5), 2.0)[3, 3])
        0.5
    """
    img = np.asarray(image)
    if img.ndim not in (2, 3):
        raise ValueError(f"expected an (H, W) or (H, W, C) array, got shape {img.shape}")
    if img.dtype == np.bool_ or not (
        np.issubdtype(img.dtype, np.floating) or np.issubdtype(img.dtype, np.integer)
    ):
        raise TypeError(f"unsupported dtype {img.dtype}")
    if img.shape[0] == 0 or img.shape[1] == 0:
        raise ValueError(f"cannot resize an empty image of shape {img.shape}")

    scales, out_hw = _output_geometry(img.shape[:2], scale, output_shape)
    integer_info = np.iinfo(img.dtype) if np.issubdtype(img.dtype, np.integer) else None

    out = img.astype(np.float64, copy=False)
    # MATLAB: [~, order] = sort(scale) -- smallest scale first, stable.
    for axis in sorted(range(2), key=lambda a: scales[a]):
        out = _resize_axis(out, axis, out_hw[axis], scales[axis], integer_info)
    return np.ascontiguousarray(out, dtype=img.dtype)
