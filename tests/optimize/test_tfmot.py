"""Pruning and QAT through tfmot in a child process (needs the optimize extra and MNIST)."""

import os
import sys

import pytest

from conftest import shared_path
from zoo.errors import ZooError

pytest.importorskip("tf_keras", reason="the optimize extra is not installed (pip install -e .[optimize])")


def test_prune_lenet_to_half_keeps_accuracy(tmp_path):
    shared_path("mnist", "mnist_train.npz")
    from zoo.optimize import prune

    r = prune("lenet5", 0.5, tmp_path, epochs=1)
    assert abs(r["sparsity"] - 0.5) < 0.02
    assert r["accuracy_after"] >= r["accuracy_before"] - 0.003
    assert r["tflite_size"]["gzip_bytes"] < 0.75 * r["dense_tflite_size"]["gzip_bytes"]
    import zoo

    model = zoo.load("lenet5", weights=r["weights"])  # back in Keras 3, loads strictly
    kernel = model.get_layer("c5").get_weights()[0]
    assert (kernel == 0).mean() > 0.4
    assert "tensorflow_model_optimization" not in sys.modules  # tfmot stayed in the child
    assert os.environ.get("TF_USE_LEGACY_KERAS") is None


def test_qat_int8_is_as_accurate_as_float(tmp_path):
    shared_path("mnist", "mnist_train.npz")
    from zoo.optimize import quantization_aware

    r = quantization_aware("lenet5", tmp_path, epochs=1)
    assert r["qat_int8_accuracy"] >= r["keras_fp32_accuracy"] - 0.005
    assert (tmp_path / "lenet5.qat_int8.tflite").exists()


def test_unsupported_model_and_bad_sparsity(tmp_path):
    from zoo.optimize import prune

    with pytest.raises(ZooError, match="no tf_keras builder"):
        prune("srcnn", 0.5, tmp_path)
    with pytest.raises(ZooError, match="between 0 and 1"):
        prune("lenet5", 1.5, tmp_path)
