#!/usr/bin/env python
"""Measure pruning (50% and 75%) and QAT vs post-training int8 for a model; write docs/optimize_NAME.md/.json.

    nice python tools/optimize_report.py lenet5 --epochs 2
    nice python tools/optimize_report.py xunit_sr_x4 --steps 3000 --qat-steps 2000

The quality metric is the model family's: top-1 on the full MNIST test set (LeNet) or Set5
PSNR-Y with the full SR protocol (the mobile SR nets).
"""

import _common  # noqa: F401


def _metric_label(metric: str) -> str:
    return {"accuracy": "top-1", "set5_psnr_y": "Set5 PSNR-Y (dB)"}.get(metric, metric)


def _fmt(metric: str, v: float) -> str:
    return f"{v:.4f}" if metric == "accuracy" else f"{v:.2f}"


def render(name: str, prunes: list, q: dict, command: str) -> str:
    m = prunes[0]["metric"]
    label = _metric_label(m)
    lines = [f"# Pruning and quantization-aware training: {name}", "",
             f"Written by `{command}` (tfmot on a tf_keras twin in a child process; the twin matches the "
             f"Keras 3 model to {max(r['twin_max_abs_diff'] for r in prunes):.1e}). Weights: "
             f"`{prunes[0]['weights_name']}` (sha256 `{(prunes[0]['weights_sha256'] or '?')[:12]}`).", "",
             f"| variant | sparsity | {label} | TFLite bytes | TFLite gzip bytes |", "|---|---:|---:|---:|---:|",
             f"| dense fp32 | 0 | {_fmt(m, prunes[0]['before'])} | {prunes[0]['dense_tflite_size']['bytes']:,} | "
             f"{prunes[0]['dense_tflite_size']['gzip_bytes']:,} |"]
    for r in prunes:
        lines.append(f"| pruned {int(round(r['target_sparsity'] * 100))}% + {r['fine_tune_steps']:,} steps | "
                     f"{r['sparsity']:.3f} | {_fmt(m, r['after'])} | {r['tflite_size']['bytes']:,} | "
                     f"{r['tflite_size']['gzip_bytes']:,} |")
    lines += ["", f"| int8 | {label} | TFLite bytes | ops left in float |", "|---|---:|---:|---|",
              f"| Keras fp32 | {_fmt(m, q['keras_fp32'])} | - | - |",
              f"| post-training int8 | {_fmt(m, q['ptq_int8'])} | {q['ptq_size']:,} | "
              f"{', '.join(q['ptq_float_ops']) or 'none'} |",
              f"| QAT int8 ({q['fine_tune_steps']:,} steps) | {_fmt(m, q['qat_int8'])} | {q['qat_size']:,} | "
              f"{', '.join(q['qat_float_ops']) or 'none'} |"]
    return "\n".join(lines) + "\n"


def main():
    import argparse
    import json
    import sys
    import tempfile
    from pathlib import Path

    from zoo.optimize import prune, quantization_aware
    from zoo.weights_io import write_text_atomic

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("name")
    p.add_argument("--epochs", type=int, default=2, help="pruning fine-tune epochs (when --steps is not given)")
    p.add_argument("--steps", type=int, default=None, help="pruning fine-tune steps")
    p.add_argument("--qat-steps", type=int, default=None, help="QAT fine-tune steps (default: one epoch)")
    p.add_argument("--sparsity", type=float, nargs="+", default=[0.5, 0.75])
    args = p.parse_args()
    work = Path(tempfile.mkdtemp(prefix="zoo-opt-"))
    prunes = [prune(args.name, s, work / f"p{int(s * 100)}", epochs=args.epochs, steps=args.steps, timeout=4 * 3600)
              for s in args.sparsity]
    q = quantization_aware(args.name, work / "qat", epochs=1, steps=args.qat_steps, timeout=4 * 3600)
    command = "tools/optimize_report.py " + " ".join(sys.argv[1:])
    text = render(args.name, prunes, q, command)
    out = Path("docs") / f"optimize_{args.name}.md"
    write_text_atomic(out, text)
    write_text_atomic(out.with_suffix(".json"), json.dumps({"command": command, "prune": prunes, "qat": q}, indent=2))
    print(text)


if __name__ == "__main__":
    _common.run(main)
