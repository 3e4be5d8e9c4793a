#!/usr/bin/env python
"""Speed, size and quality of a model across runtimes: Keras fp32 (TF) and TFLite fp32 / fp16 /
dynamic-range / int8 / int8 with uint8 pixel I/O (fed and read as bytes, like a camera app does),
on 1 and 2 threads, against a measured matmul roof of this machine.

    nice python tools/benchmark.py xunit_sr_x4 --size 180 320 --out docs/benchmark_xunit_sr_x4

Writes OUT.md (table) and OUT.png (bar chart), and OUT.json.  Latency is the median of
--repeats timed runs after --warmup runs, with the interquartile range as spread; effective
GFLOPS = 2 x MACs / median latency; "roof" is the float32 matmul throughput measured here
with the same thread count.  Quality: Set5 Y-PSNR (SR protocol) for super-resolution nets,
Set12 PSNR for denoisers, MNIST-test top-1 for classifiers, each next to Keras fp32.
Every row runs in a fresh process so thread settings cannot leak between rows.
"""

import _common  # noqa: F401

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODES = ("keras-fp32", "tflite-fp32", "tflite-fp16", "tflite-dynamic", "tflite-int8", "tflite-int8-u8io")
#: export arguments of each TFLite row; "u8io" = int8 with 8-bit pixel input and output (no float conversion)
EXPORTS = {"tflite-fp32": {}, "tflite-fp16": {"quantize": "float16"}, "tflite-dynamic": {"quantize": "dynamic"},
           "tflite-int8": {"quantize": "int8"}, "tflite-int8-u8io": {"quantize": "int8", "io_dtype": "uint8"}}


def count_macs(model, h: int, w: int) -> int:
    """Multiply-accumulates of one forward pass at input h x w (conv, depthwise, xUnit, dense)."""
    import keras

    from zoo.layers import XUnit

    total = 0
    for layer in model.layers:
        if isinstance(layer, keras.layers.DepthwiseConv2D):
            kh, kw = layer.kernel_size
            total += _pixels(model, layer, h, w) * kh * kw * layer.output.shape[-1]
        elif isinstance(layer, keras.layers.Conv2D):
            kh, kw = layer.kernel_size
            cin, cout = layer.input.shape[-1], layer.output.shape[-1]
            total += _pixels(model, layer, h, w) * kh * kw * cin * cout // layer.groups
        elif isinstance(layer, XUnit):
            total += _pixels(model, layer, h, w) * layer.kernel_size ** 2 * layer.output.shape[-1]
        elif isinstance(layer, keras.layers.Dense):
            total += layer.input.shape[-1] * layer.output.shape[-1]
    return int(total)


def _pixels(model, layer, h, w) -> int:
    """Output pixels of ``layer`` for an h x w input (fully convolutional or fixed-size)."""
    out = layer.output.shape
    if model.input_shape[1] is not None:
        return int(out[1] * out[2])
    probe = 64
    import keras

    sub = keras.Model(model.inputs, layer.output)
    oh, ow = sub.compute_output_shape((1, probe, probe, model.input_shape[-1]))[1:3]
    return int(round(oh / probe * h) * round(ow / probe * w))


def matmul_roof(threads: int) -> float:
    """float32 GFLOPS of a 2048x2048 matmul in TensorFlow with ``threads`` intra-op threads."""
    code = f"""
import time, tensorflow as tf
tf.config.threading.set_intra_op_parallelism_threads({threads})
tf.config.threading.set_inter_op_parallelism_threads(1)
a = tf.random.normal((2048, 2048)); b = tf.random.normal((2048, 2048))
f = tf.function(lambda: tf.linalg.matmul(a, b))
f(); best = 1e9
for _ in range(8):
    t = time.perf_counter(); f().numpy(); best = min(best, time.perf_counter() - t)
print(2 * 2048 ** 3 / best / 1e9)
"""
    return float(_run(code).strip().splitlines()[-1])


#: instruction-set extensions that decide how fast int8 (and float) kernels can be on this CPU
ISA_FLAGS = ("avx2", "fma", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8", "asimddp", "i8mm", "sve")


def cpu_description() -> str:
    """CPU model and its SIMD extensions relevant to int8 kernels, from /proc/cpuinfo (Linux).

    Int8 speed-ups differ a lot between CPUs: x86 without VNNI multiplies int8 through 16-bit
    lanes, ARM with dot-product (asimddp) or i8mm does 4-8x the float rate.  A benchmark table
    is only comparable with one from the same kind of CPU.
    """
    import platform

    info = {}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            info.setdefault(key.strip(), value.strip())
    except OSError:
        return platform.processor() or platform.machine()
    name = info.get("model name") or info.get("Hardware") or platform.machine()
    if "cpu family" in info:
        name += f" (family {info['cpu family']}, model {info.get('model', '?')})"
    flags = set((info.get("flags") or info.get("Features") or "").split())
    isa = [f for f in ISA_FLAGS if f in flags]
    return f"{name}, {', '.join(isa) if isa else 'no AVX2/VNNI/dot-product'}"


def tf_onednn_enabled() -> bool:
    """Whether TensorFlow runs its oneDNN CPU kernels in the Keras rows and the matmul roof (its own
    default: on for AVX-512 / AMX CPUs, off otherwise; ``TF_ENABLE_ONEDNN_OPTS`` overrides)."""
    return _run("from tensorflow.python.util import _pywrap_util_port as p; print(p.IsMklEnabled())").strip() == "True"


def _run(code: str) -> str:
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                       env={**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"})
    if r.returncode != 0:
        raise RuntimeError(r.stderr[-2000:])
    return r.stdout


def time_row(name: str, mode: str, tflite_path: str | None, h: int, w: int, threads: int, warmup: int,
             repeats: int) -> dict:
    """Median / IQR latency (ms) of one forward pass, measured in a fresh process."""
    if mode == "keras-fp32":
        setup = f"""
import tensorflow as tf
tf.config.threading.set_intra_op_parallelism_threads({threads})
tf.config.threading.set_inter_op_parallelism_threads(1)
import zoo
m = zoo.load({name!r})
c = m.input_shape[-1]
f = tf.function(lambda x: m(x, training=False))
x = tf.random.uniform((1, {h}, {w}, c))
run = lambda: f(x).numpy()
"""
    else:
        setup = f"""
import numpy as np
from zoo.runtime import LiteRTModel
m = LiteRTModel({tflite_path!r}, num_threads={threads})
c = m.channels
x = np.random.default_rng(0).random((1, {h}, {w}, c), dtype=np.float32)
if m.uint8_io:  # feed and read bytes, as an app does with this export
    x = np.round(x * 255).astype(np.uint8)
run = lambda: m(x)
"""
    code = setup + f"""
import time, json, numpy as np
for _ in range({warmup}): run()
t = []
for _ in range({repeats}):
    s = time.perf_counter(); run(); t.append((time.perf_counter() - s) * 1000)
q = np.percentile(t, [25, 50, 75])
print(json.dumps({{"median_ms": float(q[1]), "iqr_ms": float(q[2] - q[0])}}))
"""
    return json.loads(_run(code).strip().splitlines()[-1])


def quality(name: str, mode: str, tflite_path: str | None) -> dict:
    """The task's dev metric for this runtime (fresh process)."""
    code = f"""
import json, numpy as np, zoo
from zoo.registry import get_spec
spec = get_spec({name!r})
mode, path = {mode!r}, {tflite_path!r}
if mode == "keras-fp32":
    m = zoo.load({name!r})
    predict = lambda x: np.asarray(m(x[None], training=False))[0]
    batch = lambda x: np.asarray(m.predict(x, verbose=0, batch_size=500))
else:
    from zoo.runtime import LiteRTModel
    lm = LiteRTModel(path, num_threads=2)
    predict = lambda x: lm(x[None])[0]
    batch = lambda x: np.concatenate([lm(x[i:i + 1]) for i in range(len(x))])
if spec.task == "super_resolution":
    from zoo.eval_sr import evaluate_sr
    def rgb(x):
        return predict(np.repeat(x, 3, -1)).mean(-1, keepdims=True) if x.shape[-1] == 1 else predict(x)
    v = evaluate_sr(rgb, "sr_set5", spec.input_spec.scale)
    print(json.dumps({{"metric": "Set5 Y-PSNR (dB)", "value": v["psnr_y"]}}))
elif spec.task == "classification":
    from zoo.data.mnist import load_split
    x, y = load_split("test")
    x, y = x[:2000], y[:2000]
    print(json.dumps({{"metric": "MNIST-test top-1 (first 2000)", "value": float(np.mean(batch(x).argmax(-1) == y))}}))
else:
    from zoo.eval_dn import evaluate_denoiser
    sigma = zoo.registry.resolve_name({name!r})[1].sigma or 25
    v = evaluate_denoiser(predict, sigma)
    print(json.dumps({{"metric": f"Set12 PSNR s{{sigma}} (dB)", "value": v["psnr"]}}))
"""
    return json.loads(_run(code).strip().splitlines()[-1])


def main():
    import argparse
    import tempfile

    import zoo
    import zoo.export
    import zoo.manifest
    from zoo.weights_io import write_text_atomic

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("name")
    p.add_argument("--size", type=int, nargs=2, metavar=("H", "W"), default=None,
                   help="input size (default: 180 320 for restoration nets, the model's for classifiers)")
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--repeats", type=int, default=15)
    p.add_argument("--modes", nargs="+", default=list(MODES), choices=MODES)
    p.add_argument("--out", default=None, help="output prefix (default docs/benchmark_NAME)")
    args = p.parse_args()

    model = zoo.load(args.name)
    spec, tag = zoo.registry.resolve_name(args.name)
    weights = f"{spec.arch}.{tag.tag}" if tag else None  # resolve_name gives the default tag
    entry = zoo.manifest.get_entry(weights) if weights else None
    load_before = os.getloadavg()[0]
    h, w = args.size or ((180, 320) if model.input_shape[1] is None else model.input_shape[1:3])
    macs = count_macs(model, h, w)
    params = model.count_params()
    roofs = {t: matmul_roof(t) for t in args.threads}
    cpu = cpu_description()
    onednn = tf_onednn_enabled()
    tmp = Path(tempfile.mkdtemp(prefix="zoo-bench-"))
    files = {}
    for mode in args.modes:
        if mode == "keras-fp32":
            path = tmp / "keras.weights.h5"
            model.save_weights(str(path))
            files[mode] = (None, path.stat().st_size)
            continue
        path = tmp / f"{mode}.tflite"
        zoo.export.tflite(args.name, path, **EXPORTS[mode])
        files[mode] = (str(path), path.stat().st_size)
    rows = []
    for mode in args.modes:
        tpath, size = files[mode]
        qual = quality(args.name, mode, tpath)
        for t in args.threads:
            lat = time_row(args.name, mode, tpath, h, w, t, args.warmup, args.repeats)
            gflops = 2 * macs / (lat["median_ms"] / 1000) / 1e9
            gz = len(gzip.compress(Path(tpath).read_bytes() if tpath else
                                                 (tmp / "keras.weights.h5").read_bytes()))
            rows.append({"runtime": mode, "threads": t, "params": params, "macs": macs, "file_bytes": size,
                         "gzip_bytes": gz, "median_ms": round(lat["median_ms"], 2), "iqr_ms": round(lat["iqr_ms"], 2),
                         "fps": round(1000 / lat["median_ms"], 2), "gflops": round(gflops, 2),
                         "roof_gflops": round(roofs[t], 1), "roof_fraction": round(gflops / roofs[t], 3),
                         "quality_metric": qual["metric"], "quality": qual["value"], "cpu": cpu,
                         "tf_onednn": onednn})
            print(json.dumps(rows[-1]), flush=True)
    load_after = os.getloadavg()[0]
    keras_q = next(r["quality"] for r in rows if r["runtime"] == "keras-fp32") if "keras-fp32" in args.modes else None
    keras_ms = {r["threads"]: r["median_ms"] for r in rows if r["runtime"] == "keras-fp32"}
    out = output_prefix(args.out or ROOT / "docs" / f"benchmark_{args.name}")
    out.parent.mkdir(parents=True, exist_ok=True)
    out_h = h * (spec.input_spec.scale or 1)
    out_w = w * (spec.input_spec.scale or 1)
    lines = [
        f"# Benchmark: {args.name}, input {w}x{h}" + (f" -> output {out_w}x{out_h}" if out_h != h else ""),
        "",
        f"Written by `tools/benchmark.py {args.name}` on this machine ({os.cpu_count()} cores; CPU: {cpu}). "
        f"{params:,} parameters, {_macs_text(macs)} per forward pass. Matmul roof (float32, TF): "
        + ", ".join(f"{t} thread(s) {roofs[t]:.1f} GFLOPS" for t in args.threads) + ". "
        + f"TensorFlow's oneDNN kernels (Keras rows and roof): {'on' if onednn else 'off'}. "
        + (f"Weights `{weights}` (sha256 `{entry['sha256'][:12]}`). " if entry else "")
        + f"1-minute load average before / after the run: {load_before:.2f} / {load_after:.2f}. "
        "GFLOPS counts 2 x MACs whatever the arithmetic: dynamic-range and int8 rows run int8 kernels, "
        "which can exceed the float32 roof; how far depends on the CPU's int8 instructions (VNNI, dot-product), "
        "so compare tables only between the same kind of CPU.",
        "",
        f"| runtime | threads | file (KB) | gzip (KB) | median ms | IQR ms | fps | GFLOPS | of roof | "
        f"{rows[0]['quality_metric']} | vs Keras | speed-up vs Keras |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        dq = "" if keras_q is None else f"{r['quality'] - keras_q:+.3f}"
        su = "" if r["threads"] not in keras_ms else f"{keras_ms[r['threads']] / r['median_ms']:.2f}x"
        lines.append(f"| {r['runtime']} | {r['threads']} | {r['file_bytes'] / 1024:.0f} | {r['gzip_bytes'] / 1024:.0f} | "
                     f"{r['median_ms']:.1f} | {r['iqr_ms']:.1f} | {r['fps']:.2f} | {r['gflops']:.1f} | "
                     f"{100 * r['roof_fraction']:.0f}% | {r['quality']:.4g} | {dq} | {su} |")
    lines += _int8_summary(rows, keras_q)
    write_text_atomic(out.parent / f"{out.name}.md", "\n".join(lines) + "\n")
    write_text_atomic(out.parent / f"{out.name}.json", json.dumps(rows, indent=2))
    _chart(rows, out.parent / f"{out.name}.png", f"{args.name} {w}x{h}")
    print("\n".join(lines))


def output_prefix(path) -> Path:
    """OUT prefix of OUT.md/.json/.png; dots in it stay (``benchmark_xunit_sr_x4.sr291``), a given
    .md/.json/.png ending is dropped."""
    path = Path(path)
    return path.with_suffix("") if path.suffix in (".md", ".json", ".png") else path


def _macs_text(macs: int) -> str:
    return f"{macs / 1e9:.2f} GMACs" if macs >= 1e8 else f"{macs / 1e6:.2f} MMACs"


def _int8_summary(rows, keras_q) -> list:
    """The phone question in one line per thread count: int8 vs Keras fp32 speed, quality, fps."""
    out = []
    for t in sorted({r["threads"] for r in rows}):
        k = next((r for r in rows if r["runtime"] == "keras-fp32" and r["threads"] == t), None)
        for mode, label in (("tflite-int8", "int8"), ("tflite-int8-u8io", "int8 with uint8 pixel I/O")):
            q = next((r for r in rows if r["runtime"] == mode and r["threads"] == t), None)
            if k and q:
                out.append(f"- {label} on {t} thread(s): {k['median_ms'] / q['median_ms']:.2f}x the speed of Keras "
                           f"fp32, {q['quality'] - keras_q:+.3f} {q['quality_metric']} vs Keras, {q['fps']:.1f} frames/s.")
    return [""] + out if out else []


def _chart(rows, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    modes = list(dict.fromkeys(r["runtime"] for r in rows))
    threads = sorted({r["threads"] for r in rows})
    fig, ax = plt.subplots(figsize=(8, 4))
    width = 0.8 / len(threads)
    for i, t in enumerate(threads):
        vals = [next((r["fps"] for r in rows if r["runtime"] == m and r["threads"] == t), 0) for m in modes]
        ax.bar([j + i * width for j in range(len(modes))], vals, width, label=f"{t} thread(s)")
    ax.set_xticks([j + width * (len(threads) - 1) / 2 for j in range(len(modes))], modes, rotation=15)
    ax.set_ylabel("frames per second")
    ax.set_title(title)
    ax.legend()
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


if __name__ == "__main__":
    _common.run(main)
