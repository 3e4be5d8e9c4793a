"""Running models on user data: classification helpers.

Example::

    import zoo
    from zoo.inference import classify
    model = zoo.load("lenet5")
    classify(model, "digit.png", top_k=3)   # [(7, 0.998), (1, 0.001), (2, 0.0005)]
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from zoo.data.image_io import read_image
from zoo.errors import InvalidInputError


def check_array(x: np.ndarray, channels: int, what: str = "input") -> np.ndarray:
    """Validate an NHWC (or HWC) float array in [0, 1] with ``channels`` channels."""
    x = np.asarray(x)
    if x.dtype.kind not in "fui":
        raise InvalidInputError(f"{what} must be numeric, got dtype {x.dtype}")
    if x.ndim == 3:
        x = x[None]
    if x.ndim != 4:
        raise InvalidInputError(f"{what} must be HxWxC or NxHxWxC, got shape {x.shape}")
    if x.shape[-1] != channels:
        raise InvalidInputError(
            f"{what} has {x.shape[-1]} channels, the model takes {channels}; convert the "
            f"image (e.g. to {'greyscale' if channels == 1 else 'RGB'}) first"
        )
    if x.dtype.kind in "ui":
        raise InvalidInputError(
            f"{what} is an integer array ({x.dtype}); divide by 255 (uint8) or 65535 (uint16) "
            f"to get float values in [0, 1]"
        )
    if not np.isfinite(x).all():
        raise InvalidInputError(f"{what} contains NaN or Inf values")
    if x.min() < -1e-3 or x.max() > 1 + 1e-3:
        raise InvalidInputError(
            f"{what} values span [{x.min():.3g}, {x.max():.3g}]; the model takes [0, 1]"
        )
    return x.astype(np.float32)


def load_digit_image(path: str | Path, size=(28, 28)) -> np.ndarray:
    """An image file as an MNIST-like HxWx1 array: grey, white digit on black, ``size``.

    Dark-on-light images (mean above 0.5) are inverted so they look like MNIST.
    """
    from PIL import Image as PILImage

    img = read_image(path)
    px = img.pixels
    if img.mode == "rgba":
        alpha = px[..., 3:4]
        px = px[..., :3] * alpha + (1.0 - alpha)  # composite on white paper
    grey = px[..., 0] if px.shape[-1] == 1 else px[..., :3] @ np.array([0.299, 0.587, 0.114])
    if grey.mean() > 0.5:
        grey = 1.0 - grey
    if grey.shape != tuple(size):
        pil = PILImage.fromarray(grey.astype(np.float32), "F")
        grey = np.asarray(pil.resize(size[::-1], PILImage.Resampling.BOX), dtype=np.float32)
    return np.clip(grey, 0.0, 1.0)[..., None].astype(np.float32)


def classify(model, images, top_k: int = 5, class_names=None):
    """Top-k ``(class, probability)`` lists for image paths or an NHWC array in [0, 1]."""
    if top_k < 1:
        raise InvalidInputError(f"top_k must be at least 1, got {top_k}")
    h, w, c = model.input_shape[1:]
    if isinstance(images, (str, Path)):
        images = [images]
    if isinstance(images, (list, tuple)) and images and isinstance(images[0], (str, Path)):
        batch = np.stack([load_digit_image(p, (h, w)) for p in images])
    else:
        batch = check_array(images, c)
        if batch.shape[1:3] != (h, w):
            raise InvalidInputError(
                f"images are {batch.shape[1]}x{batch.shape[2]}, the model takes {h}x{w}"
            )
    probs = np.asarray(model.predict(batch, verbose=0))
    k = min(top_k, probs.shape[-1])
    out = []
    for p in probs:
        order = np.argsort(-p)[:k]
        out.append([((class_names[i] if class_names else int(i)), float(p[i])) for i in order])
    return out
