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
    assert r["metric"] == "accuracy"
    assert r["twin_max_abs_diff"] < 1e-5
    assert r["after"] >= r["before"] - 0.003
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
    assert r["qat_int8"] >= r["keras_fp32"] - 0.005
    assert r["qat_float_ops"] == []
    assert (tmp_path / "lenet5.qat_int8.tflite").exists()


def test_prune_xunit_sr_x4_round_trips_into_keras3(tmp_path):
    """Short budget: checks the machinery (twin parity, sparsity, weights back by name), not quality."""
    shared_path("sr_set5")
    shared_path("sr_t91")
    from zoo.optimize import prune

    r = prune("xunit_sr_x4", 0.5, tmp_path, steps=40)
    assert r["metric"] == "set5_psnr_y"
    assert r["twin_max_abs_diff"] < 1e-5
    assert abs(r["sparsity"] - 0.5) < 0.02
    import zoo

    model = zoo.load("xunit_sr_x4", weights=r["weights"])
    assert 0.45 < (model.get_layer("body0_conv").get_weights()[0] == 0).mean() < 0.55
    # tfmot leaves depthwise kernels dense, and batch norms are not pruned.
    assert (model.get_layer("body0_xunit").depthwise.get_weights()[0] != 0).all()
    assert (model.get_layer("body0_xunit").bn_in.get_weights()[0] != 0).all()
    # Pruned weights landed in the right layers: far above the bicubic floor (28.43 dB) even at 40 steps.
    assert r["after"] > 29.5, r
    assert r["tflite_size"]["gzip_bytes"] < r["dense_tflite_size"]["gzip_bytes"]


def test_qat_xunit_sr_x4_converts_to_a_fully_int8_graph(tmp_path):
    shared_path("sr_set5")
    shared_path("sr_t91")
    from zoo.optimize import quantization_aware

    r = quantization_aware("xunit_sr_x4", tmp_path, steps=20)
    assert r["twin_max_abs_diff"] < 1e-5  # the batch-norm-folded twin
    assert r["qat_float_ops"] == [] and r["ptq_float_ops"] == []
    assert r["keras_fp32"] - r["ptq_int8"] <= 0.1
    # Quantizer ranges start calibrated: even a 20-step QAT is near the float net (28.9 dB when
    # tfmot's [-6, 6] initial ranges were left to its slow moving average).
    assert r["calibrated_quantizers"] > 20
    assert r["keras_fp32"] - r["qat_int8"] <= 0.3, r
    assert (tmp_path / "xunit_sr_x4.qat_int8.tflite").stat().st_size == r["qat_size"]


def test_unsupported_model_and_bad_arguments(tmp_path):
    from zoo.optimize import prune, quantization_aware

    with pytest.raises(ZooError, match="no tf_keras builder"):
        prune("srcnn", 0.5, tmp_path)
    with pytest.raises(ZooError, match="between 0 and 1"):
        prune("lenet5", 1.5, tmp_path)
    with pytest.raises(ZooError, match="positive number of fine-tuning steps"):
        quantization_aware("xunit_sr_x4", tmp_path, steps=0)
