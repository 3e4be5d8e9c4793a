#!/usr/bin/env python
"""Choose the mobile SR design by measurement: train each variant with the same short
budget of the x4 recipe, measure Set5/Set14 x4 Y-PSNR with the standard protocol, and write
the table to docs/sr_design_x4.md (numbers written by this tool only).

    nice python tools/sr_design_sweep.py --steps 3000 --out runs/sweep

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
    "relu f46 b4 (twin)": ("relu_sr_x4", {"filters": 46, "blocks": 4}),
}


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
        print(json.dumps(rows[-1]))
    (out / "sweep.json").write_text(json.dumps(rows, indent=2))
    lines = [
        "# Choosing the x4 mobile SR design",
        "",
        f"Written by `tools/sr_design_sweep.py --steps {args.steps}`: every variant trained with the "
        "`xunit_sr_x4_sr291` recipe (L1, Adam 1e-3 cosine, 32x32 LR patches, batch 16) for the same short "
        "budget, then measured with the full-image protocol of `zoo/eval_sr.py`.",
        "",
        "| variant | params | steps | Set5 x4 Y-PSNR | Set5 SSIM | Set14 x4 Y-PSNR |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(f"| {r['variant']} | {r['params']:,} | {r['steps']:,} | {r['set5_psnr_y']:.2f} | "
                     f"{r['set5_ssim_y']:.4f} | {r['set14_psnr_y']:.2f} |")
    Path("docs").mkdir(exist_ok=True)
    Path("docs/sr_design_x4.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    _common.run(main)
