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
    if _png_bit_depth(path) == 16:
        return _read_png16(path)
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


def _png_bit_depth(path: Path) -> int | None:
    with open(path, "rb") as f:
        head = f.read(26)
    if head[:8] != b"\x89PNG\r\n\x1a\n" or len(head) < 26:
        return None
    return head[24]


def _read_png16(path: Path) -> Image:
    """16-bit PNG of any colour type (Pillow reduces 16-bit colour PNGs to 8 bits)."""
    import png

    try:
        width, height, rows, info = png.Reader(filename=str(path)).asDirect()
        arr = np.vstack([np.asarray(r, dtype=np.uint16) for r in rows])
    except (png.Error, ValueError, OSError) as e:
        raise InvalidInputError(f"image {path} is damaged or truncated: {e}") from None
    planes = info["planes"]
    arr = arr.reshape(height, width, planes).astype(np.float32) / 65535.0
    if planes == 2:  # grey + alpha -> RGBA
        arr = np.concatenate([np.repeat(arr[..., :1], 3, -1), arr[..., 1:]], -1)
    mode = {1: "grey", 3: "rgb", 2: "rgba", 4: "rgba"}[planes]
    return Image(arr, mode, 16)


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


def _quantize(pixels: np.ndarray, bit_depth: int) -> np.ndarray:
    dtype = np.uint16 if bit_depth == 16 else np.uint8
    if pixels.dtype == dtype:
        return pixels
    peak = 65535.0 if bit_depth == 16 else 255.0
    return np.round(np.clip(np.nan_to_num(pixels), 0.0, 1.0) * peak).astype(dtype)


def _to_pil(u8: np.ndarray):
    from PIL import Image as PILImage

    if u8.ndim == 2:
        u8 = u8[..., None]
    channels = u8.shape[-1]
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


def _write_png16(path: str, q: np.ndarray) -> None:
    import png

    h, w, c = q.shape
    mode = {1: "L;16", 3: "RGB;16", 4: "RGBA;16"}[c]
    png.from_array(q.reshape(h, w * c), mode).save(path)


def write_image(path: str | Path, pixels: np.ndarray, bit_depth: int = 8) -> Path:
    """Write float [0, 1] pixels (or uint8 / uint16 arrays as they are) atomically:
    temp file + rename, so a failure leaves nothing behind.  ``bit_depth=16`` needs a .png path."""
    path = check_output_path(path)
    if bit_depth not in (8, 16):
        raise ZooError(f"bit_depth must be 8 or 16, got {bit_depth}")
    if bit_depth == 16 and path.suffix.lower() != ".png":
        raise ZooError(f"16-bit images can only be written as PNG, not {path.suffix}")
    q = _quantize(pixels, bit_depth)
    if q.ndim == 2:
        q = q[..., None]
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    os.close(fd)
    try:
        if bit_depth == 16:
            _write_png16(tmp, q)
        else:
            _to_pil(q).save(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path
