"""The Set12 denoising protocol (zoo.eval_dn) and its benchmarks in zoo.evaluation."""

import keras
import numpy as np
import pytest
from conftest import shared_path

from zoo.eval_dn import PROTOCOL, evaluate_denoiser, model_predict, noise, noisy_images, quantize
from zoo.evaluation import BENCHMARKS, benchmarks_for, evaluate_model
from zoo.metrics import psnr


@pytest.fixture(scope="module")
def set12():
    return shared_path("denoise_set12")


def test_noise_is_seeded_and_scaled():
    a, b = noise((64, 64, 1), 25, seed=3), noise((64, 64, 1), 25, seed=3)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, noise((64, 64, 1), 25, seed=4))
    assert a.dtype == np.float64
    assert abs(noise((512, 512), 25, 0).std() * 255 - 25) < 0.2
    # the documented generator: numpy's default_rng(seed).standard_normal
    np.testing.assert_array_equal(noise((4, 5), 255, 7), np.random.default_rng(7).standard_normal((4, 5)))


def test_noisy_images_are_reproducible_and_unclipped(set12):
    first = noisy_images(25, limit=2)
    again = noisy_images(25, limit=2)
    assert [n for n, _, _ in first] == ["01.png", "02.png"]
    for (_, c1, y1), (_, c2, y2) in zip(first, again):
        np.testing.assert_array_equal(c1, c2)
        np.testing.assert_array_equal(y1, y2)
    name, clean8, noisy = first[1]
    assert clean8.dtype == np.uint8 and clean8.shape == (256, 256, 1) and noisy.dtype == np.float32
    assert noisy.min() < 0 or noisy.max() > 1  # no clipping of the noisy image
    # image i's noise is seed + i whatever the limit: the same noise in a full run
    np.testing.assert_array_equal(noisy_images(25)[1][2], noisy)
    want = (clean8 / 255.0 + noise(clean8.shape, 25, 0 + 1)).astype(np.float32)
    np.testing.assert_array_equal(noisy, want)
    assert not np.array_equal(noisy_images(25, seed=1, limit=2)[1][2], noisy)


@pytest.mark.parametrize("sigma", [15, 25, 50])
def test_psnr_of_the_unclipped_noisy_input_is_analytic(set12, sigma):
    """MSE of unclipped N(0, sigma^2) noise is sigma^2: PSNR = 20 log10(255 / sigma) (20.17 at 25)."""
    items = noisy_images(sigma)
    assert len(items) == 12
    got = np.mean([psnr(y.astype(np.float64) * 255.0, c.astype(np.float64), data_range=255.0) for _, c, y in items])
    assert abs(got - 20 * np.log10(255 / sigma)) < 0.03, got


def test_identity_denoiser_scores_the_clipped_rounded_noisy_image(set12):
    """The protocol clips and rounds the output (im2uint8): that alone beats the analytic
    20.17 dB of the raw noisy image at sigma 25."""
    r = evaluate_denoiser(lambda y: y, 25)
    assert r["num_images"] == 12 and set(r["per_image"]) == {f"{i:02d}.png" for i in range(1, 13)}
    assert r["psnr"] == pytest.approx(20.3469, abs=1e-3)
    assert r["ssim"] == pytest.approx(0.3669, abs=1e-3)
    assert r["psnr"] == pytest.approx(np.mean([v["psnr"] for v in r["per_image"].values()]), abs=1e-3)


def test_2d_outputs_are_accepted_and_shapes_are_checked(set12):
    r = evaluate_denoiser(lambda y: quantize(y)[..., 0] / 255.0, 25, limit=1)  # (H, W), pre-rounded
    assert r["num_images"] == 1 and r["psnr"] == evaluate_denoiser(lambda y: y, 25, limit=1)["psnr"]
    with pytest.raises(ValueError, match="does not match"):
        evaluate_denoiser(lambda y: y[1:], 25, limit=1)


def test_quantize_is_matlab_im2uint8():
    x = np.array([-0.2, 0.0, 0.5 / 255, 0.49 / 255, 127.5 / 255, 1.0, 1.7, np.nan])
    np.testing.assert_array_equal(quantize(x), [0, 0, 1, 0, 128, 255, 255, 0])
    assert quantize(x).dtype == np.uint8


def test_protocol_says_what_matters():
    for needle in ("default_rng(seed + i)", "not clipped", "clipped to [0, 1] and rounded to uint8",
                   "255^2", "no border", "11x11 Gaussian"):
        assert needle in PROTOCOL


def test_benchmarks_are_registered():
    for s in (15, 25, 50):
        b = BENCHMARKS[f"set12-s{s}"]
        assert b.task == "denoising" and f"sigma {s}" in b.protocol and PROTOCOL in b.protocol
    assert benchmarks_for("xunit_dn_s25") == ("set12-s25",)
    assert benchmarks_for("cscnet_s50") == ("set12-s50",)
    assert benchmarks_for("dncnn_s25") == ("set12-s25",)
    for blind in ("xunit_dn_blind", "dncnn_b", "ffdnet"):  # one net for every level
        assert benchmarks_for(blind) == ("set12-s15", "set12-s25", "set12-s50")
    assert benchmarks_for("xdncnn") == ()  # a bare architecture: its sigma is the file's, --dataset says it


def test_benchmark_runs_a_keras_denoiser(set12):
    inp = keras.Input((None, None, 1))
    identity = keras.Model(inp, keras.layers.Identity()(inp))
    values = evaluate_model(identity, "set12-s25")
    assert values == {"psnr": pytest.approx(20.3469, abs=1e-3), "ssim": pytest.approx(0.3669, abs=1e-3),
                      "num_images": 12}
    one = evaluate_denoiser(model_predict(identity), 25, limit=1)
    assert one["psnr"] == evaluate_denoiser(identity, 25, limit=1)["psnr"]
