"""Publishing: the Hub folder, and an upload + download round trip on a loopback Hub."""

import json
import shutil
import subprocess
import sys

import pytest

from conftest import REPO, clean_env, run_python
from helpers.fake_hub import FakeHub
from zoo.errors import ZooError
from zoo.manifest import load_manifest
from zoo.release import build_hub_folder, model_card, publish


@pytest.fixture
def published(tmp_path, manifest_with, lenet_weights, monkeypatch):
    manifest = manifest_with(lenet_weights["entry"])
    wdir = tmp_path / "w"
    wdir.mkdir()
    shutil.copy(lenet_weights["path"], wdir)
    monkeypatch.setenv("ZOO_WEIGHTS_DIR", str(wdir))
    monkeypatch.setenv("ZOO_NO_CHECKOUT_WEIGHTS", "1")
    return manifest, lenet_weights


def test_hub_folder_contents(tmp_path, published):
    _, w = published
    folder = build_hub_folder("lenet5.mnist", tmp_path / "hub")
    assert sorted(p.name for p in folder.iterdir()) == ["README.md", "config.json", "lenet5.mnist.weights.h5"]
    config = json.loads((folder / "config.json").read_text())
    assert config["arch"] == "lenet5" and config["sha256"] == w["entry"]["sha256"]
    card = (folder / "README.md").read_text()
    front = card.split("---")[1]
    assert "license: apache-2.0" in front and "library_name: keras" in front
    assert "pipeline_tag: image-classification" in front
    assert 'zoo.load("lenet5.mnist")' in card


def test_hub_folder_refuses_unmeasured_weights(tmp_path, manifest_with, lenet_weights):
    entry = dict(lenet_weights["entry"], metrics=[])
    manifest_with(entry)
    with pytest.raises(ZooError, match="no metrics"):
        build_hub_folder("lenet5.mnist", tmp_path / "hub")


def test_upload_then_download_round_trip(tmp_path, published):
    manifest, w = published
    folder = build_hub_folder("lenet5.mnist", tmp_path / "hub")
    with FakeHub() as fake:
        revision = publish("lenet5.mnist", folder, endpoint=fake.endpoint, token="hf_test")
        assert len(revision) == 40
        assert fake.cards and fake.cards[0]["license"] == "apache-2.0"  # the Hub accepted the card
        assert load_manifest(manifest)["lenet5.mnist"]["hub"]["revision"] == revision
        assert fake.repos["zoo-test/lenet5.mnist"]["commits"][revision]["lenet5.mnist.weights.h5"] == w["bytes"]
        # Publishing again makes a new commit; loads stay pinned to the recorded one.
        fake.commit("zoo-test/lenet5.mnist", {"lenet5.mnist.weights.h5": b"newer"})
        env = clean_env(ZOO_MANIFEST=manifest, ZOO_NO_CHECKOUT_WEIGHTS=1, HF_ENDPOINT=fake.endpoint,
                        HF_HUB_CACHE=tmp_path / "cache")
        r = run_python("import zoo; m = zoo.load('lenet5.mnist'); print(m.count_params())", env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "61706"
    assert list((tmp_path / "cache").rglob(f"snapshots/{revision}/lenet5.mnist.weights.h5"))


def test_publish_tool_dry_run(tmp_path, published):
    manifest, _ = published
    env = clean_env(ZOO_MANIFEST=manifest, ZOO_WEIGHTS_DIR=tmp_path / "w", ZOO_NO_CHECKOUT_WEIGHTS=1)
    r = subprocess.run([sys.executable, str(REPO / "tools/publish_weights.py"), "lenet5.mnist", "--dry-run",
                        "--out", str(tmp_path / "out")], env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "out/lenet5.mnist/README.md").exists()


def test_model_card_lists_metrics(published):
    _, w = published
    entry = dict(w["entry"], metrics=[{"dataset": "mnist-test", "protocol": "p", "values": {"top1_accuracy": 0.5},
                                       "tool": "t", "commit": "c", "date": "d"}])
    assert "| mnist-test | top1_accuracy | 0.5 |" in model_card(entry)
