"""LIDIA / LIDIA-S (zoo.models.denoising.lidia / lidia_s, zoo.layers.lidia).

The pieces the port does not see separately, against numpy: the nearest-neighbour search at both
scales (brute force over the 841 candidates, padding regions included), patch extraction /
folding with dilation; plus sizes, registration, chunking, batching and the declared receptive
radius.  The whole forward pass against the authors' (numpy) is in tests/port/test_port_lidia.py.
"""

import keras
import numpy as np
import pytest

import zoo
from zoo.errors import ZooError
from zoo.layers.lidia import (average_patches, blur, extract_patches, fold_patches, nearest_neighbours,
                              _symmetric_filter)
from zoo.registry import get_spec

# Trainable parameters, counted from the authors' modules (torch Parameters with requires_grad):
# two weight nets 2 x (6 x (196 + 28 BN) + 196 + 14) = 3,108; alpha0, alpha1, beta = 3;
# part 1 per scale: VerHor 49->64 / 14->14 (3,136 + 196 + 896) [+ VerHor 64->64 / 14->14 + BN
# (4,096 + 196 + 896 + 28) + a]; aggregation pre/post per scale 3,199 + 4,046; part 2: VerHor
# 64->64 / 56->56 + BN 10,928 [x 2 + a], out 64->49 / 56->1 3,241.
LIDIA_PARAMS = 3_108 + 3 + 2 * (4_228 + 5_216 + 1) + 2 * (3_199 + 4_046) + 2 * 10_928 + 1 + 3_241
LIDIA_S_PARAMS = 3_108 + 3 + 2 * 4_228 + 2 * (3_199 + 4_046) + 10_928 + 3_241
assert (LIDIA_PARAMS, LIDIA_S_PARAMS) == (61_589, 40_226)
BN_STATS = {"lidia": 2 * (2 * 6 * 14 + 2 * 14 + 2 * 56), "lidia_s": 2 * (2 * 6 * 14 + 56)}  # moving mean/var


def _x(h, w, n=1, seed=0):
    return np.random.default_rng(seed).random((n, h, w, 1)).astype(np.float32)


@pytest.fixture(scope="module")
def model():
    keras.utils.set_random_seed(3)
    return zoo.load("lidia", weights=None)


# ------------------------------------------------------------------------- the architecture


@pytest.mark.parametrize("arch, count", [("lidia", LIDIA_PARAMS), ("lidia_s", LIDIA_S_PARAMS)])
def test_parameter_counts_and_registration(arch, count):
    m = zoo.load(arch, weights=None)
    assert sum(int(np.prod(w.shape)) for w in m.trainable_weights) == count
    assert m.count_params() == count + BN_STATS[arch]
    spec = get_spec(arch)
    assert spec.family == "denoising" and spec.task == "denoising"
    assert spec.input_spec.channels == "grey" and spec.input_spec.shape == (None, None, 1)
    assert spec.default_tag is None and sorted(spec.tags) == ["s15", "s25", "s50"]
    for sigma in (15, 25, 50):
        tag = spec.tags[f"s{sigma}"]
        assert tag.sigma == sigma and tag.license == "none" and tag.recipe is None
        stem = "model_state_small_sigma" if arch == "lidia_s" else "model_state_sigma"
        assert tag.ported_from.startswith("https://github.com/grishavak/LIDIA-denoiser/")
        assert tag.ported_from.endswith(f"models/{stem}_{sigma}_bw.pt")
    with pytest.raises(ZooError, match="no published weights"):
        zoo.load(arch)


def test_output_shape_on_odd_sizes_and_batches(model):
    for h, w in [(11, 14), (23, 12)]:
        x = _x(h, w, n=2, seed=h)
        y = np.asarray(model(x, training=False))
        assert y.shape == (2, h, w, 1) and np.isfinite(y).all()
        # the images of a batch are independent (per-image mean, search and patch banks)
        np.testing.assert_allclose(np.asarray(model(x[1:], training=False)), y[1:], rtol=0, atol=1e-6)
    with pytest.raises(ValueError, match="at least 11 x 11"):
        model(_x(10, 30))


def test_chunking_and_graph_modes_do_not_change_the_result(model):
    import tensorflow as tf

    x = _x(13, 17, seed=4)
    want = np.asarray(model(x, training=False))  # eager, one chunk
    small = zoo.load("lidia", weights=None, chunk_size=37)  # eager, a Python loop of chunks
    small.set_weights(model.get_weights())
    np.testing.assert_allclose(np.asarray(small(x, training=False)), want, rtol=0, atol=1e-6)
    dynamic = tf.function(lambda t: small(t, training=False),
                          input_signature=[tf.TensorSpec([None, None, None, 1], tf.float32)])
    np.testing.assert_allclose(np.asarray(dynamic(x)), want, rtol=0, atol=1e-6)  # tf.map_fn
    static = tf.function(lambda t: model(t, training=False))  # grappler-optimised fixed-size graph
    np.testing.assert_allclose(np.asarray(static(x)), want, rtol=0, atol=1e-6)


def test_receptive_radius_is_where_a_change_stops(model):
    """A change that keeps the image mean (the net's one global input) moves no output pixel
    farther than ``receptive_radius`` from it."""
    radius = model.get_layer("lidia").receptive_radius
    assert radius == 51
    x = np.clip(0.5 + 0.2 * np.random.default_rng(5).standard_normal((1, 12, 180, 1)), 0, 1).astype(np.float32)
    x2 = x.copy()
    x2[0, :, 60] += 0.25
    x2[0, :, 179] -= 0.25  # the same total: the mean is unchanged
    moved = np.abs(np.asarray(model(x2)) - np.asarray(model(x)))[0, :, :, 0].max(axis=0)
    assert moved[60 - radius:60 + radius + 1].max() > 1e-3
    assert moved[:60 - radius].max() < 1e-5 and moved[60 + radius + 1:179 - radius].max() < 1e-5


# ------------------------------------------------------------------------ numpy references


def _brute_force_search(padded, step):
    """All 841 distances by brute force (float64), the 14 smallest (stable: lower number first)."""
    window, margin = 29, 14 * step
    hp, wp = padded.shape
    gh, gw = hp - 2 * margin - 6 * step, wp - 2 * margin - 6 * step
    offs = np.arange(7) * step
    dist = np.empty((gh, gw, window * window))
    for i in range(gh):
        for j in range(gw):
            ref = padded[margin + i + offs][:, margin + j + offs]
            for dr in range(window):
                for dc in range(window):
                    cand = padded[i + dr * step + offs][:, j + dc * step + offs]
                    dist[i, j, dr * window + dc] = ((cand - ref) ** 2).sum()
    order = np.argsort(dist, axis=-1, kind="stable")[..., :14]
    return np.take_along_axis(dist, order, -1), order


@pytest.mark.parametrize("step", [1, 2])
def test_nearest_neighbours_match_brute_force(step):
    """A 4 x 5 grid of reference patches, -1 padding around a random image as the layer pads it,
    with mirrored border rows and columns (exactly tied candidates).  Pixel values are multiples
    of 1/256, so every distance is exact in float32 and float64 alike: the order, ties included
    (lower candidate number first), must be the same."""
    rng = np.random.default_rng(step)
    h, w = 4 + 6 * step, 5 + 6 * step
    image = np.round(rng.uniform(-0.8, 0.8, (h, w)) * 256) / 256
    image = np.pad(image, 2 * step, mode="reflect")[2 * step:, 2 * step:]  # mirrored rows and columns
    padded = np.pad(image, 14 * step, constant_values=-1.0).astype(np.float32)
    want_d, want_k = _brute_force_search(padded.astype(np.float64), step)
    got_d, got_k = nearest_neighbours(padded[None, :, :, None], step)
    np.testing.assert_array_equal(np.asarray(got_k)[0], want_k)
    np.testing.assert_array_equal(np.asarray(got_d)[0], want_d)
    assert (want_d[..., 0] == 0).all() and (want_k[..., 0] == 14 * 29 + 14).all()  # the patch itself


def test_symmetric_filter_ties_mirror_images_exactly():
    x = np.random.default_rng(6).random((1, 13, 9, 3)).astype(np.float32) * 1e3
    for axis in (1, 2):
        mirror = np.flip(x, axis)
        a = np.asarray(_symmetric_filter(x, axis, (1.0,) * 7))
        b = np.asarray(_symmetric_filter(mirror, axis, (1.0,) * 7))
        np.testing.assert_array_equal(a, np.flip(b, axis))  # bitwise, not just close


@pytest.mark.parametrize("dilation", [1, 2])
def test_extract_fold_and_average_patches(dilation):
    """torch ``unfold`` / ``fold`` semantics: channel ``a * 7 + b`` is the pixel at ``d (a, b)``;
    the fold sums the overlapping patches; the average divides by the coverage."""
    rng = np.random.default_rng(7)
    h, w = 6 * dilation + 3, 6 * dilation + 5
    image = rng.random((h, w)).astype(np.float32)
    patches = np.asarray(extract_patches(image[None, :, :, None], dilation))[0]
    gh, gw = h - 6 * dilation, w - 6 * dilation
    assert patches.shape == (gh, gw, 49)
    for a in range(7):
        for b in range(7):
            np.testing.assert_array_equal(patches[..., a * 7 + b],
                                          image[a * dilation:a * dilation + gh, b * dilation:b * dilation + gw])
    values = rng.random((gh, gw, 49)).astype(np.float32)
    want, count = np.zeros((h, w)), np.zeros((h, w))
    for i in range(gh):
        for j in range(gw):
            for a in range(7):
                for b in range(7):
                    want[i + a * dilation, j + b * dilation] += values[i, j, a * 7 + b]
                    count[i + a * dilation, j + b * dilation] += 1
    np.testing.assert_allclose(np.asarray(fold_patches(values[None], dilation))[0, ..., 0], want, atol=1e-5)
    np.testing.assert_allclose(np.asarray(average_patches(values[None], dilation))[0, ..., 0], want / count,
                               atol=1e-6)


def test_blur_is_the_authors_bilinear_kernel():
    x = np.random.default_rng(8).random((1, 9, 8, 1)).astype(np.float32)
    k = np.outer([1, 2, 1], [1, 2, 1]) / 16.0
    want = sum(k[a, b] * x[0, a:a + 7, b:b + 6, 0] for a in range(3) for b in range(3))
    np.testing.assert_allclose(np.asarray(blur(x))[0, ..., 0], want, atol=1e-6)
