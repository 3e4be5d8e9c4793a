"""Grey Gaussian denoising evaluation on Set12 with the DnCNN protocol (:data:`PROTOCOL`).

A *predict_fn* maps one noisy grey image, float32 ``(H, W, 1)`` (values around [0, 1]; the
noise is not clipped), to the denoised image ``(H, W, 1)`` or ``(H, W)``. :func:`evaluate_denoiser`
adds seeded Gaussian noise to each clean image, runs the predict_fn, turns its output into
uint8 like MATLAB's ``im2uint8`` and scores it against the clean uint8 image.

What the published numbers were measured with (and what this protocol keeps):

* DnCNN (cszn/DnCNN ``Demo_test_DnCNN.m`` + ``utilities/Cal_PSNRSSIM.m``; DnCNN-S Set12:
  32.86 / 30.44 / 27.18 dB at sigma 15 / 25 / 50): ``label = im2double(uint8)``, ``randn('seed',
  0)`` before every image, ``input = single(label + sigma/255 * randn)`` -- **not clipped** --,
  ``output = input - residual``, then ``Cal_PSNRSSIM(im2uint8(label), im2uint8(output), 0, 0)``:
  the output is **clipped to [0, 1] and rounded to uint8**, PSNR with peak 255 on the whole image
  (no border), SSIM of ``ssim_index.m`` on the uint8 values. This protocol is that one, except the
  noise, which comes from numpy (MATLAB's legacy ``randn('seed', 0)`` stream cannot be
  reproduced): a different noise realisation moves a Set12 mean by a few hundredths of a dB.
* kligvasser/xUnit ``denoising/run_net.py`` clamps ``noisy - output`` to [0, 1] and scores the
  float (not rounded); drorsimon/CSCNet ``test.py`` scores the raw float output (not clipped).
  For the ported nets (below) rounding to uint8 lowers a Set12 mean by 0.001-0.010 dB and
  clipping raises it by about 0.001 dB: the three scorings agree to 0.01 dB.

Set12 means of the ported reference weights with this protocol (seed 0; seeds 100 and 200 in
brackets show the spread of the noise realisation):

    weights                  this protocol (dB)         published (dB)
    KAIR DnCNN-S sigma 25    30.451 (30.446, 30.417)    Set12 30.44 (DnCNN paper, MATLAB noise)
    xUnit xDnCNN sigma 25    30.443 (30.434, 30.397)    BSD68 29.21 only (xUnit README)
    xUnit xDnCNN sigma 50    27.200 (27.190, 27.146)    BSD68 26.26 only (xUnit README)
    CSCNet sigma 15          32.685                     BSD68 only (paper); no Set12 figure
    CSCNet sigma 25          30.275                     BSD68 only (paper); no Set12 figure
    CSCNet sigma 50          27.149                     BSD68 only (paper); no Set12 figure

Example::

    from zoo.eval_dn import evaluate_denoiser, model_predict
    evaluate_denoiser(model_predict(model), 25)["psnr"]       # Set12 sigma 25, dB
    evaluate_denoiser(lambda y: y, 25)["psnr"]                # the noisy input (clipped + rounded)
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from zoo.metrics import psnr, ssim

__all__ = [
    "PROTOCOL",
    "DATASET",
    "noise",
    "noisy_images",
    "model_predict",
    "quantize",
    "evaluate_denoiser",
]

DATASET = "denoise_set12"

PROTOCOL = (
    "Grey Gaussian denoising, DnCNN protocol (cszn/DnCNN Demo_test_DnCNN.m + Cal_PSNRSSIM.m): the "
    "images of the set sorted by file name (Set12: 01.png .. 12.png, 7 of 256x256 and 5 of 512x512), "
    "read as uint8 grey, clean = uint8 / 255 (float64); noise = sigma / 255 * "
    "numpy.random.default_rng(seed + i).standard_normal((H, W, 1)) with i = 0, 1, ... the image "
    "index and seed = 0; noisy = float32(clean + noise), not clipped; the denoised output is clipped "
    "to [0, 1] and rounded to uint8 (MATLAB im2uint8, round half up); PSNR = 10 log10(255^2 / MSE) "
    "against the uint8 clean image over the whole image (no border shaved); SSIM of Wang et al. 2004 "
    "(ssim_index.m: 11x11 Gaussian window, sigma 1.5, K1 0.01, K2 0.03, L 255, mean of the valid SSIM "
    "map) on the same uint8 pair; means over the images."
)


def noise(shape, sigma: float, seed: int) -> np.ndarray:
    """The protocol's noise: ``sigma / 255 * N(0, 1)``, float64, from ``default_rng(seed)``."""
    return float(sigma) / 255.0 * np.random.default_rng(int(seed)).standard_normal(tuple(shape))


def noisy_images(sigma: float, name: str = DATASET, seed: int = 0, limit: int | None = None):
    """``[(image_name, clean_uint8 (H, W, 1), noisy_float32 (H, W, 1)), ...]`` of the protocol.

    Image ``i`` (0-based, in file-name order) gets the noise of seed ``seed + i``, so the noise
    of an image does not depend on ``limit`` or on the other images.
    """
    from zoo.data.sr import list_images, read_uint8

    out = []
    for i, path in enumerate(list_images(name, limit)):
        clean8 = read_uint8(path, rgb=False)
        if clean8.shape[-1] != 1:
            raise ValueError(f"{name}/{path.name} is not a grey image (shape {clean8.shape})")
        clean = clean8.astype(np.float64) / 255.0
        noisy = (clean + noise(clean.shape, sigma, seed + i)).astype(np.float32)
        out.append((path.name, clean8, noisy))
    return out


def model_predict(model) -> Callable[[np.ndarray], np.ndarray]:
    """A predict_fn running a Keras denoiser on one ``(H, W, 1)`` image (a batch of one)."""

    def predict(noisy: np.ndarray) -> np.ndarray:
        x = np.asarray(noisy, dtype=np.float32)
        if x.ndim == 2:
            x = x[..., None]
        return np.asarray(model(x[None], training=False), dtype=np.float32)[0]

    return predict


def quantize(x: np.ndarray) -> np.ndarray:
    """MATLAB ``im2uint8`` of a float image: clip to [0, 1], ``round(x * 255)`` (NaN -> 0)."""
    x = np.nan_to_num(np.asarray(x, dtype=np.float64), nan=0.0)
    return np.floor(np.clip(x, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def evaluate_denoiser(
    predict_fn,
    sigma: float,
    name: str = DATASET,
    seed: int = 0,
    limit: int | None = None,
) -> dict:
    """Score ``predict_fn`` (or a Keras model) on ``name`` at noise level ``sigma`` (0-255 scale).

    Follows :data:`PROTOCOL`. Returns ``{"psnr", "ssim"`` (means over the images, rounded to 4
    decimals), ``"num_images", "per_image": {name: {"psnr", "ssim"}}}``. ``limit`` keeps the
    first images (by file name), for quick checks; their noise is the same as in a full run.
    """
    import keras

    fn = model_predict(predict_fn) if isinstance(predict_fn, keras.Model) else predict_fn
    per_image = {}
    for image_name, clean8, noisy in noisy_images(sigma, name, seed, limit):
        out = np.asarray(fn(noisy))
        if out.ndim == 2:
            out = out[..., None]
        if out.shape != clean8.shape:
            raise ValueError(f"{name}/{image_name}: output shape {out.shape} does not match the image {clean8.shape}")
        a = quantize(out)[..., 0].astype(np.float64)
        b = clean8[..., 0].astype(np.float64)
        per_image[image_name] = {"psnr": psnr(a, b, data_range=255.0), "ssim": ssim(a, b, data_range=255.0)}
    if not per_image:
        raise ValueError(f"{name} has no images")
    return {
        "psnr": round(float(np.mean([v["psnr"] for v in per_image.values()])), 4),
        "ssim": round(float(np.mean([v["ssim"] for v in per_image.values()])), 4),
        "num_images": len(per_image),
        "per_image": {k: {m: round(float(v[m]), 4) for m in ("psnr", "ssim")} for k, v in per_image.items()},
    }
