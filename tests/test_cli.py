"""The command line: every subcommand answers --help; errors are one line and exit 2."""

import json

import pytest

from conftest import REPO, clean_env, run_zoo


@pytest.mark.parametrize("sub", ["", "list", "info", "predict", "upscale", "finetune", "export", "train", "eval"])
def test_help_everywhere(sub):
    r = run_zoo(*([sub] if sub else []), "--help")
    assert r.returncode == 0 and "usage: zoo" in r.stdout


def test_list_and_info_json():
    r = run_zoo("list", "lenet*", "--json")
    assert r.returncode == 0 and json.loads(r.stdout) == ["lenet5"]
    r = run_zoo("info", "lenet5", "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["num_params"] == 61706


def _one_line_error(r, *needles):
    assert r.returncode == 2, r.stdout + r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, r.stderr
    for n in needles:
        assert n in lines[0]


def test_unknown_model_is_one_line():
    _one_line_error(run_zoo("info", "lenet6"), "zoo: error:", "unknown model 'lenet6'", "lenet5")


def test_wrong_argument_type_is_one_line():
    _one_line_error(run_zoo("predict", "lenet5", "x.png", "--top-k", "three"), "--top-k", "whole number")
    _one_line_error(run_zoo("train", "lenet5_mnist", "--epochs", "0"), "--epochs", "from 1")


def test_unknown_recipe_is_one_line():
    _one_line_error(run_zoo("train", "no_such_recipe"), "unknown recipe", "lenet5_mnist")


def test_predict_unreadable_image(tmp_path, lenet_weights):
    bad = tmp_path / "scan.png"
    bad.write_text("hello")
    r = run_zoo("predict", "lenet5", str(bad), "--weights", str(lenet_weights["path"]))
    _one_line_error(r, "not an image")


def test_predict_with_weights_file(lenet_weights):
    r = run_zoo("predict", "lenet5", str(REPO / "examples/digits/digit_3.png"),
                "--weights", str(lenet_weights["path"]), "--top-k", "2")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(str(REPO / "examples/digits/digit_3.png") + ": ")
    assert r.stdout.count("(") == 2


def test_offline_without_weights_is_one_line(tmp_path, manifest_with, lenet_weights):
    manifest = manifest_with(lenet_weights["entry"])
    env = clean_env(ZOO_MANIFEST=manifest, ZOO_NO_CHECKOUT_WEIGHTS=1, HF_HUB_OFFLINE=1,
                    HF_HUB_CACHE=tmp_path / "empty-cache")
    _one_line_error(run_zoo("predict", "lenet5", "x.png", env=env), "HF_HUB_OFFLINE=1")


def test_denoise_with_the_wrong_sigma_is_one_line(tmp_path):
    _one_line_error(run_zoo("denoise", str(tmp_path / "in.png"), str(tmp_path / "out.png"), "--model", "xunit_dn_s50",
                            "--sigma", "15"), "zoo: error:", "trained for noise sigma 50")
    _one_line_error(run_zoo("denoise", "in.png", "out.png", "--sigma", "300"), "--sigma")


def test_training_commands_ask_for_onednn_kernels_and_an_explicit_setting_wins(monkeypatch):
    """zoo train / finetune (and tools/train.py) import TensorFlow with its oneDNN CPU kernels, which it
    enables by itself only on AVX-512 / AMX CPUs; other commands keep TensorFlow's default."""
    import subprocess
    import sys

    import zoo._quiet
    from zoo.cli import main

    seen = []
    monkeypatch.setattr(zoo._quiet, "import_tensorflow_quietly", lambda training=False: seen.append(training))
    assert main(["train", "no_such_recipe"]) == 2 and main(["info", "no_such_model"]) == 2
    assert seen == [True, False]

    probe = ("from zoo._quiet import import_tensorflow_quietly; import_tensorflow_quietly(training=True); "
             "from tensorflow.python.util import _pywrap_util_port as p; print(p.IsMklEnabled())")
    env = {k: v for k, v in clean_env().items() if k != "TF_ENABLE_ONEDNN_OPTS"}
    on = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, cwd=REPO)
    off = subprocess.run([sys.executable, "-c", probe], env={**env, "TF_ENABLE_ONEDNN_OPTS": "0"},
                         capture_output=True, text=True, cwd=REPO)
    assert (on.stdout.strip(), off.stdout.strip()) == ("True", "False"), (on.stderr[-500:], off.stderr[-500:])


def test_finetune_prints_how_to_use_and_measure_the_result(tmp_path, monkeypatch, capsys):
    import zoo.train.finetune as finetune_module
    from zoo.cli import build_parser, main

    def fake_finetune(name, data_dir, out_dir, **kwargs):  # the CLI's reporting, not the training
        (tmp_path / "run").mkdir()
        (tmp_path / "run" / "history.csv").write_text("epoch,val_psnr\n0,27.5\n1,27.9\n")
        return {"weights": str(tmp_path / "run" / "best.weights.h5"), "val_images": ["a.png", "b.png"]}

    monkeypatch.setattr(finetune_module, "finetune", fake_finetune)
    assert main(["finetune", "xunit_sr_x4.sr291", "--data", str(tmp_path), "--out", str(tmp_path / "run")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "best validation PSNR 27.90 dB on 2 held-apart images" in lines[0]
    weights = str(tmp_path / "run" / "best.weights.h5")
    assert lines[2] == f"measure it: zoo eval xunit_sr_x4 --weights {weights}"
    args = build_parser().parse_args(lines[2].removeprefix("measure it: zoo ").split())
    assert (args.name, args.weights) == ("xunit_sr_x4", weights)
