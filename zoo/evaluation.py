"""Measuring weights with the standard protocols, and recording the results.

Each benchmark has a name, the task it applies to, a protocol sentence (what
exactly is measured) and a function that returns the metric values.
:func:`evaluate_published` is what ``zoo eval`` / ``tools/evaluate.py`` run:
it measures the sha256-verified published file and writes the values into its
manifest entry, so every number in the manifest comes from a run of this code.
:func:`evaluate_file` (``zoo eval NAME --weights FILE``) measures any other weights
file the same way -- your training, a fine-tune, a port, a run's checkpoint -- and
records nothing.

Example::

    from zoo.evaluation import evaluate_file, evaluate_published
    evaluate_published("lenet5.mnist", "mnist-test", write=False)
    evaluate_file("xunit_dn_s25", "runs/xunit_dn_s25/final.weights.h5")   # {'set12-s25': {...}}
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
    sigma: int | None = None  # the noise level a denoising benchmark adds (sets a noise-conditioned model's)


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

        model_scale = _model_scale(model)
        if model_scale == 1:
            raise ZooError(f"the model keeps the image size (an SRCNN-family net on the bicubic-upsampled "
                           f"Y channel); {dataset}-x{scale} feeds it the low-resolution image: use "
                           f"{dataset}-y-x{scale}, the Y protocol of those nets")
        if model_scale != scale:
            raise ZooError(f"the model upsamples by {model_scale}, the benchmark is x{scale}: "
                           f"use {dataset}-x{model_scale}")
        values = evaluate_sr(model_predict(model), f"sr_{dataset}", scale)
        return {k: values[k] for k in ("psnr_y", "ssim_y", "num_images")}

    return Benchmark(f"{dataset}-x{scale}", "super_resolution", f"{dataset.capitalize()} x{scale}. {PROTOCOL}", run)


def _sr_y_benchmark(dataset: str, scale: int) -> Benchmark:
    """The authors' protocol of the SRCNN family: a one-channel net run on the bicubic-upsampled Y."""
    from zoo.eval_sr import PROTOCOL_Y

    name = f"{dataset}-y-x{scale}"

    def run(model) -> dict:
        from zoo.eval_sr import evaluate_sr_y
        from zoo.restore import _model_scale

        channels, model_scale = model.input_shape[-1], _model_scale(model)
        if channels != 1 or model_scale != 1:
            raise ZooError(f"{name} measures one-channel nets that keep the image size (SRCNN family, "
                           f"on the bicubic-upsampled Y); the model takes {channels} channel(s) and "
                           f"upsamples by {model_scale}: use {dataset}-x{model_scale}")
        values = evaluate_sr_y(model, f"sr_{dataset}", scale)
        return {k: values[k] for k in ("psnr_y", "ssim_y", "num_images")}

    return Benchmark(name, "super_resolution", f"{dataset.capitalize()} x{scale}, Y-channel net. {PROTOCOL_Y}", run)


def _dn_benchmark(sigma: int) -> Benchmark:
    from zoo.eval_dn import PROTOCOL

    def run(model) -> dict:
        from zoo.eval_dn import evaluate_denoiser, model_predict

        if model.input_shape[-1] != 1:
            raise ZooError(f"Set12 is grey; the model takes {model.input_shape[-1]}-channel images")
        values = evaluate_denoiser(model_predict(model), sigma, "denoise_set12")
        return {k: values[k] for k in ("psnr", "ssim", "num_images")}

    return Benchmark(f"set12-s{sigma}", "denoising", f"Set12, Gaussian noise sigma {sigma}. {PROTOCOL}", run,
                     sigma=sigma)


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
        *(_sr_y_benchmark(d, s) for d in ("set5", "set14") for s in (2, 3, 4)),
        *(_dn_benchmark(s) for s in (15, 25, 50)),
    )
}

#: What `zoo eval NAME` measures when no dataset is given.
DEFAULT_BENCHMARKS = {
    "lenet5": ("mnist-test",),
    **{f"xunit_sr_x{s}": (f"set5-x{s}", f"set14-x{s}") for s in (2, 3, 4)},
    "relu_sr_x4": ("set5-x4", "set14-x4"),
    **{f"xunit_dn_s{s}": (f"set12-s{s}",) for s in (15, 25, 50)},
    **{blind: ("set12-s15", "set12-s25", "set12-s50") for blind in ("xunit_dn_blind", "dncnn_b", "ffdnet")},
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


def _benchmarks_to_run(spec, benchmark: str | None) -> tuple[str, ...]:
    """``benchmark`` or the architecture's standard ones, each checked against the model's task."""
    names = (benchmark,) if benchmark else benchmarks_for(spec.arch)
    if not names:
        same_task = sorted(b.name for b in BENCHMARKS.values() if b.task == spec.task)
        raise ZooError(f"no standard benchmark is defined for {spec.arch}; pass --dataset (dataset=), "
                       f"one of: {', '.join(same_task) or 'none for ' + spec.task}")
    for b in names:
        if get_benchmark(b).task != spec.task:
            raise ZooError(f"{b} measures {get_benchmark(b).task}, {spec.arch} does {spec.task}")
    return names


def evaluate_published(name: str, benchmark: str | None = None, write: bool = False) -> dict:
    """Measure the published (sha256-verified) weights ``name`` on one or all its benchmarks."""
    import zoo
    from zoo.registry import resolve_name

    spec, tag = resolve_name(name)
    if tag is None:
        raise ZooError(f"{name} has no published weights to evaluate; for a file of yours: "
                       f"zoo eval {name} --weights FILE")
    full = f"{spec.arch}.{tag.tag}"
    names = _benchmarks_to_run(spec, benchmark)
    model = zoo.load(full)
    results = {}
    for b in names:
        results[b] = evaluate_model(model, b)
        if write:
            record(full, b, results[b])
    return results


def evaluate_file(name: str, weights, benchmark: str | None = None, **options) -> dict:
    """Measure a weights file of ``name``'s architecture with the standard protocol.

    For your own training, a fine-tune, a port or a training run's checkpoint: the same
    benchmarks and protocol as the published weights (``name``'s standard ones unless
    ``benchmark`` is given), nothing recorded -- the manifest holds published weights only.
    ``options`` are builder options the file needs (``batch_norm=False``, ...). A
    noise-conditioned net (FFDNet) is built at each denoising benchmark's sigma.

    Returns ``{benchmark: {metric: value}}``.

    Example::

        from zoo.evaluation import evaluate_file
        evaluate_file("xunit_dn_s25", "runs/xunit_dn_s25_long/checkpoint/latest.weights.h5")
        evaluate_file("ffdnet", "ffdnet.weights.h5", "set12-s50")
    """
    import zoo
    from zoo.registry import resolve_name
    from zoo.restore import noise_level_options

    spec, _ = resolve_name(name)
    names = _benchmarks_to_run(spec, benchmark)
    results, model, built_with = {}, None, None
    for b in names:
        sigma = get_benchmark(b).sigma
        opts = dict(options) if sigma is None else noise_level_options(spec, sigma, options)
        if sigma is not None and opts.get("sigma", sigma) != sigma:
            raise ZooError(f"{b} adds noise of sigma {sigma} but the model was given sigma={opts['sigma']}: "
                           f"leave sigma out, each benchmark sets the level of a noise-conditioned net")
        if model is None or opts != built_with:
            model, built_with = zoo.load(name, weights=weights, **opts), opts
        results[b] = evaluate_model(model, b)
    return results
