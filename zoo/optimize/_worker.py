"""Child process for :mod:`zoo.optimize`: tf_keras + tfmot live only here.

Run as ``python -m zoo.optimize._worker '<json task>'`` with ``TF_USE_LEGACY_KERAS=1``; prints
one JSON line with the report.
"""

from __future__ import annotations

import gzip
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np


def _tf_keras_twin(name: str):
    """The Keras 3 published model and its tf_keras rebuild with the same weights (by layer name)."""
    import tf_keras

    import zoo
    from zoo.models.lenet import build_lenet

    k3 = zoo.load(name)
    builders = {"lenet5": lambda: build_lenet(keras_module=tf_keras)}
    twin = builders[name]()
    for layer in twin.layers:
        if layer.weights:
            layer.set_weights(k3.get_layer(layer.name).get_weights())
    return k3, twin


def _data(name: str):
    from zoo.data import mnist

    x_train, y_train = mnist.load_split("train")
    x_test, y_test = mnist.load_split("test")
    return x_train, y_train, x_test, y_test


def _accuracy(model, x, y) -> float:
    return float(np.mean(np.argmax(model.predict(x, batch_size=500, verbose=0), -1) == y))


def _sizes(path: Path) -> dict:
    data = path.read_bytes()
    return {"bytes": len(data), "gzip_bytes": len(gzip.compress(data, 9))}


def _to_tflite(model, int8: bool, representative=None) -> bytes:
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if int8:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        if representative is not None:
            converter.representative_dataset = lambda: ([x[None]] for x in representative)
            converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    else:
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    return converter.convert()


def _tflite_accuracy(content: bytes, x, y) -> float:
    from zoo.export.litert import run_tflite

    return float(np.mean(np.argmax(run_tflite(content, x), -1) == y))


def prune(task: dict) -> dict:
    import tensorflow_model_optimization as tfmot
    import tf_keras

    k3, twin = _tf_keras_twin(task["name"])
    x_train, y_train, x_test, y_test = _data(task["name"])
    before = _accuracy(k3, x_test, y_test)
    batch, epochs = 128, int(task["epochs"])
    steps = epochs * int(np.ceil(len(x_train) / batch))
    schedule = tfmot.sparsity.keras.PolynomialDecay(initial_sparsity=0.0, final_sparsity=task["sparsity"],
                                                    begin_step=0, end_step=int(steps * 0.7), frequency=50)
    pruned = tfmot.sparsity.keras.prune_low_magnitude(twin, pruning_schedule=schedule)
    pruned.compile(optimizer=tf_keras.optimizers.Adam(2e-4), loss="sparse_categorical_crossentropy",
                   metrics=["accuracy"])
    pruned.fit(x_train, y_train, batch_size=batch, epochs=epochs, verbose=0,
               callbacks=[tfmot.sparsity.keras.UpdatePruningStep()])
    stripped = tfmot.sparsity.keras.strip_pruning(pruned)
    kernels = [w for layer in stripped.layers for w in layer.get_weights() if w.ndim > 1]
    sparsity = float(sum((k == 0).sum() for k in kernels) / sum(k.size for k in kernels))
    # Back into the Keras 3 model, by layer name.
    for layer in k3.layers:
        if layer.weights:
            layer.set_weights(stripped.get_layer(layer.name).get_weights())
    out = Path(task["out_dir"])
    out.mkdir(parents=True, exist_ok=True)
    from zoo.weights_io import save_atomic

    weights = save_atomic(k3, out / f"{task['name']}.pruned{int(task['sparsity'] * 100)}.weights.h5")
    tfl = out / f"{task['name']}.pruned{int(task['sparsity'] * 100)}.tflite"
    tfl.write_bytes(_to_tflite(stripped, int8=False))
    dense_tfl = Path(tempfile.mkdtemp()) / "dense.tflite"
    dense_tfl.write_bytes(_to_tflite(_tf_keras_twin(task["name"])[1], int8=False))
    return {
        "task": "prune", "name": task["name"], "target_sparsity": task["sparsity"], "sparsity": round(sparsity, 4),
        "accuracy_before": round(before, 4), "accuracy_after": round(_accuracy(k3, x_test, y_test), 4),
        "weights": str(weights), "tflite": str(tfl), "tflite_size": _sizes(tfl),
        "dense_tflite_size": _sizes(dense_tfl), "fine_tune_epochs": epochs,
    }


def qat(task: dict) -> dict:
    import tensorflow_model_optimization as tfmot
    import tf_keras

    k3, twin = _tf_keras_twin(task["name"])
    x_train, y_train, x_test, y_test = _data(task["name"])
    rep = x_train[:300]
    ptq = _to_tflite(twin, int8=True, representative=rep)
    q = tfmot.quantization.keras.quantize_model(twin)
    q.compile(optimizer=tf_keras.optimizers.Adam(1e-4), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    q.fit(x_train, y_train, batch_size=128, epochs=int(task["epochs"]), verbose=0)
    qat_content = _to_tflite(q, int8=True)
    out = Path(task["out_dir"])
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{task['name']}.qat_int8.tflite").write_bytes(qat_content)
    (out / f"{task['name']}.ptq_int8.tflite").write_bytes(ptq)
    return {
        "task": "qat", "name": task["name"], "keras_fp32_accuracy": round(_accuracy(k3, x_test, y_test), 4),
        "ptq_int8_accuracy": round(_tflite_accuracy(ptq, x_test, y_test), 4),
        "qat_int8_accuracy": round(_tflite_accuracy(qat_content, x_test, y_test), 4),
        "ptq_size": len(ptq), "qat_size": len(qat_content), "fine_tune_epochs": int(task["epochs"]),
        "tflite": str(out / f"{task['name']}.qat_int8.tflite"),
    }


def main() -> None:
    task = json.loads(sys.argv[1])
    assert os.environ.get("TF_USE_LEGACY_KERAS") == "1", "run through zoo.optimize"
    report = {"prune": prune, "qat": qat}[task["task"]](task)
    print(json.dumps(report), flush=True)


if __name__ == "__main__":
    main()
