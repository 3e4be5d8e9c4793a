"""zoo.evaluation beyond one protocol: measuring a weights file (evaluate_file, `zoo eval --weights`)
and the Y-channel SR benchmarks of the SRCNN family."""

import keras
import pytest
from conftest import run_zoo, shared_path

import zoo
from zoo.errors import ZooError
from zoo.evaluation import BENCHMARKS, evaluate_file, evaluate_model


@pytest.fixture(scope="module")
def set12():
    return shared_path("denoise_set12")


@pytest.fixture
def small_dncnn(tmp_path):
    """A 3-layer DnCNN with random weights saved to a file: (model, path)."""
    model = zoo.load("dncnn", weights=None, depth=3)
    path = tmp_path / "dncnn3.weights.h5"
    model.save_weights(path)
    return model, path


def test_evaluate_file_measures_the_file(set12, small_dncnn):
    model, path = small_dncnn
    got = evaluate_file("dncnn", path, "set12-s25", depth=3)
    assert list(got) == ["set12-s25"]
    # the numbers of that file's weights, not of a fresh initialisation
    assert got["set12-s25"] == evaluate_model(model, "set12-s25")
    assert got["set12-s25"] != evaluate_model(zoo.load("dncnn", weights=None, depth=3), "set12-s25")


def test_evaluate_file_sets_a_noise_conditioned_net_to_each_benchmark(set12, tmp_path):
    path = tmp_path / "ffdnet3.weights.h5"
    zoo.load("ffdnet", weights=None, depth=3).save_weights(path)
    got = evaluate_file("ffdnet", path, "set12-s50", depth=3)
    at_50 = evaluate_model(zoo.load("ffdnet", weights=path, depth=3, sigma=50), "set12-s50")
    at_25 = evaluate_model(zoo.load("ffdnet", weights=path, depth=3, sigma=25), "set12-s50")
    assert got["set12-s50"] == at_50 != at_25
    with pytest.raises(ZooError, match=r"adds noise of sigma 50 but the model was given sigma=25: leave sigma out"):
        evaluate_file("ffdnet", path, "set12-s50", depth=3, sigma=25)


def test_evaluate_file_needs_a_benchmark_of_the_model_task(small_dncnn):
    _, path = small_dncnn
    with pytest.raises(ZooError, match=r"no standard benchmark is defined for dncnn; pass --dataset.*set12-s15"):
        evaluate_file("dncnn", path, depth=3)
    with pytest.raises(ZooError, match="set5-x4 measures super_resolution, dncnn does denoising"):
        evaluate_file("dncnn", path, "set5-x4", depth=3)
    with pytest.raises(ZooError, match="unknown dataset 'set12-s30'"):
        evaluate_file("dncnn", path, "set12-s30", depth=3)


def test_y_benchmarks_measure_srcnn_family_nets():
    shared_path("sr_set5")
    inp = keras.Input((None, None, 1))
    identity_y = keras.Model(inp, keras.layers.Identity()(inp))  # the bicubic floor of the Y protocol
    values = evaluate_model(identity_y, "set5-y-x4")
    assert values["num_images"] == 5
    assert values["psnr_y"] == pytest.approx(28.43, abs=0.005)  # bicubic x4 Set5, the reference figure
    b = BENCHMARKS["set14-y-x3"]
    assert b.task == "super_resolution" and "Y-channel" in b.protocol


def test_sr_benchmarks_point_to_the_protocol_that_fits():
    identity_y = keras.Model(inp := keras.Input((None, None, 1)), keras.layers.Identity()(inp))
    with pytest.raises(ZooError, match="keeps the image size.*use set5-y-x4"):
        evaluate_model(identity_y, "set5-x4")
    mobile = zoo.load("xunit_sr_x4", weights=None)
    with pytest.raises(ZooError, match="upsamples by 4: use set14-x4"):
        evaluate_model(mobile, "set14-y-x4")
    with pytest.raises(ZooError, match="upsamples by 4, the benchmark is x2: use set5-x4"):
        evaluate_model(mobile, "set5-x2")


def test_cli_eval_weights_file(set12, small_dncnn):
    model, path = small_dncnn
    r = run_zoo("eval", "dncnn", "--weights", str(path), "--option", "depth=3", "--dataset", "set12-s25")
    assert r.returncode == 0, r.stderr
    prefix = f"dncnn ({path}) on set12-s25: psnr="
    assert r.stdout.startswith(prefix), r.stdout
    printed = float(r.stdout[len(prefix):].split(",")[0])  # another process: compare, not string-match
    assert printed == pytest.approx(evaluate_model(model, "set12-s25")["psnr"], abs=2e-4)


@pytest.mark.parametrize("argv, message", [
    (["--weights", "mine.weights.h5", "--write-manifest"], "--write-manifest records published weights only"),
    (["--option", "depth=3"], "--option describes a --weights file"),
])
def test_cli_eval_refuses_mixed_arguments(capsys, argv, message):
    from zoo.cli import main

    assert main(["eval", "dncnn", *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("zoo: error: ") and message in err


def test_evaluate_published_needs_published_weights():
    from zoo.evaluation import evaluate_published

    with pytest.raises(ZooError, match=r"dncnn has no published weights to evaluate.*zoo eval dncnn --weights FILE"):
        evaluate_published("dncnn")
