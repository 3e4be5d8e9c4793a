import numpy as np
import pytest

from zoo.data.denoise import denoise_train_dataset


@pytest.fixture(scope="module")
def bank():
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (5, 50, 60, 1), dtype=np.uint8)


def _batches(ds, n):
    it = iter(ds)
    return [tuple(np.asarray(t) for t in next(it)) for _ in range(n)]


def test_shapes_noise_level_and_crops_come_from_the_bank(bank):
    noisy, clean = _batches(denoise_train_dataset(16, 64, seed=1, sigma=25, images=bank), 1)[0]
    assert noisy.shape == clean.shape == (64, 16, 16, 1) and noisy.dtype == np.float32
    assert abs(np.std(noisy - clean) * 255 - 25) < 0.5
    assert noisy.min() < 0 or noisy.max() > 1  # not clipped, like the evaluation protocol
    patch = (clean[0, ..., 0] * 255).round().astype(np.uint8)
    found = False
    for img in bank[..., 0]:  # some flip/rotation of the patch occurs in some image
        for k in range(4):
            for flip in (False, True):
                p = np.rot90(np.fliplr(patch) if flip else patch, -k)
                for y in range(img.shape[0] - 15):
                    xs = np.where((img[y, :] == p[0, 0]))[0]
                    for x in xs[xs <= img.shape[1] - 16]:
                        found |= np.array_equal(img[y:y + 16, x:x + 16], p)
    assert found


def test_blind_noise_varies_per_patch(bank):
    noisy, clean = _batches(denoise_train_dataset(16, 64, seed=2, sigma=None, sigma_range=(0, 55), images=bank), 1)[0]
    levels = np.std(noisy - clean, axis=(1, 2, 3)) * 255
    assert levels.min() < 15 and levels.max() > 40


def test_same_seed_same_batches(bank):
    a = _batches(denoise_train_dataset(16, 4, seed=3, sigma=15, images=bank), 2)
    b = _batches(denoise_train_dataset(16, 4, seed=3, sigma=15, images=bank), 2)
    c = _batches(denoise_train_dataset(16, 4, seed=4, sigma=15, images=bank), 1)
    np.testing.assert_array_equal(a[1][0], b[1][0])
    assert not np.array_equal(a[0][1], c[0][1])
