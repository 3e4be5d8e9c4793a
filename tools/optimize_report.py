#!/usr/bin/env python
"""Measure pruning (50% and 75%) and QAT vs post-training int8 for a model; write docs/optimize_NAME.md.

    nice python tools/optimize_report.py lenet5 --epochs 2
"""

import _common  # noqa: F401


def main():
    import argparse
    import json
    import tempfile
    from pathlib import Path

    from zoo.optimize import prune, quantization_aware

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("name")
    p.add_argument("--epochs", type=int, default=2, help="fine-tuning epochs for pruning (QAT: 1)")
    p.add_argument("--sparsity", type=float, nargs="+", default=[0.5, 0.75])
    args = p.parse_args()
    work = Path(tempfile.mkdtemp(prefix="zoo-opt-"))
    prunes = [prune(args.name, s, work / f"p{int(s * 100)}", epochs=args.epochs) for s in args.sparsity]
    q = quantization_aware(args.name, work / "qat", epochs=1)
    lines = [f"# Pruning and quantization-aware training: {args.name}", "",
             f"Written by `tools/optimize_report.py {args.name} --epochs {args.epochs}` (tfmot on a tf_keras "
             "rebuild in a child process; accuracy on the full MNIST test set).", "",
             "| variant | sparsity | top-1 | TFLite bytes | TFLite gzip bytes |", "|---|---:|---:|---:|---:|",
             f"| dense fp32 | 0 | {prunes[0]['accuracy_before']:.4f} | {prunes[0]['dense_tflite_size']['bytes']:,} | "
             f"{prunes[0]['dense_tflite_size']['gzip_bytes']:,} |"]
    for r in prunes:
        lines.append(f"| pruned {int(r['target_sparsity'] * 100)}% + {r['fine_tune_epochs']} epochs | {r['sparsity']:.3f} | "
                     f"{r['accuracy_after']:.4f} | {r['tflite_size']['bytes']:,} | {r['tflite_size']['gzip_bytes']:,} |")
    lines += ["", "| int8 | top-1 | TFLite bytes |", "|---|---:|---:|",
              f"| Keras fp32 | {q['keras_fp32_accuracy']:.4f} | - |",
              f"| post-training int8 | {q['ptq_int8_accuracy']:.4f} | {q['ptq_size']:,} |",
              f"| QAT int8 ({q['fine_tune_epochs']} epoch) | {q['qat_int8_accuracy']:.4f} | {q['qat_size']:,} |"]
    out = Path("docs") / f"optimize_{args.name}.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text("\n".join(lines) + "\n")
    (out.with_suffix(".json")).write_text(json.dumps({"prune": prunes, "qat": q}, indent=2))
    print("\n".join(lines))


if __name__ == "__main__":
    _common.run(main)
