"""Measuring weights with the standard protocols, and recording the results.

Each benchmark has a name, the task it applies to, a protocol sentence (what
exactly is measured) and a function that returns the metric values.
:func:`evaluate_published` is what ``zoo eval`` / ``tools/evaluate.py`` run:
it measures the sha256-verified published file and writes the values into its
manifest entry, so every number in the manifest comes from a run of this code.

Example::

    from zoo.evaluation import evaluate_published
    evaluate_published("lenet5.mnist", "mnist-test", write=False)
"""

from __future__ import annotations

import dataclasses
from typing import Callable

import numpy as np

from zoo.errors import ZooError


@dataclasses.dataclass(frozen=True)
class Benchmark:
    name: str
    task: str
    protocol: str
    run: Callable  # (model) -> dict of metric values


def _mnist_test(model) -> dict:
    from zoo.data import mnist

    x, y = mnist.load_split("test")
    probs = np.asarray(model.predict(x, batch_size=500, verbose=0))
    top1 = float(np.mean(np.argmax(probs, -1) == y))
    top5 = np.argsort(-probs, -1)[:, :5]
    return {
        "top1_accuracy": round(top1, 5),
        "top5_accuracy": round(float(np.mean((top5 == y[:, None]).any(-1))), 5),
        "num_images": int(len(y)),
    }


def _sr_benchmark(dataset: str, scale: int) -> Benchmark:
    from zoo.eval_sr import PROTOCOL

    def run(model) -> dict:
        from zoo.eval_sr import evaluate_sr, model_predict
        from zoo.restore import _model_scale

        if _model_scale(model) != scale:
            raise ZooError(f"the model upsamples by {_model_scale(model)}, the benchmark is x{scale}")
        values = evaluate_sr(model_predict(model), f"sr_{dataset}", scale)
        return {k: values[k] for k in ("psnr_y", "ssim_y", "num_images")}

    return Benchmark(f"{dataset}-x{scale}", "super_resolution", f"{dataset.capitalize()} x{scale}. {PROTOCOL}", run)


def _dn_benchmark(sigma: int) -> Benchmark:
    from zoo.eval_dn import PROTOCOL

    def run(model) -> dict:
        from zoo.eval_dn import evaluate_denoiser, model_predict

        if model.input_shape[-1] != 1:
            raise ZooError(f"Set12 is grey; the model takes {model.input_shape[-1]}-channel images")
        values = evaluate_denoiser(model_predict(model), sigma, "denoise_set12")
        return {k: values[k] for k in ("psnr", "ssim", "num_images")}

    return Benchmark(f"set12-s{sigma}", "denoising", f"Set12, Gaussian noise sigma {sigma}. {PROTOCOL}", run)


BENCHMARKS = {
    b.name: b
    for b in (
        Benchmark(
            "mnist-test",
            "classification",
            "MNIST test set (10,000 images, original order), 28x28 grey /255 in [0, 1], "
            "single crop, no test-time augmentation; top-1/top-5 accuracy",
            _mnist_test,
        ),
        *(_sr_benchmark(d, s) for d in ("set5", "set14") for s in (2, 3, 4)),
        *(_dn_benchmark(s) for s in (15, 25, 50)),
    )
}

#: What `zoo eval NAME` measures when no dataset is given.
DEFAULT_BENCHMARKS = {
    "lenet5": ("mnist-test",),
    **{f"xunit_sr_x{s}": (f"set5-x{s}", f"set14-x{s}") for s in (2, 3, 4)},
    "relu_sr_x4": ("set5-x4", "set14-x4"),
    **{f"xunit_dn_s{s}": (f"set12-s{s}",) for s in (15, 25, 50)},
    "xunit_dn_blind": ("set12-s15", "set12-s25", "set12-s50"),
    **{f"cscnet_s{s}": (f"set12-s{s}",) for s in (15, 25, 50)},
    "dncnn_s25": ("set12-s25",),
}


def get_benchmark(name: str) -> Benchmark:
    if name not in BENCHMARKS:
        raise ZooError(f"unknown dataset {name!r}; benchmarks: {', '.join(sorted(BENCHMARKS))}")
    return BENCHMARKS[name]


def benchmarks_for(arch: str) -> tuple[str, ...]:
    return DEFAULT_BENCHMARKS.get(arch, ())


def evaluate_model(model, benchmark: str) -> dict:
    return get_benchmark(benchmark).run(model)


def record(name: str, benchmark: str, values: dict) -> dict:
    """Write ``values`` into the manifest entry ``name`` (replacing that benchmark's record)."""
    from zoo.manifest import get_entry, today, update_entry
    from zoo.provenance import git_commit

    entry = get_entry(name)
    if entry is None:
        raise ZooError(f"{name} is not in the manifest; add it with tools/add_weights.py first")
    bench = get_benchmark(benchmark)
    metric = {
        "dataset": benchmark,
        "protocol": bench.protocol,
        "values": values,
        "tool": "tools/evaluate.py",
        "commit": git_commit(),
        "date": today(),
        "weights_sha256": entry["sha256"],
    }
    metrics = [m for m in entry.get("metrics", []) if m.get("dataset") != benchmark]
    metrics.append(metric)
    return update_entry(name, {"metrics": metrics})


def evaluate_published(name: str, benchmark: str | None = None, write: bool = False) -> dict:
    """Measure the published (sha256-verified) weights ``name`` on one or all its benchmarks."""
    import zoo
    from zoo.registry import resolve_name

    spec, tag = resolve_name(name)
    if tag is None:
        raise ZooError(f"{name} has no weights to evaluate")
    full = f"{spec.arch}.{tag.tag}"
    names = (benchmark,) if benchmark else benchmarks_for(spec.arch)
    if not names:
        raise ZooError(f"no benchmark is defined for {spec.arch}; pass --dataset")
    model = zoo.load(full)
    results = {}
    for b in names:
        if get_benchmark(b).task != spec.task:
            raise ZooError(f"{b} measures {get_benchmark(b).task}, {full} does {spec.task}")
        results[b] = evaluate_model(model, b)
        if write:
            record(full, b, results[b])
    return results
