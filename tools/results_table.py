#!/usr/bin/env python
"""Write the results tables of the published weights: docs/results.md and the README block.

    python tools/results_table.py            # from the manifest + baselines measured now
    python tools/results_table.py --check    # exit 1 if README/docs are out of date (no ../shared needed)

The weights' numbers come from the manifest (written by tools/evaluate.py); the baselines
(bicubic upsampling, the noisy input) are measured here on the same protocols and cached in
docs/results_baselines.json so --check works without the datasets.
"""

import _common  # noqa: F401  (sys.path + quiet TF)

import json

from _common import ROOT

BASELINES = ROOT / "docs" / "results_baselines.json"


def measure_baselines(manifest: dict) -> dict:
    from zoo.eval_dn import evaluate_denoiser
    from zoo.eval_sr import bicubic_predict, evaluate_sr
    from zoo.results import _scale_of, _sigma_of

    datasets = {m["dataset"] for e in manifest.values() for m in e.get("metrics", [])}
    out = {}
    for d in sorted(datasets):
        if _scale_of(d):
            s = _scale_of(d)
            v = evaluate_sr(bicubic_predict(s), f"sr_{d.split('-')[0]}", s)
            out[d] = {"psnr_y": v["psnr_y"], "ssim_y": v["ssim_y"]}
        elif d.startswith("set12-") and _sigma_of(d):
            v = evaluate_denoiser(lambda noisy: noisy, _sigma_of(d), "denoise_set12")
            out[d] = {"psnr": v["psnr"], "ssim": v["ssim"]}
    return out


def main():
    import argparse

    from zoo.manifest import load_manifest
    from zoo.results import replace_block, results_markdown

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--check", action="store_true", help="only compare; use the cached baselines")
    args = p.parse_args()
    manifest = load_manifest()
    if args.check:
        baselines = json.loads(BASELINES.read_text()) if BASELINES.exists() else {}
    else:
        baselines = measure_baselines(manifest)
    tables = results_markdown(manifest, baselines)
    doc = ("# Results of the published weights\n\nWritten by `tools/results_table.py` from "
           "`weights_manifest.json` (numbers by `tools/evaluate.py`) and baselines it measures on the "
           "same protocols. Rows marked *published* are the papers' figures, not measured here.\n\n"
           f"{tables}\n")
    readme_path = ROOT / "README.md"
    readme = replace_block(readme_path.read_text(), tables)
    docs_path = ROOT / "docs" / "results.md"
    if args.check:
        stale = [str(f.relative_to(ROOT)) for f, text in ((readme_path, readme), (docs_path, doc))
                 if not f.exists() or f.read_text() != text]
        if stale:
            print(f"out of date: {', '.join(stale)}; run python tools/results_table.py")
            return 1
        print("results tables are up to date")
        return 0
    from zoo.weights_io import write_text_atomic

    write_text_atomic(BASELINES, json.dumps(baselines, indent=2, sort_keys=True) + "\n")
    write_text_atomic(docs_path, doc)
    write_text_atomic(readme_path, readme)
    print(f"wrote {docs_path.relative_to(ROOT)}, README.md results block, {BASELINES.relative_to(ROOT)}")


if __name__ == "__main__":
    _common.run(main)
