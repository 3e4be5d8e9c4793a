"""Image-quality metrics: PSNR, SSIM and the super-resolution (Y-channel) protocol.

Pure numpy. ``ssim`` follows Wang et al. 2004's reference ``ssim_index.m``
(11x11 Gaussian window, sigma 1.5, K1 = 0.01, K2 = 0.03, 'valid' filtering,
mean of the SSIM map, no downsampling).

The SR helpers follow the usual protocol of the SR literature (SRCNN, VDSR,
EDSR, ...): convert RGB to BT.601 luma as MATLAB's ``rgb2ycbcr`` (Y in
[16, 235]), work on ``Y * 255`` with ``data_range=255``, and shave ``scale``
pixels from each border before computing.

Example::

    >>> import numpy as np
    >>> from zoo.metrics import psnr, ssim
    >>> a = np.zeros((16, 16)); b = a + 0.1
    >>> round(psnr(a, b), 6)
    20.0
    >>> round(ssim(a, a), 6)
    1.0
"""

from __future__ import annotations

import numpy as np

from zoo.data.color import rgb_to_y

__all__ = [
    "psnr",
    "ssim",
    "ssim_map",
    "sr_crop_to_scale",
    "sr_to_y",
    "sr_psnr_y",
    "sr_ssim_y",
]


def _pair(a, b) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"shape mismatch: {a.shape} vs {b.shape}")
    return a, b


def psnr(a, b, data_range: float = 1.0) -> float:
    """Peak signal-to-noise ratio in dB: ``10 log10(data_range^2 / MSE)``.

    Returns ``inf`` for identical inputs.

    Example::

        >>> import numpy as np
        >>> round(psnr(np.zeros(4), np.full(4, 25.5), data_range=255), 6)
        20.0
    """
    a, b = _pair(a, b)
    mse = float(np.mean((a - b) ** 2))
    if mse == 0.0:
        return float("inf")
    return float(10.0 * np.log10(data_range**2 / mse))


def _gaussian_1d(size: int = 11, sigma: float = 1.5) -> np.ndarray:
    x = np.arange(size, dtype=np.float64) - (size - 1) / 2.0
    g = np.exp(-(x * x) / (2.0 * sigma * sigma))
    # fspecial('gaussian', 11, 1.5) == outer(g, g) with g normalised.
    return g / g.sum()


def _filter_valid(img: np.ndarray, g: np.ndarray) -> np.ndarray:
    """``filter2(outer(g, g), img, 'valid')`` via two 1-D passes."""
    k = g.size
    tmp = np.lib.stride_tricks.sliding_window_view(img, k, axis=0) @ g
    return np.lib.stride_tricks.sliding_window_view(tmp, k, axis=1) @ g


def ssim_map(
    a,
    b,
    data_range: float = 1.0,
    win_size: int = 11,
    sigma: float = 1.5,
    k1: float = 0.01,
    k2: float = 0.03,
) -> np.ndarray:
    """SSIM map of two 2-D images ('valid' region, shape ``(H-10, W-10)``).

    Example::

        >>> import numpy as np
        >>> ssim_map(np.zeros((12, 13)), np.zeros((12, 13))).shape
        (2, 3)
    """
    a, b = _pair(a, b)
    if a.ndim != 2:
        raise ValueError(f"ssim_map expects 2-D images, got shape {a.shape}")
    if min(a.shape) < win_size:
        raise ValueError(f"images must be at least {win_size}x{win_size}, got {a.shape}")
    c1 = (k1 * data_range) ** 2
    c2 = (k2 * data_range) ** 2
    g = _gaussian_1d(win_size, sigma)
    mu1 = _filter_valid(a, g)
    mu2 = _filter_valid(b, g)
    mu1_sq, mu2_sq, mu1_mu2 = mu1 * mu1, mu2 * mu2, mu1 * mu2
    sigma1_sq = _filter_valid(a * a, g) - mu1_sq
    sigma2_sq = _filter_valid(b * b, g) - mu2_sq
    sigma12 = _filter_valid(a * b, g) - mu1_mu2
    return ((2 * mu1_mu2 + c1) * (2 * sigma12 + c2)) / (
        (mu1_sq + mu2_sq + c1) * (sigma1_sq + sigma2_sq + c2)
    )


def ssim(a, b, data_range: float = 1.0) -> float:
    """Mean SSIM (Wang et al. 2004, reference ``ssim_index.m``).

    2-D images, or ``(H, W, C)`` images (mean over channels of the per-channel
    SSIM).

    Example::

        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> x = rng.random((32, 32))
        >>> ssim(x, x) == 1.0 and ssim(x, 1 - x) < 0
        True
    """
    a, b = _pair(a, b)
    if a.ndim == 2:
        return float(np.mean(ssim_map(a, b, data_range)))
    if a.ndim == 3:
        return float(
            np.mean([np.mean(ssim_map(a[..., c], b[..., c], data_range)) for c in range(a.shape[2])])
        )
    raise ValueError(f"expected (H, W) or (H, W, C) images, got shape {a.shape}")


def sr_crop_to_scale(hr: np.ndarray, scale: int) -> np.ndarray:
    """Crop an HR image (top-left anchored) so H and W are multiples of ``scale``.

    MATLAB ``modcrop``. Example::

        >>> import numpy as np
        >>> sr_crop_to_scale(np.zeros((10, 7, 3)), 3).shape
        (9, 6, 3)
    """
    scale = int(scale)
    if scale < 1:
        raise ValueError(f"scale must be >= 1, got {scale}")
    h, w = hr.shape[:2]
    return hr[: h - h % scale, : w - w % scale]


def sr_to_y(img: np.ndarray) -> np.ndarray:
    """Y channel on the [0, 255] scale (float64) for the SR protocol.

    ``(H, W, 3)`` RGB float [0, 1] (or uint8) -> BT.601 Y * 255 (range
    [16, 235]); ``(H, W)`` or ``(H, W, 1)`` grey is used as Y directly (* 255).
    """
    img = np.asarray(img)
    if np.issubdtype(img.dtype, np.integer):
        img = img.astype(np.float64) / 255.0
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[..., 0]
    if img.ndim == 2:
        return img.astype(np.float64) * 255.0
    if img.ndim == 3 and img.shape[2] == 3:
        return rgb_to_y(img.astype(np.float64)) * 255.0
    raise ValueError(f"expected (H, W), (H, W, 1) or (H, W, 3), got shape {img.shape}")


def _sr_pair(sr, hr, scale: int) -> tuple[np.ndarray, np.ndarray]:
    ys, yh = sr_to_y(sr), sr_to_y(hr)
    if ys.shape != yh.shape:
        raise ValueError(f"shape mismatch: sr {ys.shape} vs hr {yh.shape}")
    s = int(scale)
    if s > 0:
        ys, yh = ys[s:-s, s:-s], yh[s:-s, s:-s]
    return ys, yh


def sr_psnr_y(sr, hr, scale: int) -> float:
    """SR-protocol PSNR: Y channel * 255, ``scale`` border pixels shaved, range 255.

    Example::

        >>> import numpy as np
        >>> hr = np.full((12, 12, 3), 0.5); sr = hr.copy(); sr[6, 6] = 0.6
        >>> sr_psnr_y(sr, hr, 2) > 30
        True
    """
    ys, yh = _sr_pair(sr, hr, scale)
    return psnr(ys, yh, data_range=255.0)


def sr_ssim_y(sr, hr, scale: int) -> float:
    """SR-protocol SSIM: Y channel * 255, ``scale`` border pixels shaved, range 255.

    Example::

        >>> import numpy as np
        >>> hr = np.random.default_rng(0).random((20, 20, 3))
        >>> sr_ssim_y(hr, hr, 2)
        1.0
    """
    ys, yh = _sr_pair(sr, hr, scale)
    return ssim(ys, yh, data_range=255.0)
