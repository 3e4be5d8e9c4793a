"""Super-resolution data: HR/LR pairs for training (T91 + BSD200) and evaluation (Set5, Set14).

LR images are made the way the SR literature (SRCNN, FSRCNN, VDSR, ...) makes them: the HR image
is mod-cropped (top-left anchored) to a multiple of the scale ``s`` and shrunk with MATLAB's
bicubic ``imresize(hr, 1/s)`` on the uint8 image (rounded like MATLAB), see
:mod:`zoo.data.imresize`.

Training (:func:`sr_train_dataset`): every HR image, and every copy of it first shrunk by a
data-augmentation factor (``scale_augment``, 1.0/0.9/0.8/0.7/0.6 as in FSRCNN/VDSR), is turned
into one (LR, HR) uint8 pair ONCE and held in memory (:class:`SRPairBank`). Batches are then
random aligned crops -- LR crop at ``(y, x)`` <-> HR crop at ``(s*y, s*x)`` -- with one of the 8
dihedral transforms (90-degree rotations x horizontal flip) applied identically to both,
drawn with stateless TF random ops from ``(seed, batch number)`` (same seed -> same
batches). There is deliberately no Python in the input pipeline: a
``tf.data.Dataset.from_generator`` version deadlocked at interpreter exit (TF 2.21: the
iterator's destructor waits for a py_func thread that waits for the GIL). The pixels are
held twice in memory (the numpy bank and a TF variable copy): ~0.8 GB at x4, ~0.9 GB at x2
for T91 + BSD200 with the 5 scale-augmentation factors.

Evaluation (:func:`eval_pairs`): mod-cropped HR and its LR, per image. Grey images (Set14
``bridge``) stay grey, ``(H, W, 1)``: the SR protocol scores a grey image by its grey level
(no BT.601 conversion), see :func:`zoo.metrics.sr_to_y`. Training images are always RGB
(grey ones are replicated to 3 channels).

Example::

    from zoo.data.sr import sr_train_dataset, eval_pairs
    ds = sr_train_dataset(scale=4, patch_size=32, batch_size=16, seed=0)
    lr, hr = next(iter(ds))        # (16, 32, 32, 3), (16, 128, 128, 3) float32 in [0, 1]
    pairs = eval_pairs("sr_set5", 4)   # [(name, lr_uint8, hr_uint8), ...]
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import hashlib
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Sequence

import numpy as np

from zoo.data.imresize import imresize
from zoo.data.paths import dataset_dir
from zoo.errors import ZooError

__all__ = [
    "TRAIN_SETS",
    "SCALE_AUGMENT",
    "list_images",
    "read_uint8",
    "load_hr_images",
    "make_lr",
    "dihedral",
    "SRPairBank",
    "build_pair_bank",
    "load_pair_bank",
    "sr_train_dataset",
    "eval_pairs",
]

TRAIN_SETS = ("sr_t91", "sr_bsd200")
#: HR downscale factors used as data augmentation (FSRCNN / VDSR).
SCALE_AUGMENT = (1.0, 0.9, 0.8, 0.7, 0.6)
_IMAGE_EXT = (".png", ".bmp", ".jpg", ".jpeg", ".tif", ".tiff")
_CACHE_VERSION = 1


# ----------------------------------------------------------------- reading


def list_images(name: str, limit: int | None = None) -> list[Path]:
    """Image files of the shared dataset ``name``, sorted by file name (first ``limit``)."""
    folder = dataset_dir(name)
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in _IMAGE_EXT)
    if not files:
        raise ZooError(f"no images found in {folder}")
    return files[:limit] if limit is not None else files


def read_uint8(path: str | Path, rgb: bool = True) -> np.ndarray:
    """Read an image as uint8: ``(H, W, 3)`` RGB, or ``(H, W, 1)`` for grey when ``rgb=False``.

    With ``rgb=True`` grey images are replicated to 3 channels. Alpha is dropped.
    """
    from PIL import Image

    with Image.open(path) as im:
        im.load()
        if im.mode in ("L", "1", "I;16", "I") and not rgb:
            if im.mode != "L":
                im = im.convert("L")
            return np.asarray(im, dtype=np.uint8)[..., None].copy()
        return np.asarray(im.convert("RGB"), dtype=np.uint8).copy()


def load_hr_images(
    names: Sequence[str] = TRAIN_SETS, limit: int | None = None
) -> list[np.ndarray]:
    """HR training images (uint8 ``(H, W, 3)`` RGB; grey ones replicated to 3 channels).

    ``names`` are shared dataset folders; ``limit`` keeps the first ``limit`` files (sorted by
    name) of each, for quick tests.
    """
    if isinstance(names, str):
        names = (names,)
    files = [f for n in names for f in list_images(n, limit)]
    return _parallel_map(read_uint8, files)


def make_lr(hr_uint8: np.ndarray, scale: int) -> tuple[np.ndarray, np.ndarray]:
    """``(hr_cropped, lr)``: HR mod-cropped to a multiple of ``scale`` (top-left), and
    ``lr = imresize(hr_cropped, 1/scale)`` (MATLAB bicubic on uint8, rounded like MATLAB).

    Works for ``(H, W)``, ``(H, W, 1)`` and ``(H, W, 3)`` uint8 images.
    """
    hr = np.asarray(hr_uint8)
    if hr.dtype != np.uint8:
        raise TypeError(f"make_lr expects a uint8 image, got {hr.dtype}")
    s = int(scale)
    if s < 1 or s != scale:
        raise ValueError(f"scale must be a positive integer, got {scale!r}")
    h, w = hr.shape[:2]
    hr = hr[: h - h % s, : w - w % s]
    if hr.shape[0] == 0 or hr.shape[1] == 0:
        raise ValueError(f"image of size {h}x{w} is smaller than the scale {s}")
    lr = imresize(hr, 1.0 / s)  # MATLAB: imresize(hr, 1/s, 'bicubic')
    if lr.shape[:2] != (hr.shape[0] // s, hr.shape[1] // s):  # ceil(n * (1/s)) rounding slip
        lr = imresize(hr, output_shape=(hr.shape[0] // s, hr.shape[1] // s))
    return hr, lr


def dihedral(x: np.ndarray, k: int) -> np.ndarray:
    """The ``k``-th (0..7) dihedral transform of an ``(H, W, ...)`` array (a view).

    ``k % 4`` quarter turns counter-clockwise (``np.rot90``), then a left-right flip when
    ``k >= 4``. ``k = 0`` is the identity.
    """
    y = np.rot90(x, k % 4, axes=(0, 1))
    return y[:, ::-1] if k >= 4 else y


def _parallel_map(fn, items, workers: int | None = None):
    workers = workers or min(8, os.cpu_count() or 1)
    if workers <= 1 or len(items) <= 1:
        return [fn(i) for i in items]
    with concurrent.futures.ThreadPoolExecutor(workers) as ex:  # numpy/PIL release the GIL
        return list(ex.map(fn, items))


# -------------------------------------------------------------- pair bank


@dataclasses.dataclass
class SRPairBank:
    """In-memory (LR, HR) uint8 pairs of one scale, stored flat, and the patch sampler.

    Pair ``i`` is ``lr_image(i)`` ``(h, w, C)`` and ``hr_image(i)`` ``(s*h, s*w, C)``; all LR
    pixels are rows of ``lr_flat`` ``(N, C)`` (pair after pair, row-major), likewise HR.
    """

    lr_flat: np.ndarray
    hr_flat: np.ndarray
    shapes: np.ndarray  # (n, 2) int64: LR height, width of each pair
    scale: int
    build_seconds: float = 0.0

    def __post_init__(self):
        s = self.scale = int(self.scale)
        self.shapes = np.asarray(self.shapes, dtype=np.int64).reshape(-1, 2)
        if self.lr_flat.dtype != np.uint8 or self.hr_flat.dtype != np.uint8:
            raise TypeError("SRPairBank holds uint8 images")
        if len(self.shapes) == 0:
            raise ValueError("SRPairBank needs at least one pair")
        npix = self.shapes[:, 0] * self.shapes[:, 1]
        self.lr_offsets = np.concatenate([[0], np.cumsum(npix)[:-1]]).astype(np.int64)
        self.hr_offsets = self.lr_offsets * s * s
        if len(self.lr_flat) != npix.sum() or len(self.hr_flat) != npix.sum() * s * s:
            raise ValueError("flat pixel arrays do not match the pair shapes")
        if self.lr_flat.shape[1:] != self.hr_flat.shape[1:]:
            raise ValueError("LR and HR must have the same channels")

    @classmethod
    def from_pairs(cls, pairs: Sequence[tuple[np.ndarray, np.ndarray]], scale: int,
                   build_seconds: float = 0.0) -> "SRPairBank":
        """Bank of ``[(lr, hr), ...]`` uint8 ``(h, w, C)`` / ``(s*h, s*w, C)`` arrays."""
        s = int(scale)
        if not pairs:
            raise ValueError("SRPairBank needs at least one pair")
        for lr, hr in pairs:
            if lr.ndim != 3 or hr.shape != (lr.shape[0] * s, lr.shape[1] * s, lr.shape[2]):
                raise ValueError(f"HR {hr.shape} is not {s} x LR {lr.shape}")
        c = pairs[0][0].shape[2]
        return cls(
            np.concatenate([lr.reshape(-1, c) for lr, _ in pairs]),
            np.concatenate([hr.reshape(-1, c) for _, hr in pairs]),
            np.array([lr.shape[:2] for lr, _ in pairs], dtype=np.int64),
            s,
            build_seconds,
        )

    def __len__(self) -> int:
        return len(self.shapes)

    @property
    def channels(self) -> int:
        return int(self.lr_flat.shape[1])

    @property
    def nbytes(self) -> int:
        return int(self.lr_flat.nbytes + self.hr_flat.nbytes)

    def lr_image(self, i: int) -> np.ndarray:
        h, w = self.shapes[i]
        o = self.lr_offsets[i]
        return self.lr_flat[o : o + h * w].reshape(h, w, -1)

    def hr_image(self, i: int) -> np.ndarray:
        h, w = self.shapes[i] * self.scale
        o = self.hr_offsets[i]
        return self.hr_flat[o : o + h * w].reshape(h, w, -1)

    def pair_probabilities(self, patch_size: int) -> tuple[np.ndarray, np.ndarray]:
        """Pairs large enough for a ``patch_size`` LR crop, and their sampling probabilities
        (proportional to their number of crop positions)."""
        p = int(patch_size)
        counts = np.maximum(0, self.shapes[:, 0] - p + 1) * np.maximum(0, self.shapes[:, 1] - p + 1)
        usable = np.flatnonzero(counts > 0)
        if usable.size == 0:
            raise ZooError(f"no LR image is at least {p}x{p}; use a smaller patch")
        c = counts[usable].astype(np.float64)
        return usable, c / c.sum()

    def sampler(self, patch_size: int, batch_size: int, seed: int, augment: bool = True):
        """A TensorFlow function ``step -> (lr, hr, meta)`` drawing batch number ``step``.

        ``lr`` ``(B, p, p, C)`` and ``hr`` ``(B, s*p, s*p, C)`` are uint8; ``meta`` ``(B, 4)``
        int64 holds each patch's ``(pair, y, x, k)``: LR crop ``lr_image(pair)[y:y+p, x:x+p]``,
        HR crop ``hr_image(pair)[s*y:s*(y+p), s*x:s*(x+p)]``, both transformed by
        ``dihedral(., k)``. Pairs are drawn with :meth:`pair_probabilities` (uniform over all
        crop positions of the bank), positions uniformly, ``k`` uniformly in 0..7 (0 when not
        ``augment``). Stateless: the batch depends only on ``(seed, step)``.
        """
        import tensorflow as tf

        p, b, s = int(patch_size), int(batch_size), self.scale
        usable, probs = self.pair_probabilities(p)
        # The pixels live in (non-trainable, CPU) variables: captured by reference in the
        # tf.data function, instead of constants copied into (and serialized with) its graph.
        with tf.init_scope(), tf.device("/CPU:0"):
            lr_flat = tf.Variable(self.lr_flat, trainable=False, name="sr_lr_pixels")
            hr_flat = tf.Variable(self.hr_flat, trainable=False, name="sr_hr_pixels")
        usable_t = tf.constant(usable, tf.int64)
        logits = tf.constant(np.log(probs)[None, :], tf.float32)
        heights = tf.constant(self.shapes[:, 0])
        widths = tf.constant(self.shapes[:, 1])
        lr_off = tf.constant(self.lr_offsets)
        hr_off = tf.constant(self.hr_offsets)
        seed = int(seed)

        def source_coords(k, n):
            # Output pixel (i, j) of dihedral(patch, k) comes from patch[r, c]; see dihedral().
            i = tf.range(n, dtype=tf.int64)[None, :, None]
            j = tf.range(n, dtype=tf.int64)[None, None, :]
            k = k[:, None, None]
            j = tf.where(k >= 4, n - 1 - j, j)
            m = k % 4
            r = tf.where(m == 0, i, tf.where(m == 1, j, tf.where(m == 2, n - 1 - i, n - 1 - j)))
            c = tf.where(m == 0, j, tf.where(m == 1, n - 1 - i, tf.where(m == 2, n - 1 - j, i)))
            return r, c

        def crop(flat, offsets, width, y0, x0, k, n):
            r, c = source_coords(k, n)
            e = lambda v: v[:, None, None]  # noqa: E731
            return tf.gather(flat, e(offsets) + (e(y0) + r) * e(width) + e(x0) + c)

        def draw(step):
            key = tf.stack([tf.constant(seed, tf.int64), tf.cast(step, tf.int64)])
            k_pick, k_pos, k_dih = tf.unstack(tf.random.split(key, 3))
            idx = tf.gather(usable_t, tf.random.stateless_categorical(logits, b, k_pick, dtype=tf.int64)[0])
            h, w = tf.gather(heights, idx), tf.gather(widths, idx)
            u = tf.random.stateless_uniform([2, b], k_pos, dtype=tf.float64)
            y = tf.minimum(tf.cast(u[0] * tf.cast(h - p + 1, tf.float64), tf.int64), h - p)
            x = tf.minimum(tf.cast(u[1] * tf.cast(w - p + 1, tf.float64), tf.int64), w - p)
            if augment:
                k = tf.random.stateless_uniform([b], k_dih, minval=0, maxval=8, dtype=tf.int64)
            else:
                k = tf.zeros([b], tf.int64)
            lr = crop(lr_flat, tf.gather(lr_off, idx), w, y, x, k, p)
            hr = crop(hr_flat, tf.gather(hr_off, idx), w * s, y * s, x * s, k, p * s)
            return lr, hr, tf.stack([idx, y, x, k], axis=1)

        draw.variables = (lr_flat, hr_flat)  # keep the pixel buffers alive with the function
        return draw


def _pairs_of(hr: np.ndarray, scale: int, factors: Sequence[float]) -> list[tuple[np.ndarray, np.ndarray]]:
    out = []
    for f in factors:
        src = hr if f == 1.0 else imresize(hr, float(f))  # uint8 in -> uint8 out (MATLAB rounding)
        if min(src.shape[:2]) < scale:
            continue
        h, l = make_lr(src, scale)
        out.append((l, h))
    return out


def build_pair_bank(
    hr_images: Sequence[np.ndarray],
    scale: int,
    scale_augment: Sequence[float] = SCALE_AUGMENT,
    workers: int | None = None,
) -> SRPairBank:
    """Precompute the (LR, HR) pairs of every image and every downscale factor.

    For each HR image and factor ``f``: ``hr_f = imresize(hr, f)`` (uint8, skipped for
    ``f = 1``), then ``make_lr(hr_f, scale)``. Runs in a thread pool.
    """
    factors = tuple(float(f) for f in (scale_augment or (1.0,)))
    if any(not 0 < f <= 1 for f in factors):
        raise ValueError(f"scale_augment factors must be in (0, 1], got {scale_augment!r}")
    t0 = time.perf_counter()
    per_image = _parallel_map(lambda im: _pairs_of(im, int(scale), factors), list(hr_images), workers)
    pairs = [pair for image_pairs in per_image for pair in image_pairs]
    return SRPairBank.from_pairs(pairs, int(scale), time.perf_counter() - t0)


def _cache_key(names, limit, scale, factors) -> str:
    files = []
    for n in names:
        for f in list_images(n, limit):
            st = f.stat()
            files.append([n, f.name, st.st_size, int(st.st_mtime)])
    blob = json.dumps(
        {"v": _CACHE_VERSION, "scale": int(scale), "factors": list(factors), "files": files},
        sort_keys=True,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _save_bank(bank: SRPairBank, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".npz")
    os.close(fd)
    try:
        with open(tmp, "wb") as f:
            np.savez(f, lr_flat=bank.lr_flat, hr_flat=bank.hr_flat, shapes=bank.shapes,
                     scale=np.int64(bank.scale))
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _load_bank(path: Path) -> SRPairBank:
    t0 = time.perf_counter()
    with np.load(path) as z:
        arrays = {k: z[k] for k in ("lr_flat", "hr_flat", "shapes", "scale")}
    return SRPairBank(arrays["lr_flat"], arrays["hr_flat"], arrays["shapes"], int(arrays["scale"]),
                      time.perf_counter() - t0)


def load_pair_bank(
    scale: int,
    names: Sequence[str] = TRAIN_SETS,
    scale_augment: Sequence[float] = SCALE_AUGMENT,
    limit: int | None = None,
    cache_dir: str | Path | None = None,
) -> SRPairBank:
    """The pair bank of shared datasets ``names`` (first ``limit`` files of each).

    With ``cache_dir`` it is read from / saved to an ``.npz`` there, keyed by the file list
    (names, sizes, mtimes), the scale and the factors. ``build_seconds`` is the time to read
    and precompute (or to load the cache).
    """
    if isinstance(names, str):
        names = (names,)
    factors = tuple(float(f) for f in (scale_augment or (1.0,)))
    path = None
    if cache_dir is not None:
        path = Path(cache_dir) / f"sr_pairs_x{int(scale)}_{_cache_key(names, limit, scale, factors)}.npz"
        if path.is_file():
            return _load_bank(path)
    t0 = time.perf_counter()
    bank = build_pair_bank(load_hr_images(names, limit), scale, factors)
    bank.build_seconds = time.perf_counter() - t0
    if path is not None:
        _save_bank(bank, path)
    return bank


# ---------------------------------------------------------------- tf.data


def sr_train_dataset(
    scale: int,
    patch_size: int,
    batch_size: int,
    seed: int,
    names: Sequence[str] = TRAIN_SETS,
    augment: bool = True,
    scale_augment: Sequence[float] = SCALE_AUGMENT,
    cache_dir: str | Path | None = None,
    limit: int | None = None,
    hr_images: Sequence[np.ndarray] | None = None,
    bank: SRPairBank | None = None,
    start_step: int = 0,
):
    """Endless ``tf.data.Dataset`` of ``(lr, hr)`` float32 RGB batches in [0, 1].

    Shapes ``(batch_size, p, p, 3)`` and ``(batch_size, p*s, p*s, 3)`` (``p = patch_size``).
    The pairs come from ``bank`` if given, else are precomputed from ``hr_images`` (uint8 RGB
    arrays), else from the shared datasets ``names`` (first ``limit`` files of each, optional
    ``.npz`` cache in ``cache_dir``); see :func:`build_pair_bank`. ``augment`` switches the 8
    dihedral transforms; ``scale_augment`` the HR downscale factors (``(1.0,)`` for none).

    Batch ``n`` is drawn by :meth:`SRPairBank.sampler` from ``(seed, n)`` alone, with TF ops
    on the in-memory bank (no Python in the input pipeline): the same seed gives the same
    batches on every iteration, and ``start_step`` resumes the sequence at batch
    ``start_step``. The bank is available as ``dataset.sr_bank``.
    """
    import tensorflow as tf

    if bank is None:
        if hr_images is not None:
            bank = build_pair_bank(hr_images, scale, scale_augment)
        else:
            bank = load_pair_bank(scale, names, scale_augment, limit, cache_dir)
    if bank.scale != int(scale):
        raise ValueError(f"bank is x{bank.scale}, asked for x{scale}")
    draw = bank.sampler(patch_size, batch_size, seed, augment)

    def batch(step):
        lr, hr, _ = draw(step)
        return tf.cast(lr, tf.float32) / 255.0, tf.cast(hr, tf.float32) / 255.0

    ds = tf.data.Dataset.counter(int(start_step), dtype=tf.int64)
    ds = ds.map(batch, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    ds = ds.prefetch(tf.data.AUTOTUNE)
    ds.sr_bank, ds.sr_sampler = bank, draw
    return ds


# ------------------------------------------------------------- evaluation


def eval_pairs(name: str, scale: int, limit: int | None = None) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """``[(image_name, lr_uint8, hr_uint8), ...]`` of an SR test set (``sr_set5``, ``sr_set14``).

    HR is mod-cropped (top-left) to a multiple of ``scale``; LR = MATLAB ``imresize(hr, 1/s)``
    on uint8 (:func:`make_lr`). Colour images are ``(H, W, 3)`` RGB; grey images (Set14
    ``bridge``) are kept grey, ``(H, W, 1)``, so that they are scored on their grey level as
    the SR literature does. ``image_name`` is the file stem. Sorted by file name.
    """
    out = []
    for path in list_images(name, limit):
        hr, lr = make_lr(read_uint8(path, rgb=False), scale)
        out.append((path.stem, lr, np.ascontiguousarray(hr)))
    return out
