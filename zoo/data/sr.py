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
drawn by a background numpy generator seeded with ``seed`` (same seed -> same batches).

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
from typing import Iterator, Sequence

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
    """In-memory (LR, HR) uint8 pairs of one scale and the patch sampler over them.

    ``lr[i]`` is ``(h, w, 3)`` and ``hr[i]`` is exactly ``(s*h, s*w, 3)``.
    """

    lr: list[np.ndarray]
    hr: list[np.ndarray]
    scale: int
    build_seconds: float = 0.0

    def __post_init__(self):
        if len(self.lr) != len(self.hr) or not self.lr:
            raise ValueError("SRPairBank needs the same, non-zero number of LR and HR images")
        s = self.scale
        for lr, hr in zip(self.lr, self.hr):
            if lr.dtype != np.uint8 or hr.dtype != np.uint8:
                raise TypeError("SRPairBank holds uint8 images")
            if hr.shape != (lr.shape[0] * s, lr.shape[1] * s) + lr.shape[2:]:
                raise ValueError(f"HR {hr.shape} is not {s} x LR {lr.shape}")

    def __len__(self) -> int:
        return len(self.lr)

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in self.lr) + sum(a.nbytes for a in self.hr)

    def _weights(self, patch_size: int) -> tuple[np.ndarray, np.ndarray]:
        """Indices of pairs that fit a patch, and their sampling probabilities (crop counts)."""
        counts = np.array(
            [max(0, a.shape[0] - patch_size + 1) * max(0, a.shape[1] - patch_size + 1) for a in self.lr],
            dtype=np.float64,
        )
        usable = np.flatnonzero(counts > 0)
        if usable.size == 0:
            raise ZooError(f"no LR image is at least {patch_size}x{patch_size}; use a smaller patch")
        return usable, counts[usable] / counts[usable].sum()

    def batches(
        self,
        patch_size: int,
        batch_size: int,
        seed: int,
        augment: bool = True,
        return_meta: bool = False,
    ) -> Iterator:
        """Endless ``(lr, hr)`` uint8 batches ``(B, p, p, C)``, ``(B, s*p, s*p, C)``.

        Each patch picks a pair with probability proportional to its number of possible crops
        (i.e. uniform over all crop positions of the bank, like dense patch extraction), a
        uniform crop position, and (``augment``) a uniform dihedral transform applied to both.
        With ``return_meta`` also yields an ``(B, 4)`` int array of ``(pair, y, x, k)``.
        """
        p, s, b = int(patch_size), self.scale, int(batch_size)
        usable, probs = self._weights(p)
        rng = np.random.default_rng(seed)
        c = self.lr[0].shape[2]
        lr_h = np.array([a.shape[0] for a in self.lr])
        lr_w = np.array([a.shape[1] for a in self.lr])
        while True:
            idx = usable[rng.choice(usable.size, size=b, p=probs)]
            ys = (rng.random(b) * (lr_h[idx] - p + 1)).astype(np.int64)
            xs = (rng.random(b) * (lr_w[idx] - p + 1)).astype(np.int64)
            ks = rng.integers(0, 8, size=b) if augment else np.zeros(b, np.int64)
            lr_out = np.empty((b, p, p, c), np.uint8)
            hr_out = np.empty((b, s * p, s * p, c), np.uint8)
            for j in range(b):
                i, y, x, k = idx[j], ys[j], xs[j], ks[j]
                lr_out[j] = dihedral(self.lr[i][y : y + p, x : x + p], k)
                hr_out[j] = dihedral(self.hr[i][s * y : s * (y + p), s * x : s * (x + p)], k)
            if return_meta:
                yield lr_out, hr_out, np.stack([idx, ys, xs, ks], axis=1)
            else:
                yield lr_out, hr_out


def _pairs_of(hr: np.ndarray, scale: int, factors: Sequence[float]) -> list[tuple[np.ndarray, np.ndarray]]:
    out = []
    for f in factors:
        src = hr if f == 1.0 else imresize(hr, float(f))  # uint8 in -> uint8 out (MATLAB rounding)
        if min(src.shape[:2]) < scale:
            continue
        h, l = make_lr(src, scale)
        out.append((l, np.ascontiguousarray(h)))
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
    lrs = [l for pairs in per_image for l, _ in pairs]
    hrs = [h for pairs in per_image for _, h in pairs]
    return SRPairBank(lrs, hrs, int(scale), time.perf_counter() - t0)


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
    arrays = {}
    for i, (l, h) in enumerate(zip(bank.lr, bank.hr)):
        arrays[f"lr{i}"], arrays[f"hr{i}"] = l, h
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".npz")
    os.close(fd)
    try:
        np.savez(tmp, scale=np.int64(bank.scale), n=np.int64(len(bank)), **arrays)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _load_bank(path: Path) -> SRPairBank:
    t0 = time.perf_counter()
    with np.load(path) as z:
        n = int(z["n"])
        lr = [z[f"lr{i}"] for i in range(n)]
        hr = [z[f"hr{i}"] for i in range(n)]
        scale = int(z["scale"])
    return SRPairBank(lr, hr, scale, time.perf_counter() - t0)


def load_pair_bank(
    scale: int,
    names: Sequence[str] = TRAIN_SETS,
    scale_augment: Sequence[float] = SCALE_AUGMENT,
    limit: int | None = None,
    cache_dir: str | Path | None = None,
) -> SRPairBank:
    """The pair bank of shared datasets ``names``; with ``cache_dir``, read from / saved to an
    ``.npz`` there, keyed by the file list, scale and factors."""
    if isinstance(names, str):
        names = (names,)
    factors = tuple(float(f) for f in (scale_augment or (1.0,)))
    if cache_dir is not None:
        path = Path(cache_dir) / f"sr_pairs_x{int(scale)}_{_cache_key(names, limit, scale, factors)}.npz"
        if path.is_file():
            return _load_bank(path)
    t0 = time.perf_counter()
    bank = build_pair_bank(load_hr_images(names, limit), scale, factors)
    bank.build_seconds = time.perf_counter() - t0
    if cache_dir is not None:
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
):
    """Endless ``tf.data.Dataset`` of ``(lr, hr)`` float32 RGB batches in [0, 1].

    Shapes ``(batch_size, p, p, 3)`` and ``(batch_size, p*s, p*s, 3)`` (``p = patch_size``).
    The pairs come from ``bank`` if given, else from ``hr_images`` (uint8 RGB arrays), else
    from the shared datasets ``names`` (first ``limit`` files of each); see
    :func:`build_pair_bank`. Pairs are precomputed once, then patches are cropped by a seeded
    numpy generator (:meth:`SRPairBank.batches`): iterating the dataset again restarts the same
    sequence. ``augment`` switches the 8 dihedral transforms; ``scale_augment`` the HR
    downscale factors (``(1.0,)`` for none). The bank is available as ``dataset.sr_bank``.
    """
    import tensorflow as tf

    if bank is None:
        if hr_images is not None:
            bank = build_pair_bank(hr_images, scale, scale_augment)
        else:
            bank = load_pair_bank(scale, names, scale_augment, limit, cache_dir)
    if bank.scale != int(scale):
        raise ValueError(f"bank is x{bank.scale}, asked for x{scale}")
    p, s, b = int(patch_size), int(scale), int(batch_size)
    bank._weights(p)  # fail now, not inside tf.data, when no image fits the patch
    c = bank.lr[0].shape[2]

    def gen():
        yield from bank.batches(p, b, seed, augment)

    ds = tf.data.Dataset.from_generator(
        gen,
        output_signature=(
            tf.TensorSpec((b, p, p, c), tf.uint8),
            tf.TensorSpec((b, s * p, s * p, c), tf.uint8),
        ),
    )

    def to_float(lr, hr):
        return tf.cast(lr, tf.float32) / 255.0, tf.cast(hr, tf.float32) / 255.0

    ds = ds.map(to_float, num_parallel_calls=1).repeat().prefetch(4)
    ds.sr_bank = bank
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
