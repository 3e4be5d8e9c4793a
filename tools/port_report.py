#!/usr/bin/env python
"""Port every reference checkpoint the zoo has a mapping for and measure it: the proof that the
Keras architectures are the papers'.  Writes docs/ports.md (numbers written by this tool only).

    nice python tools/port_report.py            # needs ../shared/data/reference_weights
    nice python tools/port_report.py --only LIDIA   # re-measure those rows, keep the others

Ports of files without a licence are made in a temporary folder and deleted afterwards;
nothing here is published.
"""

import _common  # noqa: F401

REF = "reference_weights"
#: (reference path under shared/data/reference_weights, arch, builder options, task, sigma or scale, paper figure)
PORTS = [
    ("kligvasser__xUnit/super_resolution/checkpoints/xsrcnnf_s3_k9k3k5.pkl", "xsrcnnf", {}, "sr-y", 3, "Set5 32.90"),
    ("kligvasser__xUnit/super_resolution/checkpoints/xsrcnnf_s4_k9k3k5.pkl", "xsrcnnf", {}, "sr-y", 4, "Set5 30.72 / Set14 27.76"),
    ("kligvasser__xUnit/super_resolution/checkpoints/xsrcnnc_s3_c42c32.pkl", "xsrcnnc", {}, "sr-y", 3, "-"),
    ("kligvasser__xUnit/super_resolution/checkpoints/xsrcnnc_s4_c42c32.pkl", "xsrcnnc", {}, "sr-y", 4, "-"),
    ("kligvasser__xUnit/denoising/checkpoints/xdncnn_res_f64k3k9_s25.pkl", "xdncnn", {}, "dn", 25, "Set12 30.42 (zoo reference figure)"),
    ("kligvasser__xUnit/denoising/checkpoints/xdncnn_res_f64k3k9_s50.pkl", "xdncnn", {}, "dn", 50, "Set12 27.18 (zoo reference figure)"),
    ("cszn__KAIR/model_zoo/dncnn_25.pth", "dncnn", {"batch_norm": False}, "dn", 25, "Set12 30.44 (DnCNN paper)"),
    # the authors' MatConvNet files (MATLAB v7.3 / HDF5, batch norm merged), read by zoo.port.matconvnet
    ("cszn__DnCNN/model/specifics/sigma=15.mat", "dncnn", {"batch_norm": False}, "dn", 15, "Set12 32.86 (DnCNN paper)"),
    ("cszn__DnCNN/model/specifics/sigma=25.mat", "dncnn", {"batch_norm": False}, "dn", 25, "Set12 30.44 (DnCNN paper)"),
    ("cszn__DnCNN/model/specifics/sigma=50.mat", "dncnn", {"batch_norm": False}, "dn", 50, "Set12 27.18 (DnCNN paper)"),
    ("cszn__DnCNN/model/GD_Gray_Blind.mat", "dncnn_b", {"batch_norm": False}, "dn", (15, 25, 50),
     "Set12 32.68 / 30.36 / 27.21 (DnCNN paper, DnCNN-B)"),
    # FFDNet: one network, the noise level is a build option (ffdnet(sigma=...)), measured per level
    ("cszn__FFDNet/models/FFDNet_gray.mat", "ffdnet", {}, "dn", (15, 25, 50), "BSD68 31.63 / 29.19 / 26.29 (paper)"),
    ("drorsimon__CSCNet/trained_models/sigma_15.model", "cscnet", {}, "dn", 15, "-"),
    ("drorsimon__CSCNet/trained_models/sigma_25.model", "cscnet", {}, "dn", 25, "-"),
    ("drorsimon__CSCNet/trained_models/sigma_50.model", "cscnet", {}, "dn", 50, "-"),
    # LIDIA: the paper reports grey BSD68 only (no Set12); not in ../shared, so not measured here
    ("grishavak__LIDIA-denoiser/models/model_state_sigma_15_bw.pt", "lidia", {}, "dn", 15, "BSD68 only (paper)"),
    ("grishavak__LIDIA-denoiser/models/model_state_sigma_25_bw.pt", "lidia", {}, "dn", 25, "BSD68 only (paper)"),
    ("grishavak__LIDIA-denoiser/models/model_state_sigma_50_bw.pt", "lidia", {}, "dn", 50, "BSD68 only (paper)"),
    ("grishavak__LIDIA-denoiser/models/model_state_small_sigma_15_bw.pt", "lidia_s", {}, "dn", 15, "BSD68 only (paper)"),
    ("grishavak__LIDIA-denoiser/models/model_state_small_sigma_25_bw.pt", "lidia_s", {}, "dn", 25, "BSD68 only (paper)"),
    ("grishavak__LIDIA-denoiser/models/model_state_small_sigma_50_bw.pt", "lidia_s", {}, "dn", 50, "BSD68 only (paper)"),
]


def main():
    import argparse
    from pathlib import Path

    import numpy as np

    import zoo
    from zoo.data.paths import shared_data_dir
    from zoo.errors import ZooError
    from zoo.port import read_reference
    from zoo.weights_io import write_text_atomic
    from zoo.port.mappings import PORTS as MAPPINGS

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default="docs/ports.md")
    p.add_argument("--only", metavar="TEXT",
                   help="measure only the reference files whose path contains TEXT (e.g. LIDIA); the other "
                        "rows are kept as they are in --out")
    args = p.parse_args()
    root = shared_data_dir() / REF
    if not root.is_dir():
        raise ZooError(f"{root} not found: the reference weights live in ../shared/data")
    kept = _existing_rows(Path(args.out)) if args.only else {}
    rows = []  # ports stay in memory: nothing is written but the table
    for rel, arch, options, task, level, paper in PORTS:
        if args.only and args.only not in rel:
            if rel not in kept:
                raise ZooError(f"{args.out} has no row for {rel}: run the full report (without --only)")
            rows.append(kept[rel])
            continue
        path = root / rel
        if not path.is_file():
            matches = sorted(root.glob(str(Path(rel).parent / "*")))
            raise ZooError(f"{path} not found; files there: {[m.name for m in matches]}")
        state_dict = read_reference(path)
        model = zoo.load(arch, weights=None, **options)
        MAPPINGS[arch](state_dict, model)
        if task == "sr-y":
            from zoo.eval_sr import evaluate_sr_y, y_net_fn

            fn = y_net_fn(model)
            s5 = evaluate_sr_y(fn, "sr_set5", level)["psnr_y"]
            s14 = evaluate_sr_y(fn, "sr_set14", level)["psnr_y"]
            measured = f"x{level}: Set5 {s5:.2f} / Set14 {s14:.2f}"
        else:
            from zoo.eval_dn import evaluate_denoiser, model_predict

            sigmas = level if isinstance(level, tuple) else (level,)  # a blind model: several levels
            psnrs = []
            for s in sigmas:
                if "sigma" in zoo.registry.get_spec(arch).builder_defaults():  # a noise-level-conditioned net
                    model = zoo.load(arch, weights=None, **options, sigma=s)
                    MAPPINGS[arch](state_dict, model)
                psnrs.append(evaluate_denoiser(model_predict(model), s)["psnr"])
            measured = f"sigma {'/'.join(map(str, sigmas))}: Set12 {' / '.join(f'{v:.2f}' for v in psnrs)}"
        trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
        rows.append((rel, arch, trainable, measured, paper))
        print(rows[-1], flush=True)
    lines = ["# Ports of the authors' weights", "",
             "Written by `tools/port_report.py`: each checkpoint read with `zoo.port.read_reference` (the safe "
             "legacy-torch reader, or the MatConvNet v7.3 MAT-file reader), "
             "mapped by `zoo.port.mappings`, measured with the zoo's protocols (SRCNN-family: the authors' "
             "Y protocol, `zoo.eval_sr.PROTOCOL_Y`; denoisers: `zoo.eval_dn.PROTOCOL`, noise seed 0).", "",
             "| reference file | zoo arch | trainable params | measured | paper / reference |", "|---|---|---:|---|---|"]
    lines += [r if isinstance(r, str) else f"| `{r[0]}` | {r[1]} | {r[2]:,} | {r[3]} | {r[4]} |" for r in rows]
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(Path(args.out), "\n".join(lines) + "\n")
    print("\n".join(lines))


def _existing_rows(path):
    """``{reference file: table line}`` of an earlier report (for ``--only``)."""
    import re

    if not path.is_file():
        return {}
    rows = {}
    for line in path.read_text().splitlines():
        m = re.match(r"\| `([^`]+)` \|", line)
        if m:
            rows[m.group(1)] = line
    return rows


if __name__ == "__main__":
    _common.run(main)
