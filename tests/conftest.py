"""Shared test helpers: paths, the ../shared skip, subprocess runner, fixture weights."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("ZOO_DATA_DIR") or REPO.parent / "shared" / "data")
sys.path.insert(0, str(REPO / "tests"))


def shared_path(*parts: str) -> Path:
    """A path under ../shared/data, or skip the test saying why."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"needs {path} (the read-only ../shared data beside the checkout), absent here")
    return path


def clean_env(**extra) -> dict:
    """Environment for a child process: no Hub access unless the test opens one."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "ZOO_"))}
    env.update(
        PYTHONPATH=str(REPO),
        TF_CPP_MIN_LOG_LEVEL="3",
        HF_HUB_DISABLE_TELEMETRY="1",
        HF_HUB_DISABLE_XET="1",
        HF_ENDPOINT="http://127.0.0.1:9",  # a closed port: never the internet
    )
    env.update({k: str(v) for k, v in extra.items()})
    return env


def run_python(code: str, env: dict, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=timeout
    )


def run_zoo(*args: str, env: dict | None = None, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "zoo", *args], env=env or clean_env(), capture_output=True,
        text=True, timeout=timeout, cwd=REPO,
    )


@pytest.fixture(autouse=True)
def _seeded_random_init():
    """Every test starts from the same Keras/NumPy/TF seed, so untrained weights do not depend on
    which tests ran before (an unseeded int8 check of a random Deep K-SVD once fell under its
    tolerance in CI: 1 init in 8 does)."""
    import keras

    keras.utils.set_random_seed(0)


@pytest.fixture(scope="session")
def lenet_weights(tmp_path_factory) -> dict:
    """A LeNet-5 weights file (seeded random init) and a manifest entry describing it."""
    import keras

    from zoo.hub import sha256_of
    from zoo.registry import get_spec
    from zoo.weights_io import parameter_counts

    d = tmp_path_factory.mktemp("fixture_weights")
    keras.utils.set_random_seed(7)
    model = get_spec("lenet5").builder()
    path = d / "lenet5.mnist.weights.h5"
    model.save_weights(str(path))
    entry = {
        "model": "lenet5.mnist",
        "arch": "lenet5",
        "tag": "mnist",
        "hub": {"repo_id": "zoo-test/lenet5.mnist", "revision": None},
        "file": path.name,
        "sha256": sha256_of(path),
        "size": path.stat().st_size,
        **parameter_counts(model),
        "input_spec": get_spec("lenet5").input_spec.to_json(),
        "builder_kwargs": {},
        "metrics": [{"dataset": "fixture", "protocol": "none", "values": {}, "tool": "test",
                     "commit": "0" * 40, "date": "2026-01-01"}],
        "license": "Apache-2.0",
        "source": {"kind": "zoo-trained", "recipe": "zoo/recipes/lenet5_mnist.py", "commit": "0" * 40},
        "date": "2026-01-01",
    }
    return {"path": path, "entry": entry, "bytes": path.read_bytes()}


@pytest.fixture
def manifest_with(tmp_path, monkeypatch):
    """Write a temporary manifest with the given entries and point zoo at it."""

    def make(*entries: dict, revision: str | None = None) -> Path:
        weights = {}
        for e in entries:
            e = json.loads(json.dumps(e))
            if revision is not None:
                e["hub"]["revision"] = revision
            weights[e["model"]] = e
        path = tmp_path / "weights_manifest.json"
        path.write_text(json.dumps({"schema_version": 1, "weights": weights}))
        monkeypatch.setenv("ZOO_MANIFEST", str(path))
        return path

    return make
