"""Child process for :mod:`zoo.optimize`: tf_keras + tfmot live only here.

Run as ``python -m zoo.optimize._worker '<json task>'`` with ``TF_USE_LEGACY_KERAS=1``; prints
one JSON line with the report.  Each supported family is an adapter (:class:`Classifier`,
:class:`SuperResolution`): its tf_keras twin, recipe data, loss and quality metric.
"""

from __future__ import annotations

import gzip
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np


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
        # else a QAT graph: ranges come from its fake-quant nodes; the report audits float ops.
    else:
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    return converter.convert()


class Classifier:
    """LeNet-5 on MNIST: top-1 accuracy on the full test set."""

    metric = "accuracy"
    batch = 128
    fine_tune_lr = 2e-4

    def __init__(self, name: str):
        import tf_keras

        import zoo
        from zoo.data import mnist
        from zoo.models.lenet import build_lenet

        self.name = name
        self.k3 = zoo.load(name)
        self.x_train, self.y_train = mnist.load_split("train")
        self.x_test, self.y_test = mnist.load_split("test")
        self._build = lambda: build_lenet(keras_module=tf_keras)
        self.custom_objects = {}

    def twin(self, for_qat: bool = False):
        twin = self._build()
        for layer in twin.layers:
            if layer.weights:
                layer.set_weights(self.k3.get_layer(layer.name).get_weights())
        return twin

    def twin_difference(self, twin) -> float:
        x = self.x_test[:64]
        return float(np.max(np.abs(self.k3.predict(x, verbose=0) - twin.predict(x, verbose=0))))

    def copy_back(self, twin) -> None:
        for layer in self.k3.layers:
            if layer.weights:
                layer.set_weights(twin.get_layer(layer.name).get_weights())

    def quantize_config(self, layer):
        return None

    def prunable(self, layer) -> bool:
        return bool(layer.weights)

    def compile(self, model, lr):
        import tf_keras

        model.compile(optimizer=tf_keras.optimizers.Adam(lr), loss="sparse_categorical_crossentropy")

    def fit(self, model, steps, callbacks=()):
        epochs = max(1, round(steps * self.batch / len(self.x_train)))
        model.fit(self.x_train, self.y_train, batch_size=self.batch, epochs=epochs, verbose=0,
                  callbacks=list(callbacks))
        return self.steps_for(epochs)

    def steps_for(self, epochs: int) -> int:
        return epochs * int(np.ceil(len(self.x_train) / self.batch))

    def ptq(self, twin) -> bytes:
        """Post-training int8 of the twin, calibrated on 300 training digits."""
        return _to_tflite(twin, int8=True, representative=self.x_train[:300])

    def calibration_data(self):
        return self.x_train[:512]

    def score_keras(self) -> float:
        p = self.k3.predict(self.x_test, batch_size=500, verbose=0)
        return float(np.mean(np.argmax(p, -1) == self.y_test))

    def score_tflite(self, content: bytes) -> float:
        from zoo.export.litert import run_tflite

        return float(np.mean(np.argmax(run_tflite(content, self.x_test), -1) == self.y_test))


class SuperResolution:
    """The mobile SR nets on their recipe data (T91 + BSD200 crops); Set5 PSNR-Y, full protocol."""

    metric = "set5_psnr_y"
    fine_tune_lr = 5e-5  # the recipe ends at 1e-5; larger steps first undo the training

    def __init__(self, name: str):
        import zoo
        from zoo.optimize import _sr_twin
        from zoo.recipes import get_recipe

        self.name = name
        self.k3 = zoo.load(name)
        self._twin = _sr_twin
        self.scale = self.k3.get_layer("shuffle").scale
        spec = zoo.registry.get_spec(name)
        tag = spec.tags.get(spec.default_tag) if spec.default_tag else None
        self.recipe = get_recipe(tag.recipe) if tag and tag.recipe else None
        self.batch = self.recipe.batch_size if self.recipe else 16
        self.custom_objects = _sr_twin.CUSTOM_OBJECTS
        self._bank = None

    def twin(self, for_qat: bool = False):
        return self._twin.twin_of(self.k3, self.name, fold_batch_norm=for_qat)

    def copy_back(self, twin) -> None:
        self._twin.copy_weights(twin, self.k3, to_twin=False)

    def twin_difference(self, twin) -> float:
        x = np.random.default_rng(0).random((1, 24, 20, 3), dtype=np.float32)
        return self._twin.max_abs_difference(self.k3, twin, x)

    def quantize_config(self, layer):
        return self._twin.quantize_config_for(layer)

    def prunable(self, layer) -> bool:
        import tf_keras

        # tfmot's registry leaves depthwise kernels dense (DepthwiseConv2D: no prunable weights):
        # 8% of xunit_sr_x4's parameters, and the xUnit gate's spatial filters.
        return type(layer) is tf_keras.layers.Conv2D

    def compile(self, model, lr):
        import tf_keras

        model.compile(optimizer=tf_keras.optimizers.Adam(lr), loss="mean_absolute_error")

    def _data(self, seed=7):
        from zoo.data.sr import load_pair_bank, sr_train_dataset
        from zoo.recipes._sr import TRAIN_SETS

        if self._bank is None:  # the (LR, HR) pairs of the recipe's images: built once (~20 s), then reused
            self._bank = load_pair_bank(self.scale, TRAIN_SETS)
        return sr_train_dataset(scale=self.scale, patch_size=32, batch_size=self.batch, seed=seed, bank=self._bank)

    def fit(self, model, steps, callbacks=()):
        model.fit(self._data(), steps_per_epoch=steps, epochs=1, verbose=0, callbacks=list(callbacks))
        return steps

    def steps_for(self, epochs: int) -> int:
        return epochs * (self.recipe.steps_per_epoch if self.recipe else 1000)

    def ptq(self, twin) -> bytes:
        """Post-training int8 as a user gets it: zoo.export's converter and calibration data."""
        import zoo.export

        path = Path(tempfile.mkdtemp()) / "ptq.tflite"
        zoo.export.tflite(self.k3, path, quantize="int8", verify=False)
        return path.read_bytes()

    def calibration_data(self):
        """16 training batches (LR patches), not the test images."""
        it = iter(self._data(seed=11))
        return np.concatenate([next(it)[0].numpy() for _ in range(16)])

    def score_keras(self) -> float:
        from zoo.eval_sr import evaluate_sr, model_predict

        return float(evaluate_sr(model_predict(self.k3), "sr_set5", self.scale)["psnr_y"])

    def score_tflite(self, content: bytes) -> float:
        from zoo.eval_sr import evaluate_sr
        from zoo.export.litert import run_tflite

        return float(evaluate_sr(lambda x: run_tflite(content, x[None])[0], "sr_set5", self.scale)["psnr_y"])


FAMILIES = {"lenet5": Classifier, "xunit_sr_x4": SuperResolution, "xunit_sr_x2": SuperResolution,
            "xunit_sr_x3": SuperResolution, "relu_sr_x4": SuperResolution}


TWIN_TOLERANCE = 1e-4


def _weights_id(name: str) -> dict:
    """Which published weights were optimized (name and sha256 from the manifest)."""
    from zoo import manifest, registry

    spec = registry.get_spec(name)
    full = f"{name}.{spec.default_tag}"
    entry = manifest.get_entry(full) or {}
    return {"weights_name": full, "weights_sha256": entry.get("sha256")}


def _checked_twin(fam, for_qat: bool = False):
    """The tf_keras twin, refused unless it computes what the Keras 3 model computes."""
    twin = fam.twin(for_qat=for_qat)
    diff = fam.twin_difference(twin)
    if not diff <= TWIN_TOLERANCE:
        raise RuntimeError(f"the tf_keras twin of {fam.name} differs from the Keras 3 model by {diff:.3g}")
    return twin, diff


def _float_ops(content: bytes) -> list:
    from zoo.export.litert import op_audit

    return op_audit(content)[1]


def _calibrate_ranges(q, twin, x: np.ndarray) -> int:
    """Start every activation quantizer of the QAT model ``q`` at the float min/max of its layer
    on ``x`` (training data), as post-training calibration does.

    tfmot's moving-average quantizers otherwise start at [-6, 6] and move with decay 0.999: after
    1,000 steps a third of that initial range remains, far wider than the SR nets' activations
    (Set5 x4 int8 at 28.9 dB instead of PTQ's 31.1 after 200 steps).  Returns how many were set.
    """
    import tf_keras

    layers = [layer for layer in twin.layers if not isinstance(layer, tf_keras.layers.InputLayer)]
    probe = tf_keras.Model(twin.inputs, [layer.output for layer in layers])
    outs = probe.predict(x, batch_size=16, verbose=0)
    ranges = {layer.name: (min(0.0, float(o.min())), max(0.0, float(o.max()))) for layer, o in zip(layers, outs)}
    ranges["<input>"] = (min(0.0, float(x.min())), max(0.0, float(x.max())))
    count = 0
    for wrapper in q.layers:
        inner = getattr(wrapper, "layer", None)
        key = inner.name if inner is not None else "<input>"
        for var in wrapper.weights:
            base = var.name.split("/")[-1].split(":")[0]
            if key in ranges and base in ("output_min", "post_activation_min", "quantize_layer_min"):
                var.assign(ranges[key][0])
                count += 1
            elif key in ranges and base in ("output_max", "post_activation_max", "quantize_layer_max"):
                var.assign(ranges[key][1])
    return count


def prune(task: dict) -> dict:
    import tensorflow_model_optimization as tfmot
    import tf_keras

    fam = FAMILIES[task["name"]](task["name"])
    before = fam.score_keras()
    steps = int(task.get("steps") or fam.steps_for(int(task["epochs"])))
    # Reach the target after 70% of the budget, in about 20 pruning updates; the rest fine-tunes.
    end_step = max(1, int(steps * 0.7))
    schedule = tfmot.sparsity.keras.PolynomialDecay(initial_sparsity=0.0, final_sparsity=task["sparsity"],
                                                    begin_step=0, end_step=end_step,
                                                    frequency=max(1, min(100, end_step // 20)))

    def wrap(layer):
        if fam.prunable(layer):
            return tfmot.sparsity.keras.prune_low_magnitude(layer, pruning_schedule=schedule)
        return layer

    dense, twin_diff = _checked_twin(fam)
    dense_tfl = Path(tempfile.mkdtemp()) / "dense.tflite"
    dense_tfl.write_bytes(_to_tflite(dense, int8=False))  # before fine-tuning changes the shared weights
    # clone_function gets the twin's own layers: wrappers and kept layers carry its weights.
    pruned = tf_keras.models.clone_model(dense, clone_function=wrap)
    fam.compile(pruned, float(task.get("lr") or fam.fine_tune_lr))
    steps = fam.fit(pruned, steps, callbacks=[tfmot.sparsity.keras.UpdatePruningStep()])
    stripped = tfmot.sparsity.keras.strip_pruning(pruned)
    kernels = [layer.get_weights()[0] for layer in stripped.layers if fam.prunable(layer)]
    sparsity = float(sum((k == 0).sum() for k in kernels) / sum(k.size for k in kernels))
    fam.copy_back(stripped)  # into the Keras 3 model, by layer name
    out = Path(task["out_dir"])
    out.mkdir(parents=True, exist_ok=True)
    from zoo.weights_io import save_atomic

    tag = f"{task['name']}.pruned{int(round(task['sparsity'] * 100))}"
    weights = save_atomic(fam.k3, out / f"{tag}.weights.h5")
    tfl = out / f"{tag}.tflite"
    tfl.write_bytes(_to_tflite(stripped, int8=False))
    return {
        "task": "prune", "name": task["name"], "metric": fam.metric, "target_sparsity": task["sparsity"],
        "sparsity": round(sparsity, 4), "before": round(before, 4), "after": round(fam.score_keras(), 4),
        "weights": str(weights), "tflite": str(tfl), "tflite_size": _sizes(tfl),
        "dense_tflite_size": _sizes(dense_tfl), "fine_tune_steps": steps, "twin_max_abs_diff": twin_diff,
    }


def qat(task: dict) -> dict:
    import tensorflow_model_optimization as tfmot
    import tf_keras

    fam = FAMILIES[task["name"]](task["name"])
    keras_score = fam.score_keras()
    twin, twin_diff = _checked_twin(fam, for_qat=True)
    ptq = fam.ptq(twin)
    qk = tfmot.quantization.keras

    def annotate(layer):
        config = fam.quantize_config(layer)
        return qk.quantize_annotate_layer(layer, config) if config is not None else qk.quantize_annotate_layer(layer)

    annotated = qk.quantize_annotate_model(tf_keras.models.clone_model(twin, clone_function=annotate)) \
        if fam.custom_objects else twin
    with qk.quantize_scope(fam.custom_objects):
        q = qk.quantize_apply(annotated) if fam.custom_objects else qk.quantize_model(twin)
    calibrated = _calibrate_ranges(q, twin, fam.calibration_data())
    fam.compile(q, float(task.get("lr") or fam.fine_tune_lr / 2))
    steps = fam.fit(q, int(task.get("steps") or fam.steps_for(int(task["epochs"]))))
    with qk.quantize_scope(fam.custom_objects):
        qat_content = _to_tflite(q, int8=True)
    out = Path(task["out_dir"])
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{task['name']}.qat_int8.tflite").write_bytes(qat_content)
    (out / f"{task['name']}.ptq_int8.tflite").write_bytes(ptq)
    return {
        "task": "qat", "name": task["name"], "metric": fam.metric, "keras_fp32": round(keras_score, 4),
        "ptq_int8": round(fam.score_tflite(ptq), 4), "qat_int8": round(fam.score_tflite(qat_content), 4),
        "ptq_size": len(ptq), "qat_size": len(qat_content), "fine_tune_steps": steps,
        "ptq_float_ops": _float_ops(ptq), "qat_float_ops": _float_ops(qat_content), "twin_max_abs_diff": twin_diff,
        "calibrated_quantizers": calibrated,
        "tflite": str(out / f"{task['name']}.qat_int8.tflite"),
    }


def main() -> None:
    task = json.loads(sys.argv[1])
    assert os.environ.get("TF_USE_LEGACY_KERAS") == "1", "run through zoo.optimize"
    report = {"prune": prune, "qat": qat}[task["task"]](task)
    report.update(_weights_id(task["name"]))
    print(json.dumps(report), flush=True)


if __name__ == "__main__":
    main()
