"""Denoising family (zoo.models.denoising): sizes, contract, names, CSCNet's ConvLista layer."""

import keras
import numpy as np
import pytest

import zoo
from zoo.errors import InvalidInputError, InvalidOptionError, ZooError
from zoo.layers.cscnet import ConvLista
from zoo.registry import get_spec, resolve_name

# Trainable parameters as the papers count them (BN moving statistics excluded).
PAPER_COUNTS = {
    "dncnn": 556_096,  # bias on the first conv only: 640 + 15 * (36,864 + 128 BN) + 576
    "dncnn_b": 667_072,  # 20 layers: 640 + 18 * (36,864 + 128) + 576
    "dncnn_s25": 555_137,  # KAIR's BN-merged form: a bias in all 17 convs
    "xdncnn": 304_641,
    "xunit_dn_s15": 304_641,
    "xunit_dn_s25": 304_641,
    "xunit_dn_s50": 304_641,
    "xunit_dn_blind": 304_641,
    "cscnet": 63_700,  # 3 x 175 x 11 x 11 + 175 thresholds
    "cscnet_s15": 63_700,
    "cscnet_s25": 63_700,
    "cscnet_s50": 63_700,
    "ffdnet": 485_316,  # (5 x 9 + 1) x 64 + 13 x (64 x 9 + 1) x 64 + (64 x 9 + 1) x 4
}

ENTRY_POINTS = {  # name -> (architecture builder it wraps, sigma of its weights)
    "xunit_dn_s15": ("xdncnn", 15.0),
    "xunit_dn_s25": ("xdncnn", 25.0),
    "xunit_dn_s50": ("xdncnn", 50.0),
    "xunit_dn_blind": ("xdncnn", None),
    "cscnet_s15": ("cscnet", 15.0),
    "cscnet_s25": ("cscnet", 25.0),
    "cscnet_s50": ("cscnet", 50.0),
    "dncnn_s25": ("dncnn", 25.0),
}


def trainable(model):
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


def _x(h, w, c=1, n=1, seed=0):
    return np.random.default_rng(seed).random((n, h, w, c), dtype=np.float32)


@pytest.mark.parametrize("arch,count", sorted(PAPER_COUNTS.items()))
def test_paper_parameter_counts(arch, count):
    model = zoo.load(arch, weights=None)
    assert trainable(model) == count
    assert get_spec(arch).task == "denoising" and get_spec(arch).input_spec.channels == "grey"


def test_dncnn_bias_and_batch_norm_layout():
    model = zoo.load("dncnn", weights=None)
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert len(convs) == 17
    assert [c.use_bias for c in convs] == [True] + [False] * 16
    assert sum(isinstance(layer, keras.layers.BatchNormalization) for layer in model.layers) == 15
    merged = zoo.load("dncnn", weights=None, batch_norm=False)
    assert trainable(merged) == 555_137
    assert all(c.use_bias for c in merged.layers if isinstance(c, keras.layers.Conv2D))
    assert not any(isinstance(layer, keras.layers.BatchNormalization) for layer in merged.layers)
    with pytest.raises(ValueError, match="depth >= 3"):
        zoo.load("dncnn", weights=None, depth=2)


@pytest.mark.parametrize("arch", ["dncnn", "xdncnn", "cscnet", "ffdnet"])
def test_fully_convolutional_on_odd_sizes(arch):
    model = zoo.load(arch, weights=None)
    for h, w in [(23, 31), (37, 26)]:  # CSCNet's reflect padding needs >= 23 pixels a side
        x = _x(h, w, n=2)
        y = np.asarray(model(x, training=False))
        assert y.shape == (2, h, w, 1) and np.isfinite(y).all()


@pytest.mark.parametrize("arch", ["dncnn", "dncnn_s25", "xdncnn"])
def test_residual_nets_subtract_the_predicted_noise(arch):
    """With the noise-predicting last conv zeroed, the output is the input itself."""
    model = zoo.load(arch, weights=None)
    last = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)][-1]
    assert last.filters == 1
    last.set_weights([np.zeros_like(w) for w in last.get_weights()])
    x = _x(19, 25)
    np.testing.assert_array_equal(np.asarray(model(x, training=False)), x)


def test_grey_contract_rgb_input_is_refused_clearly():
    from zoo.restore import denoise

    model = zoo.load("xdncnn", weights=None)
    assert model.input_shape == (None, None, None, 1)
    rgb = np.random.default_rng(0).random((96, 96, 3), dtype=np.float32)  # >= the receptive field
    with pytest.raises(InvalidInputError, match="greyscale"):
        denoise(rgb, model)
    with pytest.raises(ValueError):  # the Keras model itself does not take 3 channels either
        model(rgb[None])
    grey = denoise(rgb[..., :1], model)
    assert grey.shape == (96, 96, 1)


@pytest.mark.parametrize("name,expected", sorted(ENTRY_POINTS.items()))
def test_entry_points_resolve_to_one_default_tag(name, expected):
    arch, sigma = expected
    spec, tag = resolve_name(name)
    assert spec.arch == name and spec.default_tag == tag.tag and list(spec.tags)[0] == tag.tag
    assert all(t.sigma == sigma for t in spec.tags.values())  # every tag of a sigma entry point is for that sigma
    assert spec.task == "denoising" and spec.input_spec.shape == (None, None, 1)
    if name == "dncnn_s25":
        assert tag.tag == "kair" and tag.license == "MIT" and tag.recipe is None
        assert tag.ported_from.startswith("https://github.com/cszn/KAIR/")
        assert tag.builder_kwargs == {"batch_norm": False}
    else:
        assert tag.tag == "train400" and tag.recipe == name and tag.ported_from is None
    # the entry point builds exactly its architecture (same variables)
    a = zoo.load(name, weights=None)
    b = zoo.load(arch, weights=None, **tag.builder_kwargs)
    assert [(v.path, tuple(v.shape)) for v in a.weights] == [(v.path, tuple(v.shape)) for v in b.weights]


def test_architectures_carry_no_weights():
    for arch in ("dncnn", "dncnn_b", "xdncnn", "cscnet", "ffdnet"):
        assert get_spec(arch).tags == {} and get_spec(arch).default_tag is None
        with pytest.raises(ZooError, match="no published weights"):
            zoo.load(arch)


def test_ffdnet_noise_level_is_a_build_option_of_the_same_weights(tmp_path):
    """One weights file, any sigma in [0, 75]: the level only changes the appended map channel."""
    m25 = zoo.load("ffdnet", weights=None)
    assert m25.get_layer("noise_map").sigma == 25.0 and m25.get_layer("noise_map").get_config()["sigma"] == 25.0
    path = tmp_path / "f.weights.h5"
    m25.save_weights(path)
    m50 = zoo.load("ffdnet", weights=path, sigma=50)
    x = _x(17, 22)
    y25, y50 = np.asarray(m25(x)), np.asarray(m50(x))
    assert y25.shape == y50.shape == (1, 17, 22, 1) and np.abs(y25 - y50).max() > 1e-4
    np.testing.assert_allclose(np.asarray(zoo.load("ffdnet", weights=path, sigma=25)(x)), y25, atol=1e-6)
    for bad in (-1, 80, float("nan")):
        with pytest.raises(InvalidOptionError, match=r"ffdnet: FFDNet takes a noise level sigma in \[0, 75\]"):
            zoo.load("ffdnet", weights=None, sigma=bad)


def test_ffdnet_works_on_half_resolution_blocks_and_pads_odd_sizes_with_the_edge():
    """Odd images are padded by repeating the last row / column (the authors' MATLAB demo), so the
    output of an odd image equals the crop of the output of its edge-extended even version."""
    model = zoo.load("ffdnet", weights=None)
    x = _x(15, 21)
    even = np.concatenate([x, x[:, -1:]], 1)
    even = np.concatenate([even, even[:, :, -1:]], 2)
    np.testing.assert_allclose(np.asarray(model(x)), np.asarray(model(even))[:, :15, :21], atol=1e-6)
    assert model.get_layer("conv1").input.shape[-1] == 5  # 4 sub-images + the noise map


# ------------------------------------------------------------------------- CSCNet layer


def test_conv_lista_shift_average_differs_from_one_shift():
    """Averaging the stride^2 shifts changes the output (the exact match with the authors'
    forward pass, both modes, is in tests/port/test_port_denoisers.py)."""
    keras.utils.set_random_seed(1)
    layer = ConvLista(filters=6, kernel_size=5, stride=4, unfoldings=3)
    single = ConvLista(filters=6, kernel_size=5, stride=4, unfoldings=3, shift_average=False)
    x = _x(29, 33, seed=2)
    y = np.asarray(layer(x))
    single(x)
    single.set_weights(layer.get_weights())
    y0 = np.asarray(single(x))
    assert y.shape == y0.shape == x.shape
    assert np.abs(y - y0).max() > 1e-4  # averaging does something
    assert np.abs(y0).max() > 0


def test_conv_lista_init_matches_the_authors_scheme():
    keras.utils.set_random_seed(0)
    layer = ConvLista(filters=8, kernel_size=7, stride=4, unfoldings=2)
    layer.build((None, None, None, 1))
    a, b, c = (np.asarray(s.kernel) for s in (layer.apply_a, layer.apply_b, layer.apply_c))
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c)
    np.testing.assert_allclose(np.asarray(layer.threshold), 0.01)


def test_conv_lista_checks_its_arguments():
    with pytest.raises(ValueError, match="one-channel"):
        ConvLista(filters=4, kernel_size=5, stride=4)(np.zeros((1, 24, 24, 3), np.float32))
    with pytest.raises(ValueError, match="stride"):
        ConvLista(kernel_size=5, stride=8)
    with pytest.raises(ValueError, match="unfoldings"):
        ConvLista(unfoldings=0)


def test_conv_lista_serializes():
    model = zoo.load("cscnet", weights=None, unfoldings=2, shift_average=False)
    clone = keras.models.model_from_json(model.to_json())
    clone.set_weights(model.get_weights())
    cfg = clone.get_layer("lista").get_config()
    assert (cfg["filters"], cfg["kernel_size"], cfg["stride"], cfg["unfoldings"], cfg["shift_average"]) == (
        175, 11, 8, 2, False)
    x = _x(30, 24)
    np.testing.assert_allclose(np.asarray(clone(x)), np.asarray(model(x)), atol=1e-6)


@pytest.mark.shared
def test_dncnn_matches_the_authors_keras_dncnn_s():
    """cszn/DnCNN's own Keras DnCNN-S (TrainingCodes/dncnn_keras, sigma 25; read-only reference,
    shapes only): bias on conv1 only, 15 BNs, 556,096 trainable values -- the zoo's layout."""
    import h5py
    from conftest import shared_path

    path = shared_path("reference_weights", "cszn__DnCNN", "TrainingCodes", "dncnn_keras", "models",
                       "DnCNN_sigma25", "model.h5")
    shapes = {}
    with h5py.File(path, "r") as f:
        f.visititems(lambda name, obj: shapes.update({name: obj.shape}) if isinstance(obj, h5py.Dataset) else None)
    theirs = sorted((tuple(s), n.rsplit("/", 1)[-1].split(":")[0]) for n, s in shapes.items())
    model = zoo.load("dncnn", weights=None)
    ours = sorted((tuple(v.shape), v.path.rsplit("/", 1)[-1]) for v in model.weights)
    assert theirs == ours
    assert sum(int(np.prod(s)) for s, kind in theirs if not kind.startswith("moving")) == 556_096
    assert [n for n in shapes if "bias" in n] == ["conv1/conv1/bias:0"]
