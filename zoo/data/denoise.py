"""Training data for Gaussian denoisers: noisy/clean patch pairs from Train400.

Patches are random crops of the 400 grey 180x180 BSD images (DnCNN's Train400), with the
8 flips/rotations, and white Gaussian noise of a fixed ``sigma`` or, for blind denoisers, a
sigma drawn per patch uniformly from ``sigma_range`` (both on the 0-255 scale).  Everything
is TF ops on an in-memory uint8 bank, drawn from stateless seeds, so a run is reproducible.

Example::

    from zoo.data.denoise import denoise_train_dataset
    ds = denoise_train_dataset(patch_size=40, batch_size=32, seed=0, sigma=25)
    noisy, clean = next(iter(ds))      # (32, 40, 40, 1) float32 each
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

TRAIN_SET = "denoise_train400"


def load_train_images(name: str = TRAIN_SET, limit: int | None = None) -> np.ndarray:
    """All training images as one uint8 array (N, H, W, 1); they share one size in Train400."""
    from zoo.data.sr import list_images, read_uint8

    images = [read_uint8(p, rgb=False) for p in list_images(name, limit)]
    shapes = {im.shape for im in images}
    if len(shapes) != 1:
        size = min(min(s[0], s[1]) for s in shapes)
        images = [im[:size, :size] for im in images]
    return np.stack(images)


def denoise_train_dataset(patch_size: int, batch_size: int, seed: int, sigma: float | None = None,
                          sigma_range: Sequence[float] = (0.0, 55.0), images: np.ndarray | None = None,
                          name: str = TRAIN_SET, start_step: int = 0):
    """Endless ``(noisy, clean)`` float32 batches in [0, 1] (noisy is not clipped, like the protocol).

    Batch ``n`` depends on ``(seed, n)`` alone; ``start_step`` resumes the sequence at batch ``start_step``."""
    import tensorflow as tf

    bank = images if images is not None else load_train_images(name)
    if bank.ndim == 3:
        bank = bank[..., None]
    n, h, w, _ = bank.shape
    if min(h, w) < patch_size:
        raise ValueError(f"training images are {h}x{w}, smaller than the {patch_size} px patches")
    bank_t = tf.constant(bank)
    p, b = int(patch_size), int(batch_size)

    def make(step):
        seeds = tf.random.experimental.stateless_split(tf.stack([tf.cast(seed, tf.int64), step]), 6)
        idx = tf.random.stateless_uniform([b], seeds[0], 0, n, dtype=tf.int32)
        ys = tf.random.stateless_uniform([b], seeds[1], 0, h - p + 1, dtype=tf.int32)
        xs = tf.random.stateless_uniform([b], seeds[2], 0, w - p + 1, dtype=tf.int32)
        ks = tf.random.stateless_uniform([b], seeds[3], 0, 8, dtype=tf.int32)

        def crop(args):
            i, y, x, k = args
            patch = tf.cast(bank_t[i, y:y + p, x:x + p], tf.float32) / 255.0
            patch = tf.image.rot90(patch, k % 4)
            return tf.cond(k >= 4, lambda: tf.image.flip_left_right(patch), lambda: patch)

        clean = tf.map_fn(crop, (idx, ys, xs, ks), fn_output_signature=tf.TensorSpec([p, p, 1], tf.float32))
        if sigma is None:
            lo, hi = float(sigma_range[0]), float(sigma_range[1])
            s = tf.random.stateless_uniform([b, 1, 1, 1], seeds[4], lo, hi) / 255.0
        else:
            s = tf.fill([b, 1, 1, 1], float(sigma) / 255.0)
        noisy = clean + s * tf.random.stateless_normal([b, p, p, 1], seeds[5])
        return noisy, clean

    ds = tf.data.Dataset.counter(start=int(start_step)).map(make, num_parallel_calls=2)
    return ds.prefetch(2)


def val_dataset(sigma: float | None, size: int = 96, seed: int = 1234):
    """Set12 centre crops with seeded noise (sigma 25 for blind nets), one batch, for monitoring."""
    import tensorflow as tf

    from zoo.eval_dn import noisy_images

    pairs = noisy_images(25.0 if sigma is None else sigma, seed=seed)
    cleans, noisies = [], []
    for _, clean8, noisy in pairs:
        hh, ww = clean8.shape[:2]
        y0, x0 = (hh - size) // 2, (ww - size) // 2
        cleans.append(clean8[y0:y0 + size, x0:x0 + size].astype(np.float32) / 255.0)
        noisies.append(noisy[y0:y0 + size, x0:x0 + size].astype(np.float32))
    return tf.data.Dataset.from_tensor_slices((np.stack(noisies), np.stack(cleans))).batch(len(cleans))
