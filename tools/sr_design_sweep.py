#!/usr/bin/env python
"""Choose the mobile SR design by measurement: train each variant with the same short
budget of the x4 recipe, measure Set5/Set14 x4 Y-PSNR with the standard protocol, and write
the table to docs/sr_design_x4.md (numbers written by this tool only).

A mobile net is also judged on the phone runtime: each variant is exported to TFLite (float32
and int8, builtin ops, XNNPACK as LiteRT applies it by default), its int8 Set5 PSNR is measured
with the same protocol and both files are timed at 320x180 -> x4 on 2 threads, each in a fresh
process.  Time on a quiet machine (pause other jobs) -- latency is the only number here that
depends on the load.

    nice python tools/sr_design_sweep.py --steps 2000 --out runs/sweep_x4

Runs resume like any training run; finished variants are not retrained.
"""

import _common  # noqa: F401

VARIANTS = {
    # name: (arch, builder kwargs); budget: at most 100,000 parameters in all (BN statistics included)
    "xunit f44 b4 k7": ("xunit_sr_x4", {"filters": 44, "blocks": 4, "kernel_size": 7}),
    "xunit f44 b4 k7 BN": ("xunit_sr_x4", {"filters": 44, "blocks": 4, "kernel_size": 7, "batch_norm": True}),
    "xunit f43 b4 k7 BN": ("xunit_sr_x4", {"filters": 43, "blocks": 4, "kernel_size": 7, "batch_norm": True}),
    "xunit f40 b4 k9 BN": ("xunit_sr_x4", {"filters": 40, "blocks": 4, "kernel_size": 9, "batch_norm": True}),
    "xunit f36 b5 k7 BN": ("xunit_sr_x4", {"filters": 36, "blocks": 5, "kernel_size": 7, "batch_norm": True}),
    "xunit f32 b6 k5 BN": ("xunit_sr_x4", {"filters": 32, "blocks": 6, "kernel_size": 5, "batch_norm": True}),
    "xunit f45 b4 k5 BN": ("xunit_sr_x4", {"filters": 45, "blocks": 4, "kernel_size": 5, "batch_norm": True}),
    "xunit f45 b4 k3 BN": ("xunit_sr_x4", {"filters": 45, "blocks": 4, "kernel_size": 3, "batch_norm": True}),
    "xunit f40 b5 k3 BN": ("xunit_sr_x4", {"filters": 40, "blocks": 5, "kernel_size": 3, "batch_norm": True}),
    "relu f46 b4 (twin)": ("relu_sr_x4", {"filters": 46, "blocks": 4}),
}


def tflite_columns(model, work_dir, threads=2, size=(180, 320)) -> dict:
    """Set5 x4 PSNR of the int8 file and fp32/int8 latency at ``size`` (fresh processes)."""
    import numpy as np

    from benchmark import time_row
    from zoo.eval_sr import evaluate_sr
    from zoo.export import tflite
    from zoo.runtime import LiteRTModel

    out = {}
    for mode, q in (("fp32", None), ("int8", "int8")):
        path = work_dir / f"{mode}.tflite"
        tflite(model, path, quantize=q, force=True)
        lat = time_row("", "tflite", str(path), *size, threads, warmup=3, repeats=15)
        out[f"tflite_{mode}_ms"] = round(lat["median_ms"], 1)
        if q:
            lm = LiteRTModel(path, num_threads=threads)
            out["set5_int8_psnr_y"] = evaluate_sr(lambda x: np.asarray(lm(x[None]))[0], "sr_set5", 4)["psnr_y"]
    return out


def main():
    import argparse
    import dataclasses
    import json
    from pathlib import Path

    import zoo
    from zoo.eval_sr import evaluate_sr, model_predict
    from zoo.recipes import get_recipe
    from zoo.train.runner import train

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--out", default="runs/sweep_x4")
    p.add_argument("--only", nargs="*", help="variant names to run")
    p.add_argument("--no-tflite", action="store_true", help="skip the TFLite columns (e.g. on a busy machine)")
    args = p.parse_args()
    base = get_recipe("xunit_sr_x4_sr291")
    out = Path(args.out)
    rows = []
    for label, (arch, kwargs) in VARIANTS.items():
        if args.only and label not in args.only:
            continue
        run_dir = out / label.replace(" ", "_").replace("(", "").replace(")", "")
        recipe = dataclasses.replace(base, name=f"sweep-{label}", model=arch, builder_kwargs=kwargs,
                                     epochs=max(1, args.steps // 500), steps_per_epoch=500)
        summary = train(recipe, run_dir)
        model = zoo.load(arch, weights=run_dir / "final.weights.h5", **kwargs)
        predict = model_predict(model)
        set5 = evaluate_sr(predict, "sr_set5", 4)
        set14 = evaluate_sr(predict, "sr_set14", 4)
        rows.append({"variant": label, "arch": arch, "kwargs": kwargs, "params": model.count_params(),
                     "steps": recipe.epochs * recipe.steps_per_epoch,
                     "set5_psnr_y": set5["psnr_y"], "set14_psnr_y": set14["psnr_y"],
                     "set5_ssim_y": set5["ssim_y"], "commit": summary["commit"]})
        if not args.no_tflite:
            rows[-1].update(tflite_columns(model, run_dir))
        print(json.dumps(rows[-1]))
    if args.only:  # a partial sweep trains and prints; the document always lists every variant
        return
    (out / "sweep.json").write_text(json.dumps(rows, indent=2))
    lines = [
        "# Choosing the x4 mobile SR design",
        "",
        f"Written by `tools/sr_design_sweep.py --steps {args.steps}`: every variant trained with the "
        "`xunit_sr_x4_sr291` recipe (L1, Adam 1e-3 cosine, 32x32 LR patches, batch 16) for the same short "
        "budget, then measured with the full-image protocol of `zoo/eval_sr.py`. TFLite columns: "
        "builtin-ops export (`zoo.export.tflite`), int8 Set5 PSNR with the same protocol, median latency "
        "of 320x180 -> 1280x720 on 2 threads with the LiteRT interpreter's default XNNPACK delegate.",
        "",
        "| variant | params | steps | Set5 x4 Y-PSNR | Set5 SSIM | Set14 x4 Y-PSNR | Set5 int8 | "
        "TFLite fp32 ms | TFLite int8 ms |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]

    def cell(r, key, fmt):
        return format(r[key], fmt) if key in r else "—"

    for r in rows:
        lines.append(f"| {r['variant']} | {r['params']:,} | {r['steps']:,} | {r['set5_psnr_y']:.2f} | "
                     f"{r['set5_ssim_y']:.4f} | {r['set14_psnr_y']:.2f} | {cell(r, 'set5_int8_psnr_y', '.2f')} | "
                     f"{cell(r, 'tflite_fp32_ms', '.1f')} | {cell(r, 'tflite_int8_ms', '.1f')} |")
    Path("docs").mkdir(exist_ok=True)
    Path("docs/sr_design_x4.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    _common.run(main)
