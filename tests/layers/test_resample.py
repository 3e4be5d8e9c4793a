"""Resampling layers (zoo.layers.resample) and the noise-level map: values, shapes, serialization."""

import keras
import numpy as np
import pytest

from zoo.layers import CropLike, NoiseLevelMap, PadToMultiple, PixelShuffle, PixelUnshuffle


def _x(h, w, c=2, seed=0):
    return np.random.default_rng(seed).random((1, h, w, c), dtype=np.float32)


def test_pixel_unshuffle_is_the_inverse_of_pixel_shuffle_in_tensorflow_order():
    x = _x(6, 8, 3)
    y = np.asarray(PixelUnshuffle(2)(x))
    assert y.shape == (1, 3, 4, 12)
    np.testing.assert_array_equal(y[0, 1, 2, 3:6], x[0, 2, 5])  # block offset (0, 1) -> channels 3..5
    np.testing.assert_array_equal(y[0, 1, 2, 6:9], x[0, 3, 4])  # block offset (1, 0) -> channels 6..8
    np.testing.assert_array_equal(np.asarray(PixelShuffle(2)(y)), x)
    assert PixelUnshuffle(2).tile_alignment == 2


@pytest.mark.parametrize("h,w,m", [(5, 7, 2), (6, 6, 2), (7, 10, 4), (3, 3, 1)])
def test_pad_to_multiple_repeats_the_edge(h, w, m):
    x = _x(h, w)
    y = np.asarray(PadToMultiple(m)(x))
    want = np.pad(x, ((0, 0), (0, -h % m), (0, -w % m), (0, 0)), mode="edge")
    np.testing.assert_array_equal(y, want)
    np.testing.assert_array_equal(np.asarray(CropLike()([y, x])), x)


def test_noise_level_map_appends_sigma_over_255():
    x = _x(4, 5, 3)
    y = np.asarray(NoiseLevelMap(51)(x))
    assert y.shape == (1, 4, 5, 4)
    np.testing.assert_array_equal(y[..., :3], x)
    np.testing.assert_allclose(y[..., 3], 0.2, rtol=1e-6)
    with pytest.raises(ValueError, match="non-negative noise level"):
        NoiseLevelMap(-3)


def test_layers_serialize_and_keep_dynamic_sizes(tmp_path):
    inp = keras.Input((None, None, 1))
    x = NoiseLevelMap(10)(PixelUnshuffle(2)(PadToMultiple(2)(inp)))
    x = PixelShuffle(2)(keras.layers.Conv2D(4, 3, padding="same")(x))
    model = keras.Model(inp, CropLike()([x, inp]))
    assert model.output_shape == (None, None, None, 1)
    model.save(tmp_path / "m.keras")
    again = keras.saving.load_model(tmp_path / "m.keras")
    for h, w in ((9, 11), (12, 6)):
        x = _x(h, w, 1)
        np.testing.assert_allclose(np.asarray(again(x)), np.asarray(model(x)), atol=1e-6)
        assert again(x).shape == (1, h, w, 1)
