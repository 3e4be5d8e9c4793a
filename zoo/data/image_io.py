"""Reading and writing images as float32 [0, 1] arrays, with one clear error for bad input.

Example::

    from zoo.data.image_io import read_image, write_image
    img = read_image("photo.png")          # Image(pixels HxWxC float32, mode, bit_depth)
    write_image("copy.png", img.pixels, bit_depth=img.bit_depth)
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from pathlib import Path

import numpy as np

from zoo.errors import InvalidInputError, ZooError


@dataclasses.dataclass
class Image:
    pixels: np.ndarray  # HxWxC float32 in [0, 1]; C = 1 (grey), 3 (RGB) or 4 (RGBA)
    mode: str  # "grey", "rgb" or "rgba"
    bit_depth: int  # 8 or 16


def read_image(path: str | Path) -> Image:
    """Read PNG/JPEG/BMP/TIFF/...; 16-bit PNGs keep their precision."""
    from PIL import Image as PILImage
    from PIL import UnidentifiedImageError

    path = Path(path)
    if not path.is_file():
        raise InvalidInputError(f"image {path} does not exist")
    if path.stat().st_size == 0:
        raise InvalidInputError(f"image {path} is an empty file (0 bytes)")
    try:
        with PILImage.open(path) as im:
            im.load()
            pil = im.copy()
    except UnidentifiedImageError:
        raise InvalidInputError(
            f"{path} is not an image Pillow can read (PNG, JPEG, BMP, TIFF, WebP ...)"
        ) from None
    except (OSError, SyntaxError, ValueError) as e:
        raise InvalidInputError(f"image {path} is damaged or truncated: {e}") from None
    if pil.width == 0 or pil.height == 0:
        raise InvalidInputError(f"image {path} has zero size ({pil.width}x{pil.height})")
    return from_pil(pil)


def from_pil(pil) -> Image:
    mode = pil.mode
    if mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(pil, dtype=np.float64)
        depth = 16
        arr = np.clip(arr / 65535.0, 0.0, 1.0)[..., None]
        return Image(arr.astype(np.float32), "grey", depth)
    if mode in ("1", "L"):
        arr = np.asarray(pil.convert("L"), dtype=np.float32)[..., None] / 255.0
        return Image(arr, "grey", 8)
    if mode in ("LA", "PA") or (mode == "P" and "transparency" in pil.info) or mode == "RGBA":
        arr = np.asarray(pil.convert("RGBA"), dtype=np.float32) / 255.0
        return Image(arr, "rgba", 8)
    if mode == "RGB;16" or mode.startswith("RGB") and mode != "RGB":
        pil = pil.convert("RGB")
    arr = np.asarray(pil.convert("RGB"), dtype=np.float32) / 255.0
    return Image(arr, "rgb", 8)


def _to_pil(pixels: np.ndarray, bit_depth: int):
    from PIL import Image as PILImage

    x = np.clip(np.nan_to_num(pixels), 0.0, 1.0)
    if x.ndim == 2:
        x = x[..., None]
    channels = x.shape[-1]
    if bit_depth == 16:
        if channels != 1:
            # Pillow writes 16-bit PNG only for single-channel images.
            raise ZooError("16-bit output is supported for greyscale images only")
        return PILImage.fromarray(np.round(x[..., 0] * 65535).astype(np.uint16))
    u8 = np.round(x * 255).astype(np.uint8)
    if channels == 1:
        return PILImage.fromarray(u8[..., 0], "L")
    return PILImage.fromarray(u8, {3: "RGB", 4: "RGBA"}[channels])


def check_output_path(path: str | Path) -> Path:
    """Raise before any work when ``path`` cannot be written."""
    path = Path(path)
    if not path.parent.is_dir():
        raise ZooError(f"output folder {path.parent} does not exist; create it first")
    if not os.access(path.parent, os.W_OK):
        raise ZooError(f"output folder {path.parent} is not writable")
    if path.suffix.lower() not in (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"):
        raise ZooError(f"output {path} needs an image extension such as .png")
    return path


def write_image(path: str | Path, pixels: np.ndarray, bit_depth: int = 8) -> Path:
    """Write atomically (temp file + rename): a failure leaves nothing behind."""
    path = check_output_path(path)
    pil = _to_pil(pixels, bit_depth)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    os.close(fd)
    try:
        pil.save(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path
