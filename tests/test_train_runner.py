"""The training runner: checkpoints, resume after a stop, CSV, curves, strategies."""

import csv
import dataclasses
import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from zoo.recipes import Recipe, get_recipe, list_recipes
from zoo.train.runner import train
from zoo.weights_io import h5_structure


def _data(batch_size, seed, start_step=0):
    rng = np.random.default_rng(seed)
    x = rng.random((256, 28, 28, 1), dtype=np.float32)
    y = (x[:, :14].mean((1, 2, 3)) > x[:, 14:].mean((1, 2, 3))).astype(np.int64)
    return tf.data.Dataset.from_tensor_slices((x, y)).batch(batch_size)


TINY = Recipe(
    name="tiny",
    version=1,
    model="lenet5",
    description="synthetic two-class task",
    train_data=_data,
    val_data=lambda: _data(64, 99),
    loss=lambda: keras.losses.SparseCategoricalCrossentropy(),
    optimizer=lambda steps: keras.optimizers.Adam(1e-3),
    metrics=lambda: [keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
    epochs=2,
    batch_size=64,
    builder_kwargs={"classes": 2},
)


def _rows(out):
    with open(out / "history.csv") as f:
        return list(csv.DictReader(f))


def test_train_writes_everything(tmp_path):
    summary = train(TINY, tmp_path, verbose=0)
    assert [int(r["epoch"]) for r in _rows(tmp_path)] == [0, 1]
    assert (tmp_path / "curves.png").stat().st_size > 1000
    final = tmp_path / "final.weights.h5"
    assert not any(k.startswith("optimizer") for k in h5_structure(final))
    assert summary["num_params"] == 61706 - 8 * 85  # 2-class head: 8 fewer outputs of 84 weights + bias
    assert json.loads((tmp_path / "summary.json").read_text())["epochs_logged"] == 2


def test_resume_continues_where_it_stopped(tmp_path):
    class Stop(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                raise KeyboardInterrupt  # the session ends here

    with pytest.raises(KeyboardInterrupt):
        train(TINY, tmp_path, epochs=4, verbose=0, extra_callbacks=(Stop(),))
    assert not (tmp_path / "final.weights.h5").exists()
    train(TINY, tmp_path, epochs=4, verbose=0)
    epochs = [int(r["epoch"]) for r in _rows(tmp_path)]
    assert epochs[-2:] == [2, 3], epochs  # resumed after the last checkpoint, not from 0
    assert epochs.count(0) == 1


def _stream(batch_size, seed, start_step=0):
    """Endless stream whose labels say which batch it is (the runner must resume it)."""
    calls.append(start_step)

    def batch(step):
        x = tf.random.stateless_uniform([batch_size, 28, 28, 1], tf.stack([tf.cast(seed, tf.int64), step]))
        return x, tf.fill([batch_size], step % 10)

    return tf.data.Dataset.counter(start=start_step).map(batch)


calls = []
STREAM = dataclasses.replace(TINY, train_data=_stream, steps_per_epoch=3, epochs=4, val_data=None,
                             builder_kwargs={"classes": 10})


def test_resume_continues_an_endless_stream_at_the_next_batch(tmp_path):
    class Stop(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                raise KeyboardInterrupt

    calls.clear()
    with pytest.raises(KeyboardInterrupt):
        train(STREAM, tmp_path, verbose=0, extra_callbacks=(Stop(),))
    summary = train(STREAM, tmp_path, verbose=0)
    assert calls == [0, 2 * 3]  # two epochs of three steps were done before the stop
    assert summary["resumed_at_step"] == 6


@pytest.fixture
def published_lenet(lenet_weights, manifest_with, monkeypatch):
    manifest_with(lenet_weights["entry"])
    monkeypatch.setenv("ZOO_WEIGHTS_DIR", str(lenet_weights["path"].parent))
    return lenet_weights


def test_warm_start_copies_a_published_weight_by_layer_name(tmp_path, published_lenet):
    import zoo

    recipe = dataclasses.replace(TINY, epochs=1, init_from="lenet5.mnist", init_skip=("predictions",))
    spy = []

    class Spy(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            spy.append([np.array(w) for w in self.model.get_layer("c1").weights])

    summary = train(recipe, tmp_path, verbose=0, extra_callbacks=(Spy(),))
    published = zoo.load("lenet5.mnist").get_layer("c1").get_weights()
    np.testing.assert_array_equal(spy[0][0], published[0])
    assert summary["warm_start"]["from"] == "lenet5.mnist" and summary["warm_start"]["fresh"] == ["predictions"]
    assert summary["warm_start"]["sha256"] == published_lenet["entry"]["sha256"]


def test_warm_start_refuses_a_changed_layer_it_was_not_told_about(tmp_path, published_lenet):
    from zoo.weights_io import WeightsMismatchError

    with pytest.raises(WeightsMismatchError, match="predictions"):
        train(dataclasses.replace(TINY, epochs=1, init_from="lenet5.mnist"), tmp_path, verbose=0)


@pytest.mark.parametrize("strategy", ["mirrored", "multiworker"])
def test_distribution_strategies(tmp_path, strategy):
    summary = train(TINY, tmp_path, epochs=1, strategy=strategy, verbose=0)
    assert summary["strategy"] == strategy and summary["replicas"] >= 1
    assert (tmp_path / "final.weights.h5").exists()


def test_recipes_are_well_formed():
    assert "lenet5_mnist" in list_recipes()
    for name in list_recipes():
        r = get_recipe(name)
        assert r.name == name and r.version >= 1 and r.epochs >= 1 and r.description


def test_recipe_weights_are_registered_tags_naming_their_recipe():
    # The runner writes summary.json with the recipe's weight_name and add_weights publishes it
    # under that name: the tag must exist and point back at the recipe that regenerates it.
    from zoo.registry import get_spec

    for name in list_recipes():
        r = get_recipe(name)
        if r.weight_name is None:
            continue
        arch, tag = r.weight_name.split(".")
        assert arch == r.model, name
        tags = get_spec(arch).tags
        assert tag in tags, f"{name}: {r.weight_name} is not a registered tag"
        assert tags[tag].recipe == name, f"{r.weight_name} names recipe {tags[tag].recipe}, not {name}"
