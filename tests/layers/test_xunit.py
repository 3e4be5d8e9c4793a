import keras
import numpy as np
import pytest
from scipy.signal import correlate2d

from zoo.layers import PixelShuffle, XUnit


def _reference(z, layer):
    """The paper's formula in numpy, from the layer's own variables (inference mode)."""
    def bn(x, bn_layer):
        g, b, m, v = [w.numpy() for w in (bn_layer.gamma, bn_layer.beta, bn_layer.moving_mean, bn_layer.moving_variance)]
        return g * (x - m) / np.sqrt(v + bn_layer.epsilon) + b

    a = np.maximum(bn(z, layer.bn_in) if layer.batch_norm else z, 0)
    k = layer.depthwise.kernel.numpy()[:, :, :, 0]
    d = np.stack([correlate2d(a[0, :, :, c], k[:, :, c], mode="same") for c in range(z.shape[-1])], -1)[None]
    d = d + layer.depthwise.bias.numpy()
    if layer.batch_norm:
        d = bn(d, layer.bn_out)
    if layer.gate_clip is not None:
        d = np.clip(d, -layer.gate_clip, layer.gate_clip)
    return z * np.exp(-(d ** 2))


@pytest.mark.parametrize("batch_norm", [True, False])
@pytest.mark.parametrize("kernel_size", [3, 9])
def test_xunit_matches_the_formula(batch_norm, kernel_size):
    rng = np.random.default_rng(0)
    layer = XUnit(kernel_size, batch_norm=batch_norm)
    z = rng.standard_normal((1, 12, 14, 4)).astype(np.float32)
    layer(z)
    if batch_norm:  # non-trivial statistics so a wrong BN order would show
        for bn in (layer.bn_in, layer.bn_out):
            bn.set_weights([rng.uniform(0.5, 2, 4), rng.normal(0, 0.3, 4), rng.normal(0, 0.3, 4), rng.uniform(0.5, 2, 4)])
    layer.depthwise.bias.assign(rng.normal(0, 0.1, 4).astype(np.float32))
    out = np.asarray(layer(z, training=False))
    np.testing.assert_allclose(out, _reference(z, layer), rtol=1e-4, atol=1e-5)


def test_gate_clip_is_in_the_formula_and_moves_the_gate_by_at_most_exp_minus_clip_squared():
    rng = np.random.default_rng(1)
    z = (4 * rng.standard_normal((1, 16, 16, 3))).astype(np.float32)
    plain, clipped = XUnit(3, batch_norm=False), XUnit(3, batch_norm=False, gate_clip=1.5)
    plain(z), clipped(z)
    clipped.set_weights(plain.get_weights())
    np.testing.assert_allclose(np.asarray(clipped(z)), _reference(z, clipped), rtol=1e-4, atol=1e-5)
    gap = np.abs(np.asarray(plain.gate(z)) - np.asarray(clipped.gate(z)))
    assert 0 < gap.max() <= np.exp(-1.5 ** 2) + 1e-6  # the clip is active, and bounded
    assert XUnit.from_config(clipped.get_config()).gate_clip == 1.5
    with pytest.raises(ValueError, match="gate_clip"):
        XUnit(3, gate_clip=0)


def test_xunit_gate_is_in_0_1_and_output_bounded_by_input():
    z = np.random.default_rng(1).standard_normal((2, 8, 8, 3)).astype(np.float32)
    layer = XUnit(5)
    g = np.asarray(layer.gate(z, training=False))
    assert (g > 0).all() and (g <= 1).all()
    assert (np.abs(np.asarray(layer(z))) <= np.abs(z) + 1e-6).all()


def test_xunit_parameter_count_and_config():
    layer = XUnit(9, name="x")
    layer.build((None, None, None, 64))
    trainable = sum(int(np.prod(w.shape)) for w in layer.trainable_weights)
    assert trainable == 64 * 81 + 64 + 2 * 2 * 64  # depthwise + bias + two BN (gamma, beta)
    clone = XUnit.from_config(layer.get_config())
    assert (clone.kernel_size, clone.batch_norm, clone.bn_epsilon) == (9, True, 1e-5)


def test_xunit_rejects_even_kernels():
    with pytest.raises(ValueError, match="odd"):
        XUnit(4)


def test_xunit_model_saves_and_loads(tmp_path):
    inp = keras.Input((None, None, 2))
    model = keras.Model(inp, PixelShuffle(2)(XUnit(3)(keras.layers.Conv2D(8, 3, padding="same")(inp))))
    path = tmp_path / "m.keras"
    model.save(path)
    again = keras.models.load_model(path)
    x = np.random.default_rng(2).random((1, 6, 6, 2), dtype=np.float32)
    np.testing.assert_allclose(again.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-5)


def test_pixel_shuffle_is_depth_to_space():
    x = np.arange(1 * 2 * 2 * 8, dtype=np.float32).reshape(1, 2, 2, 8)
    y = np.asarray(PixelShuffle(2)(x))
    assert y.shape == (1, 4, 4, 2)
    # TF order: output (2h+i, 2w+j, c) = input (h, w, (2i+j)*C + c)
    for i in range(2):
        for j in range(2):
            np.testing.assert_array_equal(y[0, i::2, j::2, :], x[0, :, :, (2 * i + j) * 2:(2 * i + j) * 2 + 2])
