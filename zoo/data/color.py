"""MATLAB-compatible ITU-R BT.601 colour conversions (``rgb2ycbcr``/``ycbcr2rgb``).

Float images are in [0, 1]; Y comes out in [16, 235]/255 and Cb/Cr in
[16, 240]/255, exactly as MATLAB's ``rgb2ycbcr`` on double input. uint8
input gives uint8 output rounded like MATLAB (``imlincomb``: half away from
zero, saturated).

Example::

    >>> import numpy as np
    >>> from zoo.data.color import rgb_to_y
    >>> round(float(rgb_to_y(np.ones((1, 1, 3)))[0, 0]) * 255, 6)
    235.0
"""

from __future__ import annotations

import numpy as np

__all__ = ["rgb_to_y", "rgb_to_ycbcr", "ycbcr_to_rgb"]

# Poynton, "Introduction to Digital Video", eq. 9.6 (the matrix MATLAB uses).
_T = np.array(
    [
        [65.481, 128.553, 24.966],
        [-37.797, -74.203, 112.0],
        [112.0, -93.786, -18.214],
    ]
)
_OFFSET = np.array([16.0, 128.0, 128.0])
_T_INV = np.linalg.inv(_T)


def _round_half_away(x: np.ndarray) -> np.ndarray:
    return np.where(x >= 0, np.floor(x + 0.5), np.ceil(x - 0.5))


def _check_rgb(img: np.ndarray) -> np.ndarray:
    img = np.asarray(img)
    if img.ndim < 1 or img.shape[-1] != 3:
        raise ValueError(f"expected (..., 3) RGB input, got shape {img.shape}")
    if not (img.dtype == np.uint8 or np.issubdtype(img.dtype, np.floating)):
        raise TypeError(f"expected float in [0, 1] or uint8, got {img.dtype}")
    return img


def _float_dtype(img: np.ndarray):
    return img.dtype if np.issubdtype(img.dtype, np.floating) else np.float64


def rgb_to_ycbcr(img: np.ndarray) -> np.ndarray:
    """RGB -> YCbCr like MATLAB ``rgb2ycbcr``.

    Float [0, 1] in -> float out (Y in [16, 235]/255); uint8 in -> uint8 out.

    Example::

        >>> import numpy as np
        >>> np.round(rgb_to_ycbcr(np.zeros((1, 1, 3)))[0, 0] * 255, 6).tolist()
        [16.0, 128.0, 128.0]
    """
    img = _check_rgb(img)
    if img.dtype == np.uint8:
        out = img.astype(np.float64) @ (_T / 255.0).T + _OFFSET
        return np.clip(_round_half_away(out), 0, 255).astype(np.uint8)
    out = (img.astype(np.float64) @ _T.T + _OFFSET) / 255.0
    return out.astype(_float_dtype(img), copy=False)


def rgb_to_y(img: np.ndarray) -> np.ndarray:
    """Luma Y of an (..., 3) RGB image (BT.601, MATLAB ``rgb2ycbcr`` channel 1).

    Float [0, 1] in: ``Y = (16 + 65.481 R + 128.553 G + 24.966 B) / 255``
    (float, range [16, 235]/255). uint8 in: uint8 Y in [16, 235], rounded.

    Example::

        >>> import numpy as np
        >>> int(rgb_to_y(np.full((1, 1, 3), 255, np.uint8))[0, 0])
        235
    """
    img = _check_rgb(img)
    if img.dtype == np.uint8:
        y = img.astype(np.float64) @ (_T[0] / 255.0) + 16.0
        return np.clip(_round_half_away(y), 0, 255).astype(np.uint8)
    y = (img.astype(np.float64) @ _T[0] + 16.0) / 255.0
    return y.astype(_float_dtype(img), copy=False)


def ycbcr_to_rgb(img: np.ndarray, clip: bool = True) -> np.ndarray:
    """YCbCr -> RGB like MATLAB ``ycbcr2rgb`` (inverse of :func:`rgb_to_ycbcr`).

    Float in -> float RGB, clipped to [0, 1] as MATLAB does (``clip=False``
    keeps out-of-gamut values); uint8 in -> uint8 out.

    Example::

        >>> import numpy as np
        >>> x = np.array([[[0.2, 0.5, 0.9]]])
        >>> bool(np.allclose(ycbcr_to_rgb(rgb_to_ycbcr(x)), x))
        True
    """
    img = _check_rgb(img)
    if img.dtype == np.uint8:
        out = (img.astype(np.float64) - _OFFSET) @ (255.0 * _T_INV).T
        return np.clip(_round_half_away(out), 0, 255).astype(np.uint8)
    out = (img.astype(np.float64) * 255.0 - _OFFSET) @ _T_INV.T
    if clip:
        out = np.clip(out, 0.0, 1.0)
    return out.astype(_float_dtype(img), copy=False)
