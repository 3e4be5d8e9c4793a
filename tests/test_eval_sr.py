"""Tests for zoo.eval_sr: the SR evaluation protocol on Set5/Set14 and the model wrapper."""

import math

import numpy as np
import pytest
from conftest import shared_path

from zoo.data.imresize import imresize
from zoo.data.sr import eval_pairs
from zoo.eval_sr import (
    PROTOCOL,
    bicubic_predict,
    evaluate_sr,
    model_predict,
    quantize,
    upscale_array,
)
from zoo.metrics import sr_psnr_y

# Measured with this exact protocol (zoo.eval_sr.PROTOCOL): MATLAB-bicubic LR of the uint8 RGB
# image, bicubic upscale of the float LR, SR rounded to uint8, Y BT.601, shave s.
BICUBIC_SET5_X4 = (28.4305, 0.8113)
BICUBIC_SET14_X4 = (25.9954, 0.7030)


def _oracle(name, scale, offset):
    """A predict_fn that knows the HR images and returns them shifted by ``offset`` / 255."""
    table = {lr.tobytes(): hr for _, lr, hr in eval_pairs(name, scale)}

    def predict(lr):
        hr = table[np.round(lr * 255).astype(np.uint8).tobytes()]
        return hr.astype(np.float32) / 255.0 + offset / 255.0

    return predict


def test_protocol_names_its_parts():
    for part in ("mod-crop", "imresize", "uint8", "BT.601", "shaved", "255", "11x11", "1.5"):
        assert part in PROTOCOL


def test_quantize_rounds_like_saving_an_image():
    x = np.array([-0.2, 0.0, 0.4 / 255, 0.5 / 255, 254.49 / 255, 1.0, 1.7, np.nan])
    np.testing.assert_array_equal(quantize(x), [0, 0, 0, 1, 254, 255, 255, 0])
    assert quantize(x).dtype == np.uint8


@pytest.mark.shared
def test_bicubic_set5_x4_matches_measured_floor():
    shared_path("sr_set5")
    r = evaluate_sr(bicubic_predict(4), "sr_set5", 4)
    assert r["num_images"] == 5 and set(r["per_image"]) == {
        "baby_GT", "bird_GT", "butterfly_GT", "head_GT", "woman_GT"
    }
    assert r["psnr_y"] == pytest.approx(BICUBIC_SET5_X4[0], abs=0.02)
    assert r["psnr_y"] > 28.3  # published bicubic Set5 x4: 28.42
    assert r["ssim_y"] == pytest.approx(BICUBIC_SET5_X4[1], abs=0.001)
    mean = np.mean([v["psnr_y"] for v in r["per_image"].values()])
    assert mean == pytest.approx(r["psnr_y"], abs=1e-3)


@pytest.mark.shared
def test_bicubic_set14_x4_with_grey_image():
    shared_path("sr_set14")
    r = evaluate_sr(bicubic_predict(4), "sr_set14", 4)
    assert r["num_images"] == 14 and "bridge" in r["per_image"]
    assert r["psnr_y"] == pytest.approx(BICUBIC_SET14_X4[0], abs=0.02)  # published 26.00
    assert r["ssim_y"] == pytest.approx(BICUBIC_SET14_X4[1], abs=0.001)


@pytest.mark.shared
def test_evaluate_sr_quantizes_and_aligns():
    shared_path("sr_set14")
    # Off by less than half a grey level: rounding to uint8 restores the HR exactly.
    r = evaluate_sr(_oracle("sr_set14", 3, 0.45), "sr_set14", 3, limit=3)  # baboon, barbara, bridge
    assert r["num_images"] == 3 and "bridge" in r["per_image"]
    assert math.isinf(r["psnr_y"]) and r["ssim_y"] == 1.0
    # Off by 0.6 grey level: every pixel +1 (Y +219/255 for RGB, +1 for the grey bridge).
    r = evaluate_sr(_oracle("sr_set14", 3, 0.6), "sr_set14", 3, limit=3)
    # 20 log10(255) = 48.13 dB, a hair more since the few pixels at 255 saturate
    assert r["per_image"]["bridge"]["psnr_y"] == pytest.approx(20 * math.log10(255), abs=0.02)
    assert r["per_image"]["baboon"]["psnr_y"] < 60


@pytest.mark.shared
def test_evaluate_sr_rgb_output_for_grey_and_bad_shapes():
    shared_path("sr_set14")
    grey_oracle = _oracle("sr_set14", 2, 0.0)

    def rgb_only(lr):  # an RGB predictor: grey in -> 3 equal channels out
        out = grey_oracle(lr)
        return np.repeat(out, 3, -1) if out.shape[-1] == 1 else out

    r = evaluate_sr(rgb_only, "sr_set14", 2, limit=3)
    assert math.isinf(r["per_image"]["bridge"]["psnr_y"])
    with pytest.raises(ValueError, match="does not match"):
        evaluate_sr(lambda lr: imresize(lr, 2.0)[1:], "sr_set5", 2, limit=1)


@pytest.mark.shared
def test_bicubic_predict_is_matlab_imresize():
    shared_path("sr_set5")
    name, lr, hr = eval_pairs("sr_set5", 3, limit=1)[0]
    sr = bicubic_predict(3)(lr / 255.0)
    np.testing.assert_allclose(sr, imresize(lr / 255.0, 3.0))
    r = evaluate_sr(bicubic_predict(3), "sr_set5", 3, limit=1)
    want = sr_psnr_y(quantize(sr) / 255.0, hr / 255.0, 3)
    assert r["per_image"][name]["psnr_y"] == pytest.approx(want, abs=1e-4)


def _channel_model(gains):
    import keras

    inp = keras.Input((None, None, 3))
    out = keras.layers.UpSampling2D(2)(inp)
    conv = keras.layers.Conv2D(3, 1, use_bias=False)
    out = conv(out)
    model = keras.Model(inp, out)
    conv.set_weights([np.diag(gains).astype(np.float32)[None, None]])
    return model


def test_upscale_array_rgb_grey_and_clipping():
    model = _channel_model([0.5, 1.0, 2.0])
    lr = np.full((4, 5, 3), 0.4, np.float32)
    sr = upscale_array(model, lr)
    assert sr.shape == (8, 10, 3) and sr.dtype == np.float32
    np.testing.assert_allclose(sr[0, 0], [0.2, 0.4, 0.8], atol=1e-6)
    sr = upscale_array(model, np.full((4, 5, 3), 0.7, np.float32))
    np.testing.assert_allclose(sr[0, 0], [0.35, 0.7, 1.0], atol=1e-6)  # clipped to 1
    # grey: replicated to RGB, output = mean of the 3 channels (0.2, 0.4, 0.8 -> 0.4667)
    grey = upscale_array(model, np.full((4, 5, 1), 0.4, np.float32))
    assert grey.shape == (8, 10, 1)
    np.testing.assert_allclose(grey, (0.2 + 0.4 + 0.8) / 3, atol=1e-6)
    np.testing.assert_allclose(model_predict(model)(lr), upscale_array(model, lr))
