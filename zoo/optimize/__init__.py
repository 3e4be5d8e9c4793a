"""Pruning and quantization-aware training through tensorflow-model-optimization (extra ``optimize``).

tfmot only accepts tf_keras models, and importing it sets ``TF_USE_LEGACY_KERAS=1`` for the
whole process.  So the work runs in a child process (:mod:`zoo.optimize._worker`): it rebuilds
the architecture in tf_keras from the same builder, copies the weights by layer name, prunes
or QAT-fine-tunes on the model's recipe data, strips the wrappers and brings the result back
(pruned weights as a Keras 3 ``.weights.h5``; QAT as an int8 ``.tflite``).  Nothing of
tfmot is imported into the calling process.

Example::

    from zoo.optimize import prune, quantization_aware
    report = prune("lenet5", sparsity=0.75, out_dir="runs/prune_lenet5")
    report["metric"], report["after"], report["sparsity"]   # "accuracy", 0.99.., 0.75
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from zoo.errors import ZooError

#: Architectures with a tf_keras twin and recipe data here (adapters in :mod:`zoo.optimize._worker`).
SUPPORTED = ("lenet5", "xunit_sr_x2", "xunit_sr_x3", "xunit_sr_x4", "relu_sr_x4")


def _run_worker(task: dict, timeout: float) -> dict:
    import importlib.util

    # Look the packages up without importing them: importing tfmot would switch this process
    # to legacy Keras.
    if not all(importlib.util.find_spec(m) for m in ("tensorflow_model_optimization", "tf_keras")):
        raise ZooError("pruning/QAT need the optimize extra: pip install -e '.[optimize]'")
    env = dict(os.environ, TF_USE_LEGACY_KERAS="1", TF_CPP_MIN_LOG_LEVEL="3")
    root = Path(__file__).resolve().parents[2]
    env["PYTHONPATH"] = os.pathsep.join([str(root), env.get("PYTHONPATH", "")])
    r = subprocess.run([sys.executable, "-m", "zoo.optimize._worker", json.dumps(task)], env=env,
                       capture_output=True, text=True, timeout=timeout)
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith("{")]
    if r.returncode != 0 or not lines:
        raise ZooError(f"tfmot worker failed: {(r.stderr.strip().splitlines() or ['no output'])[-1]}")
    return json.loads(lines[-1])


def _check(name: str) -> None:
    if name not in SUPPORTED:
        raise ZooError(f"pruning/QAT is available for {', '.join(SUPPORTED)}; {name} has no tf_keras builder yet")


def _budget(epochs, steps) -> dict:
    if steps is not None and int(steps) < 1:
        raise ZooError(f"steps must be a positive number of fine-tuning steps, got {steps}")
    if epochs is not None and int(epochs) < 1:
        raise ZooError(f"epochs must be a positive number, got {epochs}")
    return {"epochs": int(epochs or 1), "steps": int(steps) if steps else None}


def prune(name: str, sparsity: float, out_dir, epochs: int | None = 2, steps: int | None = None,
          lr: float | None = None, timeout: float = 3600) -> dict:
    """Magnitude-prune ``name`` to ``sparsity`` (0-1) while fine-tuning on its recipe data.

    The fine-tuning budget is ``steps`` batches if given, else ``epochs`` (MNIST epochs for
    LeNet, 1,000-step recipe epochs for the SR nets).  Returns a report: the quality metric
    (``metric``: top-1 accuracy or Set5 PSNR-Y) before/after, sparsity reached over the
    pruned kernels, TFLite sizes (plain and gzip, dense vs pruned) and the path of the pruned
    Keras 3 ``.weights.h5`` (loads with ``zoo.load(name, weights=path)``).  ``lr`` defaults to
    the family's fine-tuning rate (LeNet 2e-4, SR nets 5e-5; QAT uses half).
    """
    _check(name)
    if not 0.0 < sparsity < 1.0:
        raise ZooError(f"sparsity must be between 0 and 1, got {sparsity}")
    return _run_worker({"task": "prune", "name": name, "sparsity": sparsity, "out_dir": str(out_dir),
                        "lr": lr, **_budget(epochs, steps)}, timeout)


def quantization_aware(name: str, out_dir, epochs: int | None = 1, steps: int | None = None, lr: float | None = None,
                       timeout: float = 3600) -> dict:
    """QAT-fine-tune ``name`` and convert to an int8 ``.tflite``; compares with post-training int8
    (``zoo.export.tflite(..., quantize="int8")``) and Keras fp32 on the same metric."""
    _check(name)
    return _run_worker({"task": "qat", "name": name, "out_dir": str(out_dir), "lr": lr, **_budget(epochs, steps)},
                       timeout)
