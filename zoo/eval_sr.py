"""Super-resolution evaluation on Set5 / Set14 with the SR literature's Y-channel protocol.

A *predict_fn* maps one LR image, float32 ``(h, w, C)`` in [0, 1] (``C`` = 3 RGB, or 1 for
grey images), to the SR image ``(s*h, s*w, C)`` (or ``(s*h, s*w, 3)`` for grey input) in
[0, 1]. :func:`evaluate_sr` turns the SR image into uint8 like saving a PNG, then scores it
against the HR image with :func:`zoo.metrics.sr_psnr_y` / :func:`zoo.metrics.sr_ssim_y`.

Models that restore the bicubic-upsampled **Y channel** (SRCNN, xSRCNN: ``input_spec.channels ==
"y"``) fit :func:`evaluate_sr` through :func:`y_model_predict`, and have their own protocol,
:func:`evaluate_sr_y` / :data:`PROTOCOL_Y`, which is the one their authors measured with
(ported weights reproduce the published numbers with it).

Example::

    from zoo.eval_sr import evaluate_sr, bicubic_predict, model_predict, y_model_predict, evaluate_sr_y
    evaluate_sr(bicubic_predict(4), "sr_set5", 4)["psnr_y"]     # 28.4305 (the floor)
    evaluate_sr(model_predict(model), "sr_set14", 4)
    evaluate_sr(y_model_predict(xsrcnn, 4), "sr_set5", 4)     # a Y model, RGB protocol
    evaluate_sr_y(xsrcnn, "sr_set5", 4)["psnr_y"]               # a Y model, authors' protocol
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
    "PROTOCOL_Y",
    "y_model_predict",
    "y_net_fn",
    "bicubic_y_pairs",
    "evaluate_sr_y",
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


def summarize(per_image: dict, name: str, keys=("psnr_y", "ssim_y")) -> dict:
    """Means over the images (4 decimals), the count, and the per-image values."""
    if not per_image:
        raise ValueError(f"{name} has no images")
    out = {k: round(float(np.mean([v[k] for v in per_image.values()])), 4) for k in keys}
    out["num_images"] = len(per_image)
    out["per_image"] = {img: {k: round(v[k], 4) for k in keys} for img, v in per_image.items()}
    return out


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
    return summarize(per_image, name)


# ------------------------------------------------------------------------------------------
# Y-channel models (SRCNN family): the bicubic-upsampled Y in, the restored Y out.


def _grey_to_rgb(x: np.ndarray) -> np.ndarray:
    return np.repeat(x, 3, axis=-1) if x.shape[-1] == 1 else x


def y_net_fn(model) -> Callable[[np.ndarray], np.ndarray]:
    """``fn(y)``: run a Y model on one ``(H, W)`` float Y image; the restored Y ``(H, W)``
    float64, **not** clipped (the Y protocol scores the raw output, as the authors did)."""

    def fn(y: np.ndarray) -> np.ndarray:
        y = np.asarray(y, dtype=np.float32)
        if y.ndim != 2:
            raise ValueError(f"expected one (H, W) Y image, got shape {y.shape}")
        out = model(y[None, :, :, None], training=False)
        return np.asarray(out, dtype=np.float64)[0, :, :, 0]

    return fn


def y_model_predict(model, scale: int) -> Callable[[np.ndarray], np.ndarray]:
    """A predict_fn for :func:`evaluate_sr` running a **Y-channel** model (SRCNN family).

    LR float ``(h, w, C)`` in [0, 1] -> MATLAB bicubic ``imresize(lr, scale)`` (float, not
    rounded) -> YCbCr (:func:`zoo.data.color.rgb_to_ycbcr`) -> the model on Y -> Y' with the
    bicubic Cb, Cr -> RGB (:func:`zoo.data.color.ycbcr_to_rgb`, clipped to [0, 1]). Grey LR
    (``C = 1``): the model runs on the grey level directly and the SR stays grey
    ``(s*h, s*w, 1)``, matching how :data:`PROTOCOL` scores grey images.
    """
    from zoo.data.color import rgb_to_ycbcr, ycbcr_to_rgb

    s = int(scale)
    net = y_net_fn(model)

    def predict(lr: np.ndarray) -> np.ndarray:
        x = np.asarray(lr, dtype=np.float64)
        if x.ndim == 2:
            x = x[..., None]
        up = imresize(x, float(s))
        if up.ndim == 2:
            up = up[..., None]
        if up.shape[-1] == 1:
            return np.clip(net(up[..., 0]), 0.0, 1.0)[..., None].astype(np.float32)
        ycc = rgb_to_ycbcr(up)
        ycc[..., 0] = net(ycc[..., 0])
        return ycbcr_to_rgb(ycc, clip=True).astype(np.float32)

    return predict


PROTOCOL_Y = (
    "SR protocol for Y-channel models (SRCNN family), as in kligvasser/xUnit (CVPR 2018) "
    "super_resolution/data/set_sr_data_im.m + run_net.py: HR PNG read as uint8 and mod-cropped "
    "(top-left) to a multiple of the scale s; LR = MATLAB-compatible bicubic imresize(HR, 1/s) on "
    "the uint8 image, rounded like MATLAB; the network input is imresize(LR, s) on the uint8 LR, "
    "rounded to uint8 (the saved bicubic PNG); Y = (16 + 65.481 R + 128.553 G + 24.966 B) / 255 "
    "(BT.601, not rounded) of both that input and the HR, grey images (Set14 'bridge') being "
    "treated as RGB with three equal channels (Y = (16 + 219 g) / 255, as the authors' code does); "
    "the network's output Y is scored as it is (not clipped, not rounded) against the HR Y with s "
    "pixels shaved from every border; PSNR on the [0, 255] scale with peak 255; SSIM of Wang et al. "
    "2004 (11x11 Gaussian window, sigma 1.5, K1 0.01, K2 0.03, range 255) on the same Y; means over "
    "the images of the set (Set5: 5, Set14: 14)."
)


def _y_of_uint8(img8: np.ndarray) -> np.ndarray:
    from zoo.data.color import rgb_to_y

    return rgb_to_y(_grey_to_rgb(img8).astype(np.float64) / 255.0)


def bicubic_y_pairs(name: str, scale: int, limit: int | None = None) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """``[(image_name, y_bicubic, y_hr), ...]`` float64 ``(H, W)`` Y images of :data:`PROTOCOL_Y`.

    ``y_bicubic`` is the network input (Y of the uint8 bicubic re-upsampled LR), ``y_hr`` the
    Y of the mod-cropped HR, both in [16, 235] / 255.
    """
    s = int(scale)
    out = []
    for image_name, lr8, hr8 in eval_pairs(name, s, limit):
        up8 = imresize(lr8, float(s))  # uint8 in -> uint8 out, rounded like MATLAB
        if up8.ndim == 2:
            up8 = up8[..., None]
        if up8.shape[:2] != hr8.shape[:2]:
            raise ValueError(f"{name}/{image_name}: bicubic {up8.shape} vs HR {hr8.shape}")
        out.append((image_name, _y_of_uint8(up8), _y_of_uint8(hr8)))
    return out


def evaluate_sr_y(
    y_fn,
    name: str,
    scale: int,
    limit: int | None = None,
) -> dict:
    """Score a Y-channel model on ``name`` (``sr_set5``/``sr_set14``) at ``scale`` by :data:`PROTOCOL_Y`.

    ``y_fn`` is a Keras Y model (``(None, None, 1)`` in and out) or a function mapping the
    ``(H, W)`` bicubic Y to the restored ``(H, W)`` Y (``lambda y: y`` is the bicubic floor).
    Returns the same dict as :func:`evaluate_sr`.
    """
    import keras

    from zoo.metrics import psnr, ssim

    fn = y_net_fn(y_fn) if isinstance(y_fn, keras.Model) else y_fn
    s = int(scale)
    per_image = {}
    for image_name, y_in, y_hr in bicubic_y_pairs(name, s, limit):
        y_out = np.asarray(fn(y_in), dtype=np.float64)
        if y_out.ndim == 3 and y_out.shape[-1] == 1:
            y_out = y_out[..., 0]
        if y_out.shape != y_hr.shape:
            raise ValueError(f"{name}/{image_name}: output {y_out.shape} does not match HR {y_hr.shape}")
        a = np.nan_to_num(y_out[s:-s, s:-s] * 255.0)
        b = y_hr[s:-s, s:-s] * 255.0
        per_image[image_name] = {
            "psnr_y": float(psnr(a, b, data_range=255.0)),
            "ssim_y": float(ssim(a, b, data_range=255.0)),
        }
    return summarize(per_image, name)
