"""Tests for zoo.data.sr: LR making, the precomputed pair bank, the patch sampler and tf.data.

Exact alignment is checked on synthetic banks whose HR is the LR with every pixel repeated
s x s times: an HR crop is then the block-repeated LR crop if and only if it was taken at
(s*y, s*x) and got the same dihedral transform. The real-data checks use a few images only.
"""

import numpy as np
import pytest
from conftest import shared_path

from zoo.data.imresize import imresize
from zoo.data.sr import (
    SRPairBank,
    build_pair_bank,
    dihedral,
    eval_pairs,
    load_hr_images,
    load_pair_bank,
    make_lr,
    sr_train_dataset,
)
from zoo.errors import ZooError


def _inverse(k: int) -> int:
    # rotations invert to the opposite rotation; rotation+flip is a reflection (self-inverse)
    return (4 - k) % 4 if k < 4 else k


def _block_bank(scale, sizes, seed=0, channels=3):
    rng = np.random.default_rng(seed)
    pairs = []
    for h, w in sizes:
        lr = rng.integers(0, 256, (h, w, channels), dtype=np.uint8)
        pairs.append((lr, lr.repeat(scale, 0).repeat(scale, 1)))
    return SRPairBank.from_pairs(pairs, scale)


def _smooth_image(h, w, seed=0):
    """A natural-ish uint8 RGB image: smooth gradients plus texture."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    base = np.stack(
        [128 + 90 * np.sin(xx / 7.0 + c) * np.cos(yy / 11.0 - c) for c in range(3)], axis=-1
    )
    noise = rng.normal(0, 12, (h, w, 3))
    return np.clip(np.round(base + noise), 0, 255).astype(np.uint8)


# ------------------------------------------------------------------ make_lr / dihedral


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_make_lr_modcrops_and_uses_matlab_imresize(scale):
    img = _smooth_image(37, 50)
    hr, lr = make_lr(img, scale)
    assert hr.shape == (37 - 37 % scale, 50 - 50 % scale, 3)
    np.testing.assert_array_equal(hr, img[: hr.shape[0], : hr.shape[1]])  # top-left crop
    assert lr.dtype == np.uint8 and lr.shape == (hr.shape[0] // scale, hr.shape[1] // scale, 3)
    np.testing.assert_array_equal(lr, imresize(hr, 1 / scale))
    # uint8 path rounds like MATLAB (after each pass), not the float result rounded once
    float_lr = np.clip(np.round(imresize(hr.astype(np.float64), 1 / scale)), 0, 255)
    assert np.abs(lr.astype(int) - float_lr).max() <= 1


def test_make_lr_grey_and_errors():
    img = _smooth_image(20, 24)[..., :1]
    hr, lr = make_lr(img, 4)
    assert hr.shape == (20, 24, 1) and lr.shape == (5, 6, 1)
    with pytest.raises(TypeError):
        make_lr(img.astype(np.float32), 2)
    with pytest.raises(ValueError):
        make_lr(img, 1.5)


def test_dihedral_gives_the_8_distinct_transforms():
    x = np.arange(2 * 3 * 3).reshape(3, 3, 2)  # asymmetric content
    outs = [dihedral(x, k) for k in range(8)]
    np.testing.assert_array_equal(outs[0], x)
    np.testing.assert_array_equal(outs[1], np.rot90(x))
    np.testing.assert_array_equal(outs[4], x[:, ::-1])
    assert len({o.tobytes() for o in outs}) == 8
    for k in range(8):
        np.testing.assert_array_equal(dihedral(dihedral(x, k), _inverse(k)), x)


# ------------------------------------------------------------------ bank and sampler


def test_pair_bank_views_and_shape_checks():
    bank = _block_bank(3, [(10, 12), (7, 9)])
    assert len(bank) == 2 and bank.channels == 3
    assert bank.lr_image(1).shape == (7, 9, 3) and bank.hr_image(1).shape == (21, 27, 3)
    np.testing.assert_array_equal(bank.hr_image(1), bank.lr_image(1).repeat(3, 0).repeat(3, 1))
    lr = np.zeros((4, 4, 3), np.uint8)
    with pytest.raises(ValueError):
        SRPairBank.from_pairs([(lr, np.zeros((8, 9, 3), np.uint8))], 2)


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_sampler_crops_are_aligned_and_identically_transformed(scale):
    p, b = 6, 64
    bank = _block_bank(scale, [(20, 31), (17, 13), (6, 40)], seed=scale)
    draw = bank.sampler(p, b, seed=11)
    seen_k, seen_pairs = set(), set()
    for step in range(3):
        lr, hr, meta = (t.numpy() for t in draw(step))
        assert lr.shape == (b, p, p, 3) and hr.shape == (b, p * scale, p * scale, 3)
        assert lr.dtype == hr.dtype == np.uint8
        # exact alignment + same transform, without looking at meta:
        np.testing.assert_array_equal(hr, lr.repeat(scale, 1).repeat(scale, 2))
        # and the crops are where meta says, transformed like numpy's dihedral():
        for j, (i, y, x, k) in enumerate(meta):
            np.testing.assert_array_equal(lr[j], dihedral(bank.lr_image(i)[y : y + p, x : x + p], k))
            s = scale
            hr_ref = bank.hr_image(i)[s * y : s * (y + p), s * x : s * (x + p)]
            np.testing.assert_array_equal(hr[j], dihedral(hr_ref, k))
            seen_k.add(int(k))
            seen_pairs.add(int(i))
    assert seen_k == set(range(8))
    assert seen_pairs == {0, 1, 2}


def test_sampler_without_augment_and_too_small_pairs():
    bank = _block_bank(2, [(5, 5), (12, 14)])  # pair 0 cannot hold an 8x8 LR patch
    lr, hr, meta = (t.numpy() for t in bank.sampler(8, 32, seed=0, augment=False)(0))
    assert set(meta[:, 3]) == {0} and set(meta[:, 0]) == {1}
    for j, (i, y, x, _) in enumerate(meta):
        np.testing.assert_array_equal(lr[j], bank.lr_image(i)[y : y + 8, x : x + 8])
        assert 0 <= y <= 12 - 8 and 0 <= x <= 14 - 8
    with pytest.raises(ZooError):
        bank.sampler(16, 4, seed=0)


def test_sampler_draws_all_crop_positions_uniformly():
    bank = _block_bank(2, [(6, 5)])  # a 4x4 patch has 3 x 2 positions
    meta = bank.sampler(4, 3000, seed=3)(0)[2].numpy()
    counts = np.zeros((3, 2))
    np.add.at(counts, (meta[:, 1], meta[:, 2]), 1)
    assert counts.min() > 400  # expected 500 each


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_precomputed_pairs_are_matlab_lr_of_downscaled_hr(scale):
    img = _smooth_image(83, 70, seed=scale)
    bank = build_pair_bank([img], scale, scale_augment=(1.0, 0.7))
    assert len(bank) == 2
    hr0, lr0 = make_lr(img, scale)
    np.testing.assert_array_equal(bank.hr_image(0), hr0)
    np.testing.assert_array_equal(bank.lr_image(0), lr0)
    hr1, lr1 = make_lr(imresize(img, 0.7), scale)  # HR downscaled first (augmentation)
    assert hr1.shape[0] < hr0.shape[0]
    np.testing.assert_array_equal(bank.hr_image(1), hr1)
    np.testing.assert_array_equal(bank.lr_image(1), lr1)

    # A sampled LR patch is the bicubic shrink of its HR patch, exactly away from the
    # borders (2 LR pixels: the half-width of the antialiased bicubic kernel).
    p = 12
    lr, hr, meta = (t.numpy() for t in bank.sampler(p, 16, seed=1)(0))
    for j, (_, _, _, k) in enumerate(meta):
        lr_u = dihedral(lr[j], _inverse(k))
        hr_u = dihedral(hr[j], _inverse(k))
        np.testing.assert_array_equal(imresize(hr_u, 1 / scale)[2:-2, 2:-2], lr_u[2:-2, 2:-2])


# ------------------------------------------------------------------ tf.data


def _take(ds, n):
    it = iter(ds)
    return [tuple(t.numpy() for t in next(it)) for _ in range(n)]


def test_train_dataset_shapes_ranges_and_determinism():
    imgs = [_smooth_image(60, 75, seed=1), _smooth_image(90, 48, seed=2)]
    kw = dict(scale=3, patch_size=10, batch_size=5, hr_images=imgs)
    ds = sr_train_dataset(seed=7, **kw)
    assert ds.element_spec[0].shape == (5, 10, 10, 3)
    assert ds.element_spec[1].shape == (5, 30, 30, 3)
    a = _take(ds, 4)
    for lr, hr in a:
        assert lr.dtype == hr.dtype == np.float32
        assert lr.min() >= 0 and hr.max() <= 1
        np.testing.assert_allclose(lr * 255, np.round(lr * 255), atol=1e-4)  # uint8 / 255
        assert 0.2 < hr.mean() < 0.8
    b = _take(ds, 4)  # iterating again restarts the same sequence
    c = _take(sr_train_dataset(seed=7, **kw), 4)  # a new dataset with the same seed
    d = _take(sr_train_dataset(seed=8, **kw), 1)
    e = _take(sr_train_dataset(seed=7, start_step=2, **kw), 2)  # resume at batch 2
    for x, y, z in zip(a, b, c):
        for u, v, w in zip(x, y, z):
            np.testing.assert_array_equal(u, v)
            np.testing.assert_array_equal(u, w)
    assert not np.array_equal(a[0][0], d[0][0])
    np.testing.assert_array_equal(e[0][1], a[2][1])
    np.testing.assert_array_equal(e[1][0], a[3][0])
    assert ds.sr_bank.scale == 3 and len(ds.sr_bank) == 2 * 5  # 5 scale-augment factors


def test_train_dataset_hr_is_aligned_with_lr():
    # the float dataset path keeps the exact alignment of the sampler
    bank = _block_bank(4, [(30, 40)], seed=5)
    lr, hr = _take(sr_train_dataset(4, 8, 16, seed=0, bank=bank), 1)[0]
    np.testing.assert_array_equal(hr, lr.repeat(4, 1).repeat(4, 2))
    with pytest.raises(ValueError):
        sr_train_dataset(2, 8, 16, seed=0, bank=bank)


# ------------------------------------------------------------------ real data


def test_load_hr_images_and_train_dataset_on_t91():
    shared_path("sr_t91")
    imgs = load_hr_images(("sr_t91",), limit=3)
    assert len(imgs) == 3
    assert all(im.dtype == np.uint8 and im.ndim == 3 and im.shape[2] == 3 for im in imgs)
    ds = sr_train_dataset(4, 32, 16, seed=0, names=("sr_t91",), limit=3, scale_augment=(1.0, 0.8))
    lr, hr = _take(ds, 1)[0]
    assert lr.shape == (16, 32, 32, 3) and hr.shape == (16, 128, 128, 3)
    # the bicubic upscale of each LR patch correlates strongly with its HR patch
    for j in range(4):
        up = imresize(lr[j].astype(np.float64), 4.0)[8:-8, 8:-8].ravel()
        ref = hr[j][8:-8, 8:-8].ravel()
        if ref.std() > 0.02:
            assert np.corrcoef(up, ref)[0, 1] > 0.9


def test_pair_bank_cache_roundtrip(tmp_path):
    shared_path("sr_t91")
    a = load_pair_bank(3, ("sr_t91",), scale_augment=(1.0,), limit=2, cache_dir=tmp_path)
    files = list(tmp_path.glob("sr_pairs_x3_*.npz"))
    assert len(files) == 1
    b = load_pair_bank(3, ("sr_t91",), scale_augment=(1.0,), limit=2, cache_dir=tmp_path)
    np.testing.assert_array_equal(a.lr_flat, b.lr_flat)
    np.testing.assert_array_equal(a.hr_flat, b.hr_flat)
    np.testing.assert_array_equal(a.shapes, b.shapes)
    load_pair_bank(3, ("sr_t91",), scale_augment=(1.0, 0.9), limit=2, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("sr_pairs_x3_*.npz"))) == 2  # other factors, other key


def test_eval_pairs_set5_set14():
    shared_path("sr_set5")
    shared_path("sr_set14")
    set5 = eval_pairs("sr_set5", 4)
    assert [n for n, _, _ in set5] == ["baby_GT", "bird_GT", "butterfly_GT", "head_GT", "woman_GT"]
    set14 = {n: (lr, hr) for n, lr, hr in eval_pairs("sr_set14", 3)}
    assert len(set14) == 14
    for name, (lr, hr) in set14.items():
        assert lr.dtype == hr.dtype == np.uint8
        assert hr.shape[0] % 3 == 0 and hr.shape[1] % 3 == 0
        assert lr.shape == (hr.shape[0] // 3, hr.shape[1] // 3, hr.shape[2])
        assert hr.shape[2] == (1 if name == "bridge" else 3)  # grey stays grey
    lr, hr = set14["comic"]
    np.testing.assert_array_equal(lr, imresize(hr, 1 / 3))
