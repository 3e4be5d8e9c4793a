"""Helpers shared by the model tests (and usable by anyone adding a family).

``example_input(spec)`` is the deterministic input on which golden outputs of
published weights are recorded by ``tools/make_golden.py``.
"""

from __future__ import annotations

import numpy as np

from zoo.registry import ModelSpec

SMALL_SIZE = 24  # H = W used for fully convolutional models in tests


def example_shape(spec: ModelSpec, batch: int = 2) -> tuple:
    h, w, c = spec.input_spec.shape
    return (batch, h or SMALL_SIZE, w or SMALL_SIZE, c)


def example_input(spec: ModelSpec, batch: int = 2, seed: int = 0) -> np.ndarray:
    """Smooth random images in [0, 1]: a fixed function of the spec and the seed."""
    rng = np.random.default_rng(seed)
    shape = example_shape(spec, batch)
    coarse = rng.random((shape[0], 4, 4, shape[3]))
    ys = np.linspace(0, 3, shape[1])
    xs = np.linspace(0, 3, shape[2])
    yi, xi = np.floor(ys).astype(int).clip(0, 2), np.floor(xs).astype(int).clip(0, 2)
    fy, fx = (ys - yi)[None, :, None, None], (xs - xi)[None, None, :, None]
    a = coarse[:, yi][:, :, xi]
    b = coarse[:, yi][:, :, xi + 1]
    c = coarse[:, yi + 1][:, :, xi]
    d = coarse[:, yi + 1][:, :, xi + 1]
    img = (a * (1 - fx) + b * fx) * (1 - fy) + (c * (1 - fx) + d * fx) * fy
    return img.astype(np.float32)
