"""Running restoration nets (super-resolution, denoising) on whole images of any size.

Large images are processed in overlapping tiles: each tile carries at least the
network's receptive radius of context, so the result equals a whole-image run,
while memory stays bounded by the tile size (the output buffer is uint8/uint16
for files).  Greyscale images go through RGB models as three equal channels and
come back grey; an alpha channel is resized separately (bicubic).

Example::

    import zoo
    from zoo.restore import upscale_file
    upscale_file("photo.png", "photo_x4.png", model="xunit_sr_x4")
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np

from zoo.data.image_io import Image, check_output_path, read_image, write_image
from zoo.errors import InvalidInputError, ZooError

DEFAULT_TILE = 256  # input pixels per tile side


def receptive_radius(model) -> int:
    """How many input pixels of context one output pixel depends on, on each side."""
    from zoo.layers import PixelShuffle, PixelUnshuffle, XUnit

    radius, upscale = 0.0, 1
    stack = list(model.layers)
    while stack:
        layer = stack.pop(0)
        if hasattr(layer, "layers") and layer.layers and not isinstance(layer, XUnit):
            stack = list(layer.layers) + stack
            continue
        if isinstance(layer, PixelUnshuffle):  # a block reaches s - 1 pixels; later layers see coarser pixels
            radius += (layer.scale - 1) / upscale
            upscale /= layer.scale
            continue
        declared = getattr(layer, "receptive_radius", None)
        if isinstance(declared, int):  # layers with long-range context say how far it reaches
            radius += declared / upscale
            continue
        k = getattr(layer, "kernel_size", None)
        if isinstance(layer, XUnit):
            k = (layer.kernel_size, layer.kernel_size)
        if k is not None:
            dil = getattr(layer, "dilation_rate", (1, 1))
            radius += (max(k) - 1) // 2 * max(dil) / upscale
        if isinstance(layer, PixelShuffle):
            upscale *= layer.scale
        if type(layer).__name__ == "UpSampling2D":
            upscale *= max(layer.size)
    return int(math.ceil(radius))


def _model_scale(model) -> int:
    h_in = 64
    out = model.compute_output_shape((1, h_in, h_in, model.input_shape[-1]))
    return int(out[1] // h_in)


class TiledRunner:
    """Apply a fully convolutional ``model`` to an HxWxC float image in overlapping tiles."""

    def __init__(self, model, tile: int = DEFAULT_TILE, overlap: int | None = None):
        import tensorflow as tf

        self.model = model
        self.scale = _model_scale(model)
        self.radius = receptive_radius(model)
        self.overlap = self.radius + 2 if overlap is None else int(overlap)
        if tile < 16:
            raise ZooError(f"tile must be at least 16 pixels, got {tile}")
        self.tile = int(tile)
        self.channels = model.input_shape[-1]
        aligns = [getattr(layer, "tile_alignment", 1) for layer in model.layers]
        self.align = max(a for a in aligns if isinstance(a, int))
        self._fn = tf.function(
            lambda x: model(x, training=False),
            input_signature=[tf.TensorSpec([1, None, None, self.channels], tf.float32)],
        )

    @property
    def min_size(self) -> int:
        """Smallest input side: what a layer declares (``min_input_size``), else the receptive field."""
        declared = [getattr(layer, "min_input_size", None) for layer in self.model.layers]
        declared = [d for d in declared if isinstance(d, int)]
        return max(declared) if declared else 2 * self.radius + 1

    def check(self, x: np.ndarray) -> None:
        if x.ndim != 3 or x.shape[-1] != self.channels:
            raise InvalidInputError(
                f"expected an HxWx{self.channels} image, got shape {x.shape}"
            )
        if min(x.shape[:2]) < self.min_size:
            raise InvalidInputError(
                f"image is {x.shape[1]}x{x.shape[0]}, smaller than the network accepts "
                f"({self.min_size}x{self.min_size}, its receptive field); use a larger image"
            )
        if not np.isfinite(x).all():
            raise InvalidInputError("image contains NaN or Inf values")

    def __call__(self, x: np.ndarray, out_dtype=np.float32, progress: bool | None = None) -> np.ndarray:
        from zoo.tiling import tile_apply

        self.check(x)
        return tile_apply(self._fn, x, scale=self.scale, out_channels=self.model.output_shape[-1],
                          tile=self.tile, overlap=self.overlap, out_dtype=out_dtype, progress=progress,
                          align=self.align)


def _to_model_channels(px: np.ndarray, channels: int) -> np.ndarray:
    if px.shape[-1] == channels:
        return px
    if channels == 3 and px.shape[-1] == 1:
        return np.repeat(px, 3, axis=-1)
    if channels == 1 and px.shape[-1] == 3:
        raise InvalidInputError(
            "this model takes greyscale images and the image is RGB; convert it to greyscale first "
            "(or use a model for colour images)"
        )
    raise InvalidInputError(f"cannot feed a {px.shape[-1]}-channel image to a {channels}-channel model")


def noise_level_options(spec, sigma: float | None, options: dict | None = None) -> dict:
    """Builder ``options`` plus the noise level a noise-conditioned net (FFDNet) is built for.

    Such a net has ``sigma`` among its builder options and cannot guess it: without ``sigma``
    (and without ``options["sigma"]``) this is one clear error.  Other nets get ``options`` as is.
    """
    options = dict(options or {})
    if "sigma" in spec.builder_defaults() and "sigma" not in options:
        if sigma is None:
            raise ZooError(f"{spec.arch} is built for the image's noise level: give sigma (--sigma, 0-255 scale)")
        options["sigma"] = float(sigma)
    return options


def _resolve_model(model, task: str, scale: int | None = None, weights="default", sigma: float | None = None,
                   options: dict | None = None):
    """A model object, or the registered model ``model`` loaded with ``weights`` ("default": the
    published ones, or a ``.weights.h5`` path) and builder ``options``; a noise-conditioned net
    (FFDNet) is built for ``sigma``."""
    import zoo
    from zoo.registry import get_spec

    if isinstance(model, str):
        spec = get_spec(model)
        if spec.task != task:
            raise ZooError(f"{model} is a {spec.task} model, not {task.replace('_', '-')}")
        if spec.input_spec.channels == "y":
            raise ZooError(
                f"{model} takes the bicubic-upsampled Y channel (SRCNN-style); use an RGB model "
                f"such as xunit_sr_x4 for whole images"
            )
        if scale is not None and spec.input_spec.scale not in (None, scale):
            raise ZooError(
                f"{model} upsamples by {spec.input_spec.scale}, not {scale}; choose a x{scale} model "
                f"(zoo list 'xunit_sr_x*')"
            )
        options = noise_level_options(spec, sigma, options)
        return zoo.load(model, weights=weights, **options)  # an out-of-range sigma: InvalidOptionError
    if weights != "default" or options:
        raise ZooError("weights= and options= apply to a model name; a model object is already built")
    return model


def restore_image(img: Image, runner: TiledRunner, out_dtype=np.float32, progress=None) -> np.ndarray:
    """Run ``runner`` on an :class:`Image` handling grey/RGB/RGBA; returns HxWxC in the image's mode."""
    px = img.pixels
    alpha = None
    if img.mode == "rgba":
        px, alpha = px[..., :3], px[..., 3]
    fed = _to_model_channels(px, runner.channels)
    out = runner(fed.astype(np.float32), out_dtype=out_dtype, progress=progress)
    if img.mode == "grey" and out.shape[-1] == 3:
        # The three outputs of a replicated grey input agree closely; their mean is the grey result.
        out = np.round(out.astype(np.float32).mean(-1, keepdims=True)).astype(out_dtype) if out_dtype != np.float32 \
            else out.mean(-1, keepdims=True)
    if alpha is not None:
        out = np.concatenate([out, _resize_alpha(alpha, runner.scale, out_dtype)], axis=-1)
    return out


def _resize_alpha(alpha: np.ndarray, scale: int, out_dtype) -> np.ndarray:
    from PIL import Image as PILImage

    h, w = alpha.shape
    if scale == 1:
        a = alpha
    else:
        pil = PILImage.fromarray(alpha.astype(np.float32), "F")
        a = np.asarray(pil.resize((w * scale, h * scale), PILImage.Resampling.BICUBIC), dtype=np.float32)
    a = np.clip(a, 0.0, 1.0)[..., None]
    peak = {np.uint8: 255.0, np.uint16: 65535.0}.get(np.dtype(out_dtype).type)
    return np.round(a * peak).astype(out_dtype) if peak else a.astype(out_dtype)


def _sr_runner(model, scale: int | None, tile: int, weights="default", options=None) -> TiledRunner:
    runner = TiledRunner(_resolve_model(model, "super_resolution", scale, weights, options=options), tile=tile)
    if scale is not None and runner.scale != scale:
        raise ZooError(f"the model upsamples by {runner.scale}, not {scale}")
    return runner


def upscale(image, model="xunit_sr_x4", *, scale: int | None = None, tile: int = DEFAULT_TILE,
            progress: bool | None = None, weights="default", options: dict | None = None) -> np.ndarray:
    """Super-resolve an HxWxC float array in [0, 1] (C = 1, 3 or 4) or an image path.

    Returns a float32 array ``scale`` times larger with the same channels.  ``weights``: for a
    model name, "default" (the published weights) or a ``.weights.h5`` file; ``options``: builder
    options for a model name (those the weights file was saved with).

    Example::

        from zoo.restore import upscale
        big = upscale(small_rgb_float_array)   # xunit_sr_x4
    """
    runner = _sr_runner(model, scale, tile, weights, options)
    img = read_image(image) if isinstance(image, (str, Path)) else _array_image(image)
    return restore_image(img, runner, np.float32, progress)


def _array_image(arr) -> Image:
    from zoo.inference import check_array

    arr = np.asarray(arr)
    if arr.ndim == 2:
        arr = arr[..., None]
    if arr.ndim != 3 or arr.shape[-1] not in (1, 3, 4):
        raise InvalidInputError(f"expected an HxW, HxWx1, HxWx3 or HxWx4 array, got shape {arr.shape}")
    if arr.size == 0:
        raise InvalidInputError(f"the image is empty (shape {arr.shape})")
    px = check_array(arr, arr.shape[-1], "image")[0]
    mode = {1: "grey", 3: "rgb", 4: "rgba"}[arr.shape[-1]]
    return Image(px, mode, 8)


def upscale_file(input_path, output_path, model="xunit_sr_x4", *, scale: int | None = None,
                 tile: int = DEFAULT_TILE, progress: bool | None = None, weights="default",
                 options: dict | None = None) -> dict:
    """Upscale an image file into ``output_path`` (same mode and bit depth); returns a report."""
    output_path = check_output_path(output_path)
    img = read_image(input_path)
    runner = _sr_runner(model, scale, tile, weights, options)
    start = time.perf_counter()
    dtype = np.uint16 if img.bit_depth == 16 else np.uint8
    out = restore_image(img, runner, dtype, progress)
    seconds = time.perf_counter() - start
    write_image(output_path, out, bit_depth=img.bit_depth)
    h, w = img.pixels.shape[:2]
    return {"input": str(input_path), "output": str(output_path), "input_size": (w, h),
            "output_size": (out.shape[1], out.shape[0]), "seconds": seconds, "mode": img.mode}


# --- denoising -----------------------------------------------------------------------------

SIGMA_TOLERANCE = 5.0  # a non-blind denoiser accepts noise levels within this of its training sigma


def to_unit_float(arr) -> tuple[np.ndarray, object]:
    """An image array as float32 in [0, 1] plus how to convert results back.

    uint8 is divided by 255, uint16 by 65535, float must already be in [0, 1]; anything
    else is refused with the reason.
    """
    arr = np.asarray(arr)
    if arr.dtype == np.uint8:
        return arr.astype(np.float32) / 255.0, np.uint8
    if arr.dtype == np.uint16:
        return arr.astype(np.float32) / 65535.0, np.uint16
    if arr.dtype.kind == "f":
        if arr.size and np.isfinite(arr).all() and (arr.min() < -1e-3 or arr.max() > 1 + 1e-3):
            raise InvalidInputError(
                f"float image values span [{arr.min():.3g}, {arr.max():.3g}]; zoo takes floats in [0, 1] "
                f"(divide 8-bit values by 255, 16-bit by 65535)"
            )
        return arr.astype(np.float32), np.float32
    raise InvalidInputError(f"unsupported image dtype {arr.dtype}; use uint8, uint16 or float in [0, 1]")


def _from_unit_float(x: np.ndarray, dtype) -> np.ndarray:
    if dtype == np.float32:
        return x.astype(np.float32)
    peak = 255.0 if dtype == np.uint8 else 65535.0
    return np.round(np.clip(x, 0.0, 1.0) * peak).astype(dtype)


def _trained_sigmas(tag) -> tuple[float, float] | None:
    """The noise levels (0-255 scale) a denoiser's weights accept: the training sigma within
    :data:`SIGMA_TOLERANCE`, or a blind net's training range (same tolerance at its ends);
    None when the weights say nothing (a port without a recorded level)."""
    if tag is not None and tag.sigma is not None:
        return tag.sigma - SIGMA_TOLERANCE, tag.sigma + SIGMA_TOLERANCE
    if tag is not None and tag.sigma_range is not None:
        lo, hi = tag.sigma_range
        return lo - SIGMA_TOLERANCE, hi + SIGMA_TOLERANCE
    return None


def _check_sigma(name: str | None, sigma: float | None) -> None:
    if name is None or sigma is None:
        return
    from zoo.registry import resolve_name

    _, tag = resolve_name(name)
    accepted = _trained_sigmas(tag)
    if accepted is not None and not accepted[0] <= float(sigma) <= accepted[1]:
        fitting = _published_denoisers_for(float(sigma))
        hint = (f"published ones for that level: {', '.join(fitting)}" if fitting else
                "no published denoiser is trained for that level (zoo list --pretrained lists them)")
        trained = (f"noise sigma {tag.sigma:g}" if tag.sigma is not None else
                   "noise sigmas {:g}-{:g} (blind)".format(*tag.sigma_range))
        raise ZooError(
            f"{name} was trained for {trained} (on the 0-255 scale) and the image has sigma "
            f"{float(sigma):g}; use a model trained for that level: {hint}"
        )


def _published_denoisers_for(sigma: float) -> list[str]:
    """Published denoiser weights whose training covers ``sigma`` (see :func:`_trained_sigmas`)."""
    from zoo.registry import list_models, resolve_name

    out = []
    for name in list_models(pretrained=True):
        spec, tag = resolve_name(name)
        accepted = _trained_sigmas(tag)
        if spec.task == "denoising" and (accepted is None or accepted[0] <= sigma <= accepted[1]):
            out.append(name)
    return out


def _denoise_pixels(px: np.ndarray, runner: TiledRunner, per_channel: bool, progress) -> np.ndarray:
    alpha = None
    if px.shape[-1] == 4:
        px, alpha = px[..., :3], px[..., 3:]
    if px.shape[-1] == runner.channels:
        out = runner(px, progress=progress)
    elif runner.channels == 1 and px.shape[-1] == 3:
        if not per_channel:
            raise InvalidInputError(
                "this denoiser takes greyscale images and the image is RGB; convert it to greyscale, or "
                "denoise each channel separately with per_channel=True (--per-channel)"
            )
        out = np.concatenate([runner(px[..., i:i + 1], progress=progress) for i in range(3)], -1)
    elif runner.channels == 3 and px.shape[-1] == 1:
        out = runner(np.repeat(px, 3, -1), progress=progress).mean(-1, keepdims=True)
    else:
        raise InvalidInputError(f"cannot feed a {px.shape[-1]}-channel image to a {runner.channels}-channel model")
    out = np.clip(out, 0.0, 1.0)
    return np.concatenate([out, alpha], -1) if alpha is not None else out


#: The model ``denoise`` uses when none is named: the published sigma-25 denoiser with the highest
#: Set12 PSNR in the manifest (KAIR's DnCNN-S; a test keeps this true as weights are added).
DEFAULT_DENOISER = "dncnn_s25"


def denoise(image, model=DEFAULT_DENOISER, *, sigma: float | None = None, per_channel: bool = False,
            tile: int = DEFAULT_TILE, progress: bool | None = None, weights="default",
            options: dict | None = None) -> np.ndarray:
    """Denoise an image path or array (uint8, uint16 or float in [0, 1]); returns the same dtype.

    ``sigma`` (0-255 scale) is checked against a non-blind model's training level and is the
    input of a noise-conditioned one (FFDNet); ``weights``: for a model name, "default" (the
    published weights) or a ``.weights.h5`` file; ``options``: builder options for a model name
    (those the weights file was saved with, e.g. ``{"batch_norm": False}`` for a DnCNN port).

    Example::

        from zoo.restore import denoise
        clean = denoise(noisy_uint8_grey, "dncnn_s25", sigma=25)
        clean = denoise(noisy, "ffdnet", sigma=30, weights="ffdnet_gray.weights.h5")  # a port
    """
    _check_sigma(model if isinstance(model, str) else None, sigma)
    net = _resolve_model(model, "denoising", weights=weights, sigma=sigma, options=options)
    runner = TiledRunner(net, tile=tile)
    if isinstance(image, (str, Path)):
        img = read_image(image)
        return _denoise_pixels(img.pixels, runner, per_channel, progress)
    x, dtype = to_unit_float(image)
    if x.ndim == 2:
        x = x[..., None]
    if x.ndim != 3 or x.shape[-1] not in (1, 3, 4) or x.size == 0:
        raise InvalidInputError(f"expected an HxW, HxWx1, HxWx3 or HxWx4 image, got shape {np.shape(image)}")
    out = _denoise_pixels(x, runner, per_channel, progress)
    return _from_unit_float(out[..., 0] if np.ndim(image) == 2 else out, dtype)


def denoise_file(input_path, output_path, model=DEFAULT_DENOISER, *, sigma: float | None = None,
                 per_channel: bool = False, tile: int = DEFAULT_TILE, progress: bool | None = None,
                 weights="default", options: dict | None = None) -> dict:
    """Denoise an image file into ``output_path`` (same mode and bit depth); returns a report."""
    output_path = check_output_path(output_path)
    _check_sigma(model if isinstance(model, str) else None, sigma)
    img = read_image(input_path)
    net = _resolve_model(model, "denoising", weights=weights, sigma=sigma, options=options)
    runner = TiledRunner(net, tile=tile)
    start = time.perf_counter()
    out = _denoise_pixels(img.pixels, runner, per_channel, progress)
    seconds = time.perf_counter() - start
    write_image(output_path, out, bit_depth=img.bit_depth)
    h, w = img.pixels.shape[:2]
    return {"input": str(input_path), "output": str(output_path), "size": (w, h), "seconds": seconds,
            "mode": img.mode}
