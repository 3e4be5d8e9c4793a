"""Fine-tuning: split, early stopping, start from the published weights, bad folders."""

import json

import numpy as np
import pytest
from PIL import Image

import zoo
from zoo.errors import ZooError
from zoo.hub import sha256_of
from zoo.registry import get_spec
from zoo.train.finetune import evaluate_on_images, finetune, split_folder
from zoo.weights_io import parameter_counts


@pytest.fixture
def images(tmp_path):
    rng = np.random.default_rng(0)
    d = tmp_path / "imgs"
    d.mkdir()
    for i in range(5):
        y, x = np.mgrid[0:160, 0:160]
        img = (127 + 120 * np.sin(x / (3 + i) + y / 7.0))[..., None] * np.array([1.0, 0.7, 0.4])
        Image.fromarray(np.clip(img + rng.normal(0, 3, img.shape), 0, 255).astype(np.uint8)).save(d / f"{i}.png")
    (d / "notes.txt").write_text("ignored")
    return d


@pytest.fixture
def published_sr(tmp_path, manifest_with, monkeypatch):
    import keras

    keras.utils.set_random_seed(0)
    model = get_spec("xunit_sr_x4").builder()
    tag = get_spec("xunit_sr_x4").default_tag
    path = tmp_path / f"xunit_sr_x4.{tag}.weights.h5"
    model.save_weights(str(path))
    entry = {
        "model": f"xunit_sr_x4.{tag}", "arch": "xunit_sr_x4", "tag": tag,
        "hub": {"repo_id": "zoo-test/x", "revision": None}, "file": path.name, "sha256": sha256_of(path),
        "size": path.stat().st_size, **parameter_counts(model),
        "input_spec": get_spec("xunit_sr_x4").input_spec.to_json(), "builder_kwargs": {}, "metrics": [],
        "license": "Apache-2.0", "source": {"kind": "zoo-trained", "recipe": "r", "commit": "c"}, "date": "d",
    }
    manifest_with(entry)
    monkeypatch.setenv("ZOO_WEIGHTS_DIR", str(tmp_path))
    monkeypatch.setenv("ZOO_NO_CHECKOUT_WEIGHTS", "1")
    return path


def test_split_is_deterministic_and_disjoint(images):
    train, val = split_folder(images, 0.2)
    assert len(train) == 4 and len(val) == 1 and not set(train) & set(val)
    assert split_folder(images, 0.2) == (train, val)


def test_too_few_images(tmp_path):
    with pytest.raises(ZooError, match="at least 2"):
        split_folder(tmp_path)
    with pytest.raises(ZooError, match="not a folder"):
        split_folder(tmp_path / "missing")


def test_finetune_starts_from_pretrained_and_improves(images, tmp_path):
    """From the published xunit_sr_x4 weights, a short fine-tune on a new domain helps there."""
    from zoo.eval_sr import model_predict
    from zoo.hub import resolve

    out = tmp_path / "run"
    summary = finetune("xunit_sr_x4", images, out, epochs=2, steps_per_epoch=20, lr=1e-4, verbose=0)
    assert summary["initial_weights"] == str(resolve(f"xunit_sr_x4.{get_spec('xunit_sr_x4').default_tag}"))
    assert (out / "curves.png").exists() and (out / "history.csv").exists()
    _, val = split_folder(images)
    before = evaluate_on_images(model_predict(zoo.load("xunit_sr_x4")), val, 4)["psnr_y"]
    after = evaluate_on_images(model_predict(zoo.load("xunit_sr_x4", weights=summary["weights"])), val, 4)["psnr_y"]
    assert after > before


def test_finetune_from_scratch_uses_no_weights(images, published_sr, tmp_path):
    summary = finetune("xunit_sr_x4", images, tmp_path / "r", epochs=1, steps_per_epoch=2, from_scratch=True,
                       verbose=0)
    assert summary["initial_weights"] is None


def test_finetune_refuses_classifiers(images, tmp_path):
    with pytest.raises(ZooError, match="super-resolution"):
        finetune("lenet5", images, tmp_path / "r")
