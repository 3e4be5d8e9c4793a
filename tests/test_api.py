"""zoo.load: weight sources, all-or-nothing loading, heads for transfer learning."""

import numpy as np
import pytest

import zoo
from zoo.errors import WeightsMismatchError, ZooError


@pytest.fixture
def published(manifest_with, lenet_weights, monkeypatch):
    manifest_with(lenet_weights["entry"])
    monkeypatch.setenv("ZOO_WEIGHTS_DIR", str(lenet_weights["path"].parent))
    monkeypatch.setenv("ZOO_NO_CHECKOUT_WEIGHTS", "1")
    return lenet_weights


def _reference(lenet_weights):
    model = zoo.load("lenet5", weights=None)
    model.load_weights(str(lenet_weights["path"]))
    return model


def test_load_default_weights_equals_the_file(published):
    model = zoo.load("lenet5")
    ref = _reference(published)
    for a, b in zip(model.get_weights(), ref.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert zoo.load("lenet5.mnist").count_params() == 61706


def test_load_random_init_differs(published):
    a = zoo.load("lenet5", weights=None).get_weights()[0]
    b = _reference(published).get_weights()[0]
    assert not np.allclose(a, b)


def test_load_from_path(published):
    model = zoo.load("lenet5", weights=published["path"])
    np.testing.assert_array_equal(model.get_weights()[0], _reference(published).get_weights()[0])


def test_load_weights_of_another_architecture_is_refused(tmp_path, published):
    other = zoo.load("lenet5", weights=None, classes=5)
    path = tmp_path / "five.weights.h5"
    other.save_weights(str(path))
    with pytest.raises(WeightsMismatchError, match=r"\(84, 5\).*another architecture"):
        zoo.load("lenet5", weights=path)


def test_new_head_keeps_pretrained_body(published):
    model = zoo.load("lenet5", classes=5)
    ref = _reference(published)
    assert model.output_shape == (None, 5)
    for name in ("c1", "c3", "c5", "f6"):
        for a, b in zip(model.get_layer(name).get_weights(), ref.get_layer(name).get_weights()):
            np.testing.assert_array_equal(a, b)


def test_feature_extractor_with_pooling(published):
    model = zoo.load("lenet5", include_top=False, pooling="avg")
    assert model.output_shape == (None, 120)
    x = np.random.default_rng(0).random((2, 28, 28, 1), dtype=np.float32)
    assert model.predict(x, verbose=0).shape == (2, 120)


def test_unknown_option_is_refused(published):
    with pytest.raises(ZooError, match="no option 'num_classes'.*classes"):
        zoo.load("lenet5", num_classes=3)


def test_not_a_weights_file(tmp_path, published):
    bad = tmp_path / "model.pt"
    bad.write_bytes(b"x")
    with pytest.raises(ZooError, match=r"\.weights\.h5"):
        zoo.load("lenet5", weights=bad)
    garbage = tmp_path / "garbage.weights.h5"
    garbage.write_bytes(b"not hdf5 at all")
    with pytest.raises(ZooError, match="not a readable HDF5"):
        zoo.load("lenet5", weights=garbage)


def test_info_describes_the_model(published):
    info = zoo.info("lenet5")
    assert info["name"] == "lenet5.mnist" and info["num_params"] == 61706
    assert info["input_spec"]["shape"] == [28, 28, 1]
    assert info["weights"]["sha256"] == published["entry"]["sha256"]
    assert info["recipe"] == "lenet5_mnist" and info["tags"]["mnist"]["published"]
    assert info["num_trainable_params"] == 61706


def test_info_counts_trainable_parameters_apart_from_batch_norm_statistics():
    """The paper's count (xDnCNN 304,641) is the trainable one; Keras adds the BN moving statistics."""
    info = zoo.info("xunit_dn_s25")
    assert (info["num_params"], info["num_trainable_params"]) == (307_585, 304_641)
    assert "304,641" in info["description"]


def test_own_file_of_a_configuration_loads_with_the_same_options(tmp_path, published):
    five = zoo.load("lenet5", weights=None, classes=5)
    path = tmp_path / "five.weights.h5"
    five.save_weights(str(path))
    again = zoo.load("lenet5", weights=path, classes=5)
    for a, b in zip(again.get_weights(), five.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_missing_weights_file(tmp_path, published):
    from zoo.errors import WeightsNotFoundError

    with pytest.raises(WeightsNotFoundError, match="does not exist"):
        zoo.load("lenet5", weights=tmp_path / "nope.weights.h5")


def test_registered_but_unpublished_weights_say_what_to_do(monkeypatch):
    """One error naming both ways out (Python and command line) and where the published names are."""
    import zoo.api

    monkeypatch.setattr(zoo.api, "get_entry", lambda name: None)
    with pytest.raises(ZooError, match=r"lenet5.mnist is registered but its weights are not published yet.*"
                                       r"--weights FILE.*zoo list --pretrained"):
        zoo.load("lenet5")
    with pytest.raises(ZooError, match=r"srcnn has no published weights.*--weights FILE"):
        zoo.load("srcnn")
