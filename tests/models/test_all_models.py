"""Every registered model: builds, runs, serializes; every published weight: golden outputs."""

import json

import keras
import numpy as np
import pytest

import zoo
from zoo import registry
from zoo.manifest import REPO_DIR, load_manifest
from zoo.testing import example_input, example_shape

SPECS = registry.all_specs()
PUBLISHED = sorted(load_manifest())


@pytest.fixture(scope="module", params=SPECS, ids=lambda s: s.arch)
def built(request):
    spec = request.param
    return spec, zoo.load(spec.arch, weights=None)


def test_forward_shape_and_range(built):
    spec, model = built
    x = example_input(spec)
    y = np.asarray(model.predict(x, verbose=0))
    assert np.isfinite(y).all()
    if spec.task == "classification":
        assert y.shape == (x.shape[0], model.output_shape[-1])
        np.testing.assert_allclose(y.sum(-1), 1.0, rtol=1e-5)
    else:
        s = spec.input_spec.scale or 1
        assert y.shape == (x.shape[0], x.shape[1] * s, x.shape[2] * s, x.shape[3])


def test_config_round_trip(built):
    spec, model = built
    clone = keras.models.model_from_json(model.to_json())
    clone.set_weights(model.get_weights())
    x = example_input(spec, batch=1)
    np.testing.assert_allclose(clone.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-5, atol=1e-6)


def test_input_spec_matches_model(built):
    spec, model = built
    assert tuple(model.input_shape[1:]) == tuple(spec.input_spec.shape)
    assert example_shape(spec)[-1] == spec.input_spec.shape[-1]


@pytest.mark.parametrize("name", PUBLISHED)
def test_published_weights_give_golden_outputs(name):
    golden_path = REPO_DIR / "tests" / "golden" / f"{name}.json"
    assert golden_path.exists(), f"run python tools/make_golden.py {name}"
    golden = json.loads(golden_path.read_text())
    assert golden["weights_sha256"] == load_manifest()[name]["sha256"], "golden made from other weights"
    y = np.asarray(zoo.load(name).predict(example_input(registry.get_spec(name)), verbose=0), np.float64)
    assert list(y.shape) == golden["output_shape"]
    sample = y.reshape(-1)[:: max(1, y.size // 64)][:64]
    np.testing.assert_allclose(sample, golden["output_sample"], atol=2e-5)
    assert abs(y.mean() - golden["output_mean"]) < 1e-5
