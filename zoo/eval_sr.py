"""Super-resolution evaluation on Set5 / Set14 with the SR literature's Y-channel protocol.

A *predict_fn* maps one LR image, float32 ``(h, w, C)`` in [0, 1] (``C`` = 3 RGB, or 1 for
grey images), to the SR image ``(s*h, s*w, C)`` (or ``(s*h, s*w, 3)`` for grey input) in
[0, 1]. :func:`evaluate_sr` turns the SR image into uint8 like saving a PNG, then scores it
against the HR image with :func:`zoo.metrics.sr_psnr_y` / :func:`zoo.metrics.sr_ssim_y`.

Example::

    from zoo.eval_sr import evaluate_sr, bicubic_predict, model_predict
    evaluate_sr(bicubic_predict(4), "sr_set5", 4)["psnr_y"]     # 28.4346 (the floor)
    evaluate_sr(model_predict(model), "sr_set14", 4)
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from zoo.data.imresize import imresize
from zoo.data.sr import eval_pairs
from zoo.metrics import sr_psnr_y, sr_ssim_y

__all__ = [
    "PROTOCOL",
    "upscale_array",
    "model_predict",
    "bicubic_predict",
    "quantize",
    "evaluate_sr",
]

PROTOCOL = (
    "SR Y-channel protocol: HR PNG read as uint8 and mod-cropped (top-left) to a multiple of the "
    "scale s; LR = MATLAB-compatible bicubic imresize(HR, 1/s) (antialiased, a=-0.5) on the uint8 "
    "image, rounded like MATLAB; the model sees the LR as float RGB in [0, 1] (grey images: the "
    "grey channel replicated to RGB, SR = mean of the 3 output channels); the SR output is clipped "
    "to [0, 1] and rounded to uint8 (like saving a PNG); PSNR and SSIM on the BT.601 luma "
    "Y = 16 + 65.481 R + 128.553 G + 24.966 B (MATLAB rgb2ycbcr, [0, 255] scale, not rounded; grey "
    "images use the grey level as Y) with s pixels shaved from every border; PSNR with peak 255; "
    "SSIM of Wang et al. 2004 (11x11 Gaussian window, sigma 1.5, K1 0.01, K2 0.03, range 255, "
    "mean of the valid SSIM map); means over the images of the set (Set5: 5, Set14: 14 "
    "including the grey 'bridge')."
)


def upscale_array(model, lr_float: np.ndarray) -> np.ndarray:
    """Run ``model`` on one LR image ``(h, w, C)`` float [0, 1]; SR float32 clipped to [0, 1].

    The model is called on a batch of one, ``(1, h, w, C)``. A grey image (``C = 1``) given to
    a model with a 3-channel input is replicated to RGB and the SR comes back as the **mean of
    the 3 output channels**, ``(H, W, 1)`` (for a grey input, an RGB model's output channels
    are nearly equal; the mean is the grey level closest to all three).
    """
    x = np.asarray(lr_float, dtype=np.float32)
    if x.ndim == 2:
        x = x[..., None]
    if x.ndim != 3:
        raise ValueError(f"expected one (H, W, C) image, got shape {x.shape}")
    in_channels = _input_channels(model)
    grey_to_rgb = x.shape[-1] == 1 and in_channels == 3
    if grey_to_rgb:
        x = np.repeat(x, 3, axis=-1)
    y = model(x[None], training=False)
    y = np.asarray(y, dtype=np.float32)[0]
    if grey_to_rgb and y.shape[-1] == 3:
        y = y.mean(axis=-1, keepdims=True)
    return np.clip(y, 0.0, 1.0)


def _input_channels(model) -> int | None:
    try:
        shape = model.inputs[0].shape
    except (AttributeError, IndexError, TypeError, ValueError):
        return None
    return None if shape[-1] is None else int(shape[-1])


def model_predict(model) -> Callable[[np.ndarray], np.ndarray]:
    """A predict_fn running ``model`` through :func:`upscale_array`."""
    return lambda lr: upscale_array(model, lr)


def bicubic_predict(scale: int) -> Callable[[np.ndarray], np.ndarray]:
    """The bicubic floor: ``imresize(lr, scale)`` (MATLAB-compatible) on the float LR."""
    s = int(scale)

    def predict(lr: np.ndarray) -> np.ndarray:
        return imresize(np.asarray(lr, dtype=np.float64), float(s))

    return predict


def quantize(sr_float: np.ndarray) -> np.ndarray:
    """Clip to [0, 1] and round to uint8 like saving an image (``round(x * 255)``)."""
    x = np.nan_to_num(np.asarray(sr_float, dtype=np.float64), nan=0.0)
    return np.floor(np.clip(x, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def evaluate_sr(
    predict_fn: Callable[[np.ndarray], np.ndarray],
    name: str,
    scale: int,
    limit: int | None = None,
) -> dict:
    """Score ``predict_fn`` on the SR test set ``name`` (``sr_set5``/``sr_set14``) at ``scale``.

    Follows :data:`PROTOCOL`. Returns ``{"psnr_y", "ssim_y"`` (means over the images, rounded
    to 4 decimals), ``"num_images", "per_image": {name: {"psnr_y", "ssim_y"}}}``. ``limit``
    keeps the first images (by file name), for quick checks.
    """
    s = int(scale)
    per_image = {}
    for image_name, lr8, hr8 in eval_pairs(name, s, limit):
        sr = np.asarray(predict_fn(lr8.astype(np.float32) / 255.0))
        if sr.ndim == 2:
            sr = sr[..., None]
        if hr8.shape[-1] == 1 and sr.shape[-1] == 3:  # an RGB-only predict_fn on a grey image
            sr = sr.mean(axis=-1, keepdims=True)
        if sr.shape != hr8.shape:
            raise ValueError(
                f"{name}/{image_name}: SR shape {sr.shape} does not match HR {hr8.shape} (x{s})"
            )
        sr_f = quantize(sr).astype(np.float64) / 255.0
        hr_f = hr8.astype(np.float64) / 255.0
        per_image[image_name] = {
            "psnr_y": float(sr_psnr_y(sr_f, hr_f, s)),
            "ssim_y": float(sr_ssim_y(sr_f, hr_f, s)),
        }
    if not per_image:
        raise ValueError(f"{name} has no images")
    return {
        "psnr_y": round(float(np.mean([v["psnr_y"] for v in per_image.values()])), 4),
        "ssim_y": round(float(np.mean([v["ssim_y"] for v in per_image.values()])), 4),
        "num_images": len(per_image),
        "per_image": {
            k: {m: round(v[m], 4) for m in ("psnr_y", "ssim_y")} for k, v in per_image.items()
        },
    }
