"""Overlapping-tile application of a fully convolutional predictor (numpy only, no TensorFlow).

Used by :mod:`zoo.restore` (Keras models) and :mod:`zoo.runtime` (LiteRT models).
"""

from __future__ import annotations

import sys
from typing import Callable

import numpy as np


def tile_apply(predict: Callable[[np.ndarray], np.ndarray], x: np.ndarray, *, scale: int, out_channels: int,
               tile: int, overlap: int, out_dtype=np.float32, progress: bool | None = None,
               align: int = 1) -> np.ndarray:
    """Apply ``predict`` (1xhxwxC -> 1x(s*h)x(s*w)xC') to ``x`` (HxWxC) tile by tile.

    Each tile is cut with ``overlap`` pixels of context on every side (clamped at the
    image border) and only its centre is kept, so with ``overlap`` >= the receptive radius
    the result equals a whole-image run.  Integer ``out_dtype`` (uint8/uint16) stores
    clipped, rounded values, which keeps the output buffer small for large images.
    ``align``: crops start on multiples of it (nets with strided codes, e.g. CSCNet).
    """
    h, w, _ = x.shape
    s = scale
    t = max(align, tile // align * align)
    o = -(-overlap // align) * align
    out = np.empty((h * s, w * s, out_channels), dtype=out_dtype)
    peak = {np.uint8: 255.0, np.uint16: 65535.0}.get(np.dtype(out_dtype).type)
    origins = [(y, xx) for y in range(0, h, t) for xx in range(0, w, t)]
    show = progress if progress is not None else (len(origins) > 4 and sys.stderr.isatty())
    bar = None
    if show:
        from tqdm import tqdm

        bar = tqdm(total=len(origins), unit="tile", desc=f"{w}x{h} -> {w * s}x{h * s}", file=sys.stderr)
    for y0, x0 in origins:
        y1, x1 = min(y0 + t, h), min(x0 + t, w)
        cy0, cx0 = max(0, y0 - o), max(0, x0 - o)
        cy1, cx1 = min(h, y1 + o), min(w, x1 + o)
        pred = np.asarray(predict(np.ascontiguousarray(x[None, cy0:cy1, cx0:cx1])))[0]
        oy, ox = (y0 - cy0) * s, (x0 - cx0) * s
        region = pred[oy:oy + (y1 - y0) * s, ox:ox + (x1 - x0) * s]
        if peak is not None:
            region = np.round(np.clip(region, 0.0, 1.0) * peak)
        out[y0 * s:y1 * s, x0 * s:x1 * s] = region
        if bar:
            bar.update(1)
    if bar:
        bar.close()
    return out
