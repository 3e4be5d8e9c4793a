"""zoo.layers.BatchNormalization: Keras' BatchNormalization maths with TensorFlow's fused training kernel."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from zoo.layers import BatchNormalization as FusedBatchNormalization


def _pair(**kw):
    ref, fused = keras.layers.BatchNormalization(**kw), FusedBatchNormalization(**kw)
    for layer in (ref, fused):
        layer.build((None, 6, 5, 4))
    rng = np.random.default_rng(0)
    weights = [rng.normal(size=4).astype("float32"), rng.normal(size=4).astype("float32"),
               rng.normal(size=4).astype("float32"), rng.uniform(0.5, 2, size=4).astype("float32")]
    weights = weights[-len(ref.weights):]  # without center/scale only the moving statistics remain
    ref.set_weights(weights)
    fused.set_weights(weights)
    return ref, fused


@pytest.mark.parametrize("kw", [dict(epsilon=1e-5, momentum=0.9), dict(epsilon=1e-3, center=False, scale=False)])
def test_training_step_matches_keras(kw):
    ref, fused = _pair(**kw)
    x = tf.constant(np.random.default_rng(1).normal(3.0, 2.0, size=(3, 6, 5, 4)).astype("float32"))
    grads = []
    for layer in (ref, fused):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x, training=True)
            loss = tf.reduce_sum(y * tf.range(4, dtype=tf.float32))
        grads.append((y, tape.gradient(loss, [x] + layer.trainable_weights)))
    np.testing.assert_allclose(grads[0][0], grads[1][0], atol=2e-5)
    for a, b in zip(grads[0][1], grads[1][1]):
        np.testing.assert_allclose(a, b, atol=2e-4)
    for a, b in zip(ref.non_trainable_weights, fused.non_trainable_weights):  # moving mean / variance
        np.testing.assert_allclose(np.array(a), np.array(b), rtol=1e-5, atol=1e-6)


def test_inference_and_fallbacks_are_keras():
    ref, fused = _pair(epsilon=1e-5)
    x = np.random.default_rng(2).normal(size=(2, 6, 5, 4)).astype("float32")
    np.testing.assert_allclose(ref(x, training=False), fused(x, training=False), atol=1e-6)
    flat = FusedBatchNormalization()
    assert flat(np.ones((3, 4), "float32"), training=True).shape == (3, 4)  # 2-D input: Keras path


def test_serializes_and_keeps_keras_weight_layout(tmp_path):
    inputs = keras.Input((None, None, 4))
    model = keras.Model(inputs, FusedBatchNormalization(name="bn")(inputs))
    path = tmp_path / "m.keras"
    model.save(path)
    again = keras.saving.load_model(path)
    assert isinstance(again.get_layer("bn"), FusedBatchNormalization)
    assert [w.path for w in model.weights] == [w.path for w in again.weights]
    plain = keras.Model(inputs := keras.Input((None, None, 4)), keras.layers.BatchNormalization(name="bn")(inputs))
    plain.save_weights(tmp_path / "plain.weights.h5")
    model.load_weights(tmp_path / "plain.weights.h5")  # weights files are interchangeable


def test_training_uses_the_fused_kernel():
    layer = FusedBatchNormalization()
    layer.build((None, 6, 5, 4))
    graph = tf.function(lambda x: layer(x, training=True)).get_concrete_function(
        tf.TensorSpec((None, 6, 5, 4), tf.float32)).graph
    assert "FusedBatchNormV3" in {op.type for op in graph.get_operations()}
