"""Deep K-SVD (zoo.models.denoising.deep_ksvd, zoo.layers.deep_ksvd.DeepKSVD)."""

import keras
import numpy as np
import pytest

import zoo
from zoo.errors import ZooError
from zoo.layers.deep_ksvd import DeepKSVD, overcomplete_dct
from zoo.registry import get_spec

# dictionary 64 x 256 + MLP (64*128+128) + (128*64+64) + (64*32+32) + (32*1+1) + step c + w (8x8)
DEEP_KSVD_PARAMS = 16_384 + (8_320 + 8_256 + 2_080 + 33) + 1 + 64
assert DEEP_KSVD_PARAMS == 35_138


def _x(h, w, n=1, seed=0, lo=0.0, hi=1.0):
    return (lo + (hi - lo) * np.random.default_rng(seed).random((n, h, w, 1))).astype(np.float32)


def _small_layer(unfoldings=2, **kwargs):
    layer = DeepKSVD(unfoldings=unfoldings, **kwargs)
    layer.build((None, None, None, 1))
    return layer


def _set(layer, **values):
    """Assign weights by name: dictionary, step, w, mlp{k}_kernel / mlp{k}_bias."""
    by_name = {v.path.split("/", 1)[1].replace("/", "_"): v for v in layer.weights}
    for name, value in values.items():
        by_name[name].assign(np.asarray(value, np.float32).reshape(by_name[name].shape))


def _zero_lambda(layer, value=0.0):
    """Make the MLP output the constant ``value`` (last Dense: zero kernel, bias ``value``)."""
    _set(layer, mlp4_kernel=np.zeros((32, 1)), mlp4_bias=[value])


# --------------------------------------------------------------------------- the architecture


def test_parameter_count_and_registration():
    model = zoo.load("deep_ksvd", weights=None)
    assert sum(int(np.prod(w.shape)) for w in model.trainable_weights) == DEEP_KSVD_PARAMS
    assert model.count_params() == DEEP_KSVD_PARAMS  # nothing non-trainable
    spec = get_spec("deep_ksvd")
    assert spec.task == "denoising" and spec.family == "denoising"
    assert spec.input_spec.channels == "grey" and spec.input_spec.shape == (None, None, 1)
    assert spec.tags == {} and spec.default_tag is None
    with pytest.raises(ZooError, match="no published weights"):
        zoo.load("deep_ksvd")
    shapes = {v.path.split("/", 1)[1]: tuple(v.shape) for v in model.weights}
    assert shapes["dictionary"] == (64, 256) and shapes["step"] == (1,) and shapes["w"] == (64,)
    assert model.get_layer("ksvd").unfoldings == 7  # the authors' test-time T (5 for training)


@pytest.mark.parametrize("h,w", [(17, 23), (8, 8), (9, 30)])
def test_output_shape_equals_input_shape(h, w):
    model = zoo.load("deep_ksvd", weights=None, unfoldings=1)
    y = np.asarray(model(_x(h, w, n=2)))
    assert y.shape == (2, h, w, 1) and np.isfinite(y).all()


def test_tiling_contract():
    from zoo.restore import TiledRunner, receptive_radius

    model = zoo.load("deep_ksvd", weights=None, unfoldings=1)
    layer = model.get_layer("ksvd")
    assert (layer.receptive_radius, layer.min_input_size, layer.tile_alignment) == (7, 8, 1)
    assert receptive_radius(model) == 7
    runner = TiledRunner(model, tile=16)
    assert runner.min_size == 8
    x = _x(37, 41, seed=3)[0]
    np.testing.assert_allclose(runner(x), np.asarray(model(x[None]))[0], atol=1e-5)


# ----------------------------------------------------------------------------- initialisation


def test_dct_initialisation():
    d = overcomplete_dct(8, 16)
    assert d.shape == (64, 256)
    np.testing.assert_allclose(np.linalg.norm(d, axis=0), 1.0, atol=1e-12)
    np.testing.assert_allclose(d[:, 0], 1.0 / 8.0, atol=1e-12)  # DC atom
    # separable: atom k1 * 16 + k2 is the outer product a_k2 a_k1^T of 1-D (mean-removed) DCTs
    a = np.cos(np.arange(8)[:, None] * np.arange(16)[None, :] * np.pi / 16)
    a[:, 1:] -= a[:, 1:].mean(axis=0)
    a /= np.linalg.norm(a, axis=0)
    for k1, k2 in [(0, 0), (0, 3), (5, 0), (7, 11), (15, 15)]:
        np.testing.assert_allclose(d[:, k1 * 16 + k2].reshape(8, 8), np.outer(a[:, k2], a[:, k1]), atol=1e-12)
    layer = _small_layer()
    np.testing.assert_allclose(np.asarray(layer.dictionary), d, atol=1e-7)
    c = float(np.asarray(layer.step)[0])
    np.testing.assert_allclose(c, np.linalg.norm(d, 2) ** 2, rtol=1e-6)  # c_init = ||D||_2^2
    assert c > 1.0
    w = np.asarray(layer.w)
    assert abs(w.mean() - 1.0) < 0.1 and 0.02 < w.std() < 0.3  # N(1, 0.1)


# ----------------------------------------------------- the forward pass, against the algorithm


def _reference(x, weights, unfoldings, p=8):
    """The authors' DenoisingNet_MLP.forward, written out patch by patch in float64."""
    d, c, w = weights["dictionary"], float(weights["step"][0]), weights["w"]

    def st(v, t):
        return np.sign(v) * np.maximum(np.abs(v) - t, 0.0)

    img = 2.0 * x.astype(np.float64) - 1.0  # Normalize(mean=255/2, std=255/2)
    h, wd = img.shape
    acc, norm = np.zeros_like(img), np.zeros_like(img)
    s = np.eye(d.shape[1]) - d.T @ d / c
    stats = {"lambda": [], "clipped": 0}
    for i in range(h - p + 1):
        for j in range(wd - p + 1):
            y = img[i:i + p, j:j + p].reshape(-1)  # torch Unfold order (row-major), no mean removed
            a = y
            for k in range(1, 4):
                a = np.maximum(a @ weights[f"mlp{k}_kernel"] + weights[f"mlp{k}_bias"], 0.0)
            lam = float((a @ weights["mlp4_kernel"] + weights["mlp4_bias"])[0])  # linear output
            stats["lambda"].append(lam)
            b = y @ d
            z = st(b, lam / c)
            for _ in range(unfoldings):
                z = st(z @ s + b / c, lam / c)
            xp = d @ z
            stats["clipped"] += int((np.abs(xp) > 1).sum())
            xp = np.clip(xp, -1.0, 1.0)
            acc[i:i + p, j:j + p] += (w * xp).reshape(p, p)
            norm[i:i + p, j:j + p] += w.reshape(p, p)
    return (acc / norm + 1.0) / 2.0, stats


@pytest.mark.parametrize("unfoldings", [0, 3])
def test_forward_pass_matches_a_numpy_reimplementation(unfoldings):
    rng = np.random.default_rng(7)
    d = rng.standard_normal((64, 256)) / 8.0
    weights = {
        "dictionary": d,
        "step": np.array([1.3 * np.linalg.norm(d, 2) ** 2]),
        "w": rng.uniform(0.5, 1.5, 64),
        "mlp1_kernel": rng.standard_normal((64, 128)) / 8.0, "mlp1_bias": rng.standard_normal(128) * 0.1,
        "mlp2_kernel": rng.standard_normal((128, 64)) / 11.0, "mlp2_bias": rng.standard_normal(64) * 0.1,
        "mlp3_kernel": rng.standard_normal((64, 32)) / 8.0, "mlp3_bias": rng.standard_normal(32) * 0.1,
        "mlp4_kernel": rng.standard_normal((32, 1)) / 4.0, "mlp4_bias": np.array([0.3]),
    }
    layer = _small_layer(unfoldings=unfoldings)
    _set(layer, **weights)
    x = _x(12, 13, seed=11)
    got = np.asarray(layer(x))[0, ..., 0]
    want, stats = _reference(x[0, ..., 0], weights, unfoldings)
    lam = np.array(stats["lambda"])
    # the random weights exercise both signs of lambda and the clipping of the patch estimates
    assert (lam > 0).any() and (lam < 0).any() and stats["clipped"] > 0
    np.testing.assert_allclose(got, want, atol=1e-4)


# ----------------------------------------------------------------------- limiting cases


def test_tight_frame_and_zero_threshold_give_the_clipped_input():
    """lambda = 0 and D D^T = I: z_0 = D^T y is a fixed point of every unfolding and D z_0 = y,
    so each patch is reproduced exactly and the weighted average of the copies of a pixel is
    the pixel -- clipped to the image range, the clip acting on patches before averaging."""
    rng = np.random.default_rng(1)
    frame = np.concatenate([np.linalg.qr(rng.standard_normal((64, 64)))[0] for _ in range(4)], axis=1) / 2.0
    np.testing.assert_allclose(frame @ frame.T, np.eye(64), atol=1e-12)
    layer = _small_layer(unfoldings=4)
    _set(layer, dictionary=frame, step=[2.5], w=rng.uniform(0.2, 2.0, 64))
    _zero_lambda(layer)
    x = _x(15, 11, n=2, seed=5, lo=-0.3, hi=1.3)
    np.testing.assert_allclose(np.asarray(layer(x)), np.clip(x, 0.0, 1.0), atol=1e-5)


def test_huge_threshold_gives_mid_grey():
    """lambda -> inf zeroes every code (the DC atom too: the authors remove no patch mean), so
    every patch estimate is 0 in their [-1, 1] range, i.e. 0.5 -- whatever the image."""
    layer = _small_layer()
    _zero_lambda(layer, 1e6)
    x = _x(10, 14, seed=2)
    np.testing.assert_allclose(np.asarray(layer(x)), 0.5, atol=1e-6)


def test_rejects_colour_and_bad_arguments():
    with pytest.raises(ValueError, match="one-channel"):
        DeepKSVD()(np.zeros((1, 16, 16, 3), np.float32))
    with pytest.raises(ValueError, match="unfoldings"):
        DeepKSVD(unfoldings=-1)


def test_config_round_trip():
    model = zoo.load("deep_ksvd", weights=None, unfoldings=2)
    _set(model.get_layer("ksvd"), w=np.random.default_rng(0).uniform(0.5, 1.5, 64))
    clone = keras.models.model_from_json(model.to_json())
    clone.set_weights(model.get_weights())
    cfg = clone.get_layer("ksvd").get_config()
    assert (cfg["patch_size"], cfg["atoms_per_dim"], cfg["unfoldings"], cfg["mlp_units"]) == (8, 16, 2, [128, 64, 32])
    x = _x(13, 9, seed=4)
    np.testing.assert_allclose(np.asarray(clone(x)), np.asarray(model(x)), atol=1e-6)
