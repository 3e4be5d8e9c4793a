"""Tests for the MATLAB-compatible bicubic imresize and BT.601 colour helpers."""

import time

import numpy as np
import pytest

from zoo.data.color import rgb_to_y, rgb_to_ycbcr, ycbcr_to_rgb
from zoo.data.imresize import contributions, cubic, imresize

# --------------------------------------------------------------------------
# Hand-derived weights for a 4 -> 2 downscale (scale 0.5, antialiased).
#
# u = x/s + 0.5(1 - 1/s) = 2x - 0.5 -> u1 = 1.5, u2 = 3.5 (1-based).
# Kernel h(t) = 0.5 * cubic(0.5 t), width 4/0.5 = 8, taps at distances
# t = +-0.5, +-1.5, +-2.5, +-3.5 (the +-4.5 taps are 0 and dropped):
#   cubic(0.25) = 1.5/64 - 2.5/16 + 1              = 0.8671875  -> h = 0.43359375
#   cubic(0.75) = 1.5*27/64 - 2.5*9/16 + 1         = 0.2265625  -> h = 0.11328125
#   cubic(1.25) = -0.5*125/64 + 2.5*25/16 - 5 + 2  = -0.0703125 -> h = -0.03515625
#   cubic(1.75) = -0.5*343/64 + 2.5*49/16 - 7 + 2  = -0.0234375 -> h = -0.01171875
# The 8 weights sum to 1, so normalising leaves them unchanged.
# Output 1 taps pixels -2..5 (1-based); MATLAB's symmetric table
# [1 2 3 4 4 3 2 1] maps them to 3 2 1 1 2 3 4 4, so
#   out1 = (0.11328125 + 0.43359375) v1 + (-0.03515625 + 0.43359375) v2
#        + (-0.01171875 + 0.11328125) v3 + (-0.03515625 - 0.01171875) v4
#        = 35/64 v1 + 51/128 v2 + 13/128 v3 - 3/64 v4,
# and out2 is the mirror image.
_H = {0.5: 0.43359375, 1.5: 0.11328125, 2.5: -0.03515625, 3.5: -0.01171875}
_D = np.array(
    [
        [35 / 64, 51 / 128, 13 / 128, -3 / 64],
        [-3 / 64, 13 / 128, 51 / 128, 35 / 64],
    ]
)


def test_cubic_kernel_values():
    t = np.array([0.0, 0.25, 0.5, 1.0, 1.5, 2.0, 2.5, -0.5])
    # Keys a=-0.5: 1 at 0, 0 at integers, 0.5625 at 0.5, -0.0625 at 1.5.
    np.testing.assert_allclose(
        cubic(t), [1.0, 0.8671875, 0.5625, 0.0, -0.0625, 0.0, 0.0, 0.5625], atol=1e-15
    )


def test_contributions_half_scale_by_hand():
    w, idx = contributions(4, 2, 0.5)
    expected_w = [_H[3.5], _H[2.5], _H[1.5], _H[0.5], _H[0.5], _H[1.5], _H[2.5], _H[3.5]]
    np.testing.assert_allclose(w, [expected_w, expected_w], atol=1e-15)
    # 0-based indices after the symmetric mapping.
    np.testing.assert_array_equal(idx, [[2, 1, 0, 0, 1, 2, 3, 3], [0, 0, 1, 2, 3, 3, 2, 1]])
    np.testing.assert_allclose(_D.sum(axis=1), 1.0)


def test_downscale_4x4_by_hand():
    x = np.arange(16, dtype=np.float64).reshape(4, 4)
    out = imresize(x, 0.5)
    # D applied to [0,1,2,3] = 51/128 + 26/128 - 9/64 = 59/128 = 0.4609375,
    # and to the mirrored weights 325/128 = 2.5390625; x[i, j] = 4i + j, so
    # out = 4 * (D col) + (D row).
    a, b = 59 / 128, 325 / 128
    np.testing.assert_allclose(out, [[5 * a, 4 * a + b], [4 * b + a, 5 * b]], atol=1e-12)
    np.testing.assert_allclose(out, [[2.3046875, 4.3828125], [10.6171875, 12.6953125]], atol=1e-12)

    rng = np.random.default_rng(1)
    y = rng.random((4, 4))
    np.testing.assert_allclose(imresize(y, 0.5), _D @ y @ _D.T, atol=1e-12)


def test_upscale_preserves_ramp_in_interior():
    n = 12
    ramp = np.arange(1, n + 1, dtype=np.float64)  # value = 1-based coordinate
    img = np.tile(ramp[None, :], (3, 1))
    out = imresize(img, 2.0)
    assert out.shape == (6, 24)
    u = np.arange(1, 2 * n + 1) / 2 + 0.25  # input coordinate of each output pixel
    # Keys' cubic reproduces linear functions whenever all 4 taps are inside.
    interior = (np.floor(u) - 1 >= 1) & (np.floor(u) + 2 <= n)
    assert interior.sum() == 2 * n - 6
    for row in out:
        np.testing.assert_allclose(row[interior], u[interior], atol=1e-12)
    # At the borders symmetric padding bends the ramp (it is not extrapolated).
    assert abs(out[0, 0] - u[0]) > 1e-3


@pytest.mark.parametrize("scale", [0.25, 1 / 3, 0.5, 0.7, 1.0, 1.5, 2.0, 3.0, 4.0])
def test_constant_image_stays_constant(scale):
    img = np.full((13, 17, 3), 0.37)
    out = imresize(img, scale)
    assert out.shape == (int(np.ceil(13 * scale)), int(np.ceil(17 * scale)), 3)
    np.testing.assert_allclose(out, 0.37, atol=1e-12)
    u8 = np.full((13, 17), 200, np.uint8)
    np.testing.assert_array_equal(imresize(u8, scale), 200)


def test_scale_one_is_identity():
    x = np.random.default_rng(2).random((9, 11, 2))
    np.testing.assert_allclose(imresize(x, 1.0), x, atol=1e-15)


# Independent cross-check: values produced (in a scratch directory, not part
# of this project) by a loop-based numpy transliteration of BasicSR 1.4.2's
# `basicsr/utils/matlab_functions.py::imresize`, which pads the image
# explicitly and slices windows instead of using MATLAB's index table.
_I, _J = np.mgrid[0:5, 0:7]
_X = ((3 * _I * _I + 5 * _J + _I * _J) % 11) / 10.0
_X_HALF = np.array(
    [
        [0.382356262207, 0.704304504395, 0.489781188965, 0.620553588867],
        [0.421859741211, 0.545739746094, 0.410816955566, 0.747854614258],
        [0.279849243164, 0.526473999023, 0.584741210937, 0.36162109375],
    ]
)
_I2, _J2 = np.mgrid[0:3, 0:4]
_Y = ((7 * _I2 + 3 * _J2 * _J2 + 1) % 5) / 4.0
_Y_UP = np.array(
    [
        [0.157166280864, 0.649305555556, 1.070416988169, 0.841861175412, 0.786458333333, 0.802083333333],
        [0.543619791667, 0.5859375, 0.566370081019, 0.374385127315, 0.328125, 0.34375],
        [0.717954282407, 0.493344907407, 0.212275752315, 0.0419921875, 0.001157407407, 0.016782407407],
        [0.055434992284, 0.404224537037, 0.684899852109, 0.46799848894, 0.415509259259, 0.431134259259],
        [-0.156684027778, 0.375, 0.834852430556, 0.603081597222, 0.546875, 0.5625],
    ]
)


def test_matches_basicsr_reference_values():
    np.testing.assert_allclose(imresize(_X, 0.5), _X_HALF, atol=1e-11)
    np.testing.assert_allclose(imresize(_Y, 1.5), _Y_UP, atol=1e-11)
    # Same result per channel of a 3-D array.
    stack = np.stack([_Y, 1 - _Y], axis=-1)
    np.testing.assert_allclose(imresize(stack, 1.5)[..., 1], 1 - _Y_UP, atol=1e-11)


def test_output_shape_argument():
    x = np.random.default_rng(3).random((10, 14, 3))
    np.testing.assert_allclose(imresize(x, output_shape=(20, 28)), imresize(x, 2.0), atol=1e-12)
    np.testing.assert_allclose(imresize(x, output_shape=(5, 7)), imresize(x, 0.5), atol=1e-12)
    assert imresize(x, output_shape=(7, 9)).shape == (7, 9, 3)
    assert imresize(x, output_shape=(None, 7)).shape == (5, 7, 3)
    assert imresize(x, (0.5, 2.0)).shape == (5, 28, 3)
    assert imresize(x[..., 0], 0.3).shape == (3, 5)  # ceil(3.0), ceil(4.2)
    with pytest.raises(ValueError):
        imresize(x)
    with pytest.raises(ValueError):
        imresize(x, 2.0, output_shape=(20, 28))
    with pytest.raises(ValueError):
        imresize(x[None], 2.0)


def test_dtypes_preserved():
    x = np.random.default_rng(4).random((8, 8, 3))
    assert imresize(x, 0.5).dtype == np.float64
    out32 = imresize(x.astype(np.float32), 0.5)
    assert out32.dtype == np.float32
    np.testing.assert_allclose(out32, imresize(x, 0.5), atol=1e-6)
    # Floats are not rounded or clipped: overshoot survives.
    step = np.zeros((8, 8))
    step[:, 4:] = 1.0
    up = imresize(step, 2.0)
    assert up.min() < 0 and up.max() > 1


def _round_half_away(v):
    return np.where(v >= 0, np.floor(v + 0.5), np.ceil(v - 0.5))


def test_uint8_rounds_and_clips_after_each_pass():
    rng = np.random.default_rng(5)
    img = rng.integers(0, 256, (16, 12, 3), dtype=np.uint8)
    out = imresize(img, 0.5)
    assert out.dtype == np.uint8
    # Manual MATLAB semantics: rows first (equal scales), round+saturate
    # after each pass.
    f = img.astype(np.float64)
    wr, ir = contributions(16, 8, 0.5)
    rows = np.clip(_round_half_away(np.einsum("ok,okwc->owc", wr, f[ir])), 0, 255)
    wc, ic = contributions(12, 6, 0.5)
    cols = np.clip(_round_half_away(np.einsum("ok,hokc->hoc", wc, rows[:, ic])), 0, 255)
    np.testing.assert_array_equal(out, cols.astype(np.uint8))
    # Within one grey level (two roundings) of the float result.
    assert np.abs(out.astype(float) - imresize(f, 0.5)).max() <= 1.0
    # Overshoot of a hard edge saturates instead of wrapping around.
    edge = np.zeros((8, 8), np.uint8)
    edge[:, 4:] = 255
    up = imresize(edge, 2.0)
    assert up.min() == 0 and up.max() == 255
    assert (imresize(edge.astype(float), 2.0) > 255).any()


def test_uint8_rounds_half_away_from_zero():
    # Output column 6 (1-based) of a x2 enlargement sits at u = 6/2 + 0.25 = 3.25:
    # taps 2, 3, 4, 5 at distances 1.25, 0.25, -0.75, -1.75 with weights
    # -0.0703125, 0.8671875, 0.2265625, -0.0234375; pixel 5 mirrors to 4:
    # -0.0703125*219 + 0.8671875*141 + (0.2265625 - 0.0234375)*8 = 108.5 exactly.
    row = np.array([[100, 219, 141, 8]], np.uint8)
    assert imresize(row.astype(float), (1.0, 2.0))[0, 5] == 108.5
    assert imresize(row, (1.0, 2.0))[0, 5] == 109  # MATLAB rounds .5 up, not to even


def test_dimension_order_smallest_scale_first():
    rng = np.random.default_rng(6)
    img = rng.integers(0, 256, (20, 20), dtype=np.uint8)
    # Scale 1 along an axis is an exact identity, so two calls resize one
    # axis at a time. MATLAB sorts the scales: (0.5, 2) -> rows first;
    # (2, 0.5) -> columns first.
    rows_first = imresize(imresize(img, (0.5, 1.0)), (1.0, 2.0))
    cols_first = imresize(imresize(img, (1.0, 2.0)), (0.5, 1.0))
    assert (rows_first != cols_first).any()  # order is observable with uint8
    np.testing.assert_array_equal(imresize(img, (0.5, 2.0)), rows_first)

    rows_first = imresize(imresize(img, (2.0, 1.0)), (1.0, 0.5))
    cols_first = imresize(imresize(img, (1.0, 0.5)), (2.0, 1.0))
    assert (rows_first != cols_first).any()
    np.testing.assert_array_equal(imresize(img, (2.0, 0.5)), cols_first)


def test_large_image_is_fast():
    img = np.random.default_rng(7).random((2000, 2000, 3))
    start = time.perf_counter()
    out = imresize(img, 0.25)
    elapsed = time.perf_counter() - start
    assert out.shape == (500, 500, 3)
    assert elapsed < 5.0, f"imresize 2000x2000x3 -> x1/4 took {elapsed:.2f}s"


# ------------------------------------------------------------------ colour


def test_rgb_to_y_known_values():
    rgb = np.array([[[0.0, 0.0, 0.0], [1.0, 1.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]])
    y = rgb_to_y(rgb) * 255
    np.testing.assert_allclose(y, [[16.0, 235.0, 16 + 65.481, 16 + 128.553]], atol=1e-12)
    # uint8 as MATLAB: rgb2ycbcr(uint8([255 0 0])) = [81 90 240].
    u8 = np.array([[[255, 0, 0], [255, 255, 255], [0, 0, 0]]], np.uint8)
    assert rgb_to_y(u8).dtype == np.uint8
    np.testing.assert_array_equal(rgb_to_y(u8), [[81, 235, 16]])
    np.testing.assert_array_equal(rgb_to_ycbcr(u8)[0, 0], [81, 90, 240])
    assert rgb_to_y(rgb.astype(np.float32)).dtype == np.float32


def test_ycbcr_round_trip_and_channels():
    rgb = np.random.default_rng(8).random((6, 5, 3))
    ycc = rgb_to_ycbcr(rgb)
    np.testing.assert_allclose(ycc[..., 0], rgb_to_y(rgb), atol=1e-15)
    assert 16 / 255 - 1e-12 <= ycc.min() and ycc.max() <= 240 / 255 + 1e-12
    np.testing.assert_allclose(ycbcr_to_rgb(ycc), rgb, atol=1e-12)
    grey = np.array([[[0.5, 0.5, 0.5]]])
    np.testing.assert_allclose(rgb_to_ycbcr(grey)[0, 0] * 255, [16 + 219 * 0.5, 128, 128], atol=1e-9)
    # Out-of-gamut YCbCr is clipped to [0, 1] like MATLAB's ycbcr2rgb.
    assert ycbcr_to_rgb(np.array([[[1.0, 1.0, 1.0]]])).max() == 1.0
    assert ycbcr_to_rgb(np.array([[[1.0, 1.0, 1.0]]]), clip=False).max() > 1.0
    u8 = (rgb * 255).round().astype(np.uint8)
    back = ycbcr_to_rgb(rgb_to_ycbcr(u8))
    assert back.dtype == np.uint8 and np.abs(back.astype(int) - u8).max() <= 2
