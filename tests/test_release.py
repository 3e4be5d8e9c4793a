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


def _fake_run(tmp_path, lenet_weights, commit="a" * 40, **extra):
    run = tmp_path / "run"
    run.mkdir()
    shutil.copy(lenet_weights["path"], run / "final.weights.h5")
    (run / "summary.json").write_text(json.dumps({
        "recipe": {"model": "lenet5", "version": 1}, "recipe_file": "zoo/recipes/lenet5_mnist.py",
        "commit": commit, "epochs_logged": 3, **extra}))
    return run


def test_add_trained_weights_records_the_warm_start(tmp_path, lenet_weights):
    from zoo.release import add_trained_weights

    warm = {"from": "lenet5.digits", "sha256": "b" * 64, "copied": ["c1"], "fresh": ["predictions"]}
    entry = add_trained_weights(_fake_run(tmp_path, lenet_weights, warm_start=warm), "lenet5.mnist",
                                tmp_path / "w", tmp_path / "m.json")
    assert entry["source"]["warm_start"] == {"from": "lenet5.digits", "sha256": "b" * 64}


def test_add_trained_weights_installs_file_and_entry(tmp_path, lenet_weights):
    from zoo.manifest import validate_entry
    from zoo.release import add_trained_weights

    manifest = tmp_path / "m.json"
    entry = add_trained_weights(_fake_run(tmp_path, lenet_weights), "lenet5.mnist", tmp_path / "w", manifest)
    assert (tmp_path / "w" / "lenet5.mnist.weights.h5").read_bytes() == lenet_weights["bytes"]
    assert entry["sha256"] == lenet_weights["entry"]["sha256"] and entry["source"]["commit"] == "a" * 40
    assert load_manifest(manifest)["lenet5.mnist"] == entry
    assert entry["num_params"] == entry["num_trainable_params"] == 61706
    assert validate_entry("lenet5.mnist", dict(entry, metrics=[{"dataset": "d", "protocol": "p", "values": {},
                                                                 "tool": "t", "commit": "c", "date": "d"}])) == []


def test_add_trained_weights_refuses_dirty_runs_and_other_archs(tmp_path, lenet_weights):
    from zoo.release import add_trained_weights

    run = _fake_run(tmp_path, lenet_weights, commit="b" * 40 + "-dirty")
    with pytest.raises(ZooError, match="uncommitted code"):
        add_trained_weights(run, "lenet5.mnist", tmp_path / "w", tmp_path / "m.json")
    with pytest.raises(ZooError, match="not xunit_sr_x4"):
        add_trained_weights(run, "xunit_sr_x4.sr291", tmp_path / "w", tmp_path / "m.json")
    assert not (tmp_path / "w").exists()


def test_add_ported_weights_only_for_licensed_ports(tmp_path, monkeypatch):
    import keras

    from zoo import provenance
    from zoo.registry import get_spec
    from zoo.release import add_ported_weights

    monkeypatch.setattr(provenance, "git_commit", lambda: "c" * 40)
    with pytest.raises(ZooError, match="not a registered tag of ported weights"):
        add_ported_weights(tmp_path / "x.weights.h5", "lenet5.mnist", tmp_path / "ref", tmp_path / "w")
    model = get_spec("dncnn_s25").builder(batch_norm=False)
    keras.utils.set_random_seed(0)
    model.save_weights(str(tmp_path / "p.weights.h5"))
    (tmp_path / "ref.pth").write_bytes(b"reference bytes")
    entry = add_ported_weights(tmp_path / "p.weights.h5", "dncnn_s25.kair", tmp_path / "ref.pth", tmp_path / "w",
                               tmp_path / "m.json")
    assert entry["source"]["kind"] == "ported" and entry["license"] == "MIT"
    assert entry["source"]["reference_sha256"] == __import__("hashlib").sha256(b"reference bytes").hexdigest()
    assert (tmp_path / "w" / "dncnn_s25.kair.weights.h5").exists()


def test_recount_rewrites_only_the_parameter_counts(tmp_path, lenet_weights):
    from zoo.release import recount_parameters

    manifest = tmp_path / "m.json"
    stale = dict(lenet_weights["entry"], num_params=1, num_trainable_params=2)
    manifest.write_text(json.dumps({"schema_version": 1, "weights": {"lenet5.mnist": stale}}))
    assert recount_parameters(manifest_path=manifest) == {
        "lenet5.mnist": {"num_params": 61706, "num_trainable_params": 61706}}
    assert load_manifest(manifest)["lenet5.mnist"] == dict(stale, num_params=61706, num_trainable_params=61706)
    written = manifest.read_bytes()
    manifest.write_bytes(written + b"\n")  # an up-to-date manifest is left as it is
    recount_parameters(manifest_path=manifest)
    assert manifest.read_bytes() == written + b"\n"
    with pytest.raises(ZooError, match="not in the manifest: nope"):
        recount_parameters(["nope"], manifest_path=manifest)


def test_model_card_counts_trainable_parameters_and_batch_norm_statistics(published):
    entry = dict(published[1]["entry"], num_params=307_585, num_trainable_params=304_641)
    assert "- Parameters: 304,641 trainable (307,585 with batch-norm statistics)" in model_card(entry)
    assert "- Parameters: 61,706\n" in model_card(published[1]["entry"])
