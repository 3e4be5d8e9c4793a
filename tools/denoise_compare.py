#!/usr/bin/env python
"""Side-by-side denoising comparison: noisy / each model / clean, PSNR in the titles.

    python tools/denoise_compare.py --sigma 25 --models dncnn_s25 xunit_dn_s25 cscnet_s25
    python tools/denoise_compare.py --image 08 --sigma 50 --models xunit_dn_blind \\
        --weights lidia=/tmp/lidia_s50.weights.h5 --crop 192

The noisy image is the Set12 protocol's (``zoo.eval_dn``: seeded noise, not clipped), every
output is scored like the protocol (clipped, rounded to uint8, PSNR against the clean uint8).
``--models`` takes published names; ``--weights ARCH=FILE`` adds any weights file (e.g. a port
made with tools/port_weights.py, which is never published; a noise-conditioned net such as
ffdnet is built for --sigma).  Unpublished names are skipped with a note.  Writes the PNG and a JSON with the numbers next to it.
"""

import _common  # noqa: F401  (sys.path + quiet TF)

import json
from pathlib import Path


def _pick(noisy_images, image: str | None):
    if image is None:
        return noisy_images[0]
    for item in noisy_images:
        if Path(item[0]).stem == image or item[0] == image:
            return item
    names = ", ".join(Path(n).stem for n, _, _ in noisy_images)
    from zoo.errors import ZooError

    raise ZooError(f"no image {image!r} in the set; choose one of {names}")


def main():
    import argparse

    import numpy as np

    import zoo
    from zoo.errors import ZooError
    from zoo.eval_dn import DATASET, model_predict, noisy_images, quantize
    from zoo.metrics import psnr
    from zoo.weights_io import write_text_atomic

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sigma", type=float, default=25)
    p.add_argument("--image", help="file name (stem) of the Set12 image (default: the first)")
    p.add_argument("--models", nargs="*", default=["dncnn_s25", "xunit_dn_s25", "cscnet_s25"])
    p.add_argument("--weights", nargs="*", default=[], metavar="ARCH=FILE")
    p.add_argument("--crop", type=int, default=None, help="centre crop (pixels) shown and scored")
    p.add_argument("--dataset", default=DATASET)
    p.add_argument("--out", default=None, help="PNG path (default docs/denoise_compare_sSIGMA.png)")
    args = p.parse_args()

    out = Path(args.out or f"docs/denoise_compare_s{args.sigma:g}.png")
    if not out.parent.is_dir():
        raise ZooError(f"output folder {out.parent} does not exist")
    name, clean8, noisy = _pick(noisy_images(args.sigma, args.dataset), args.image)
    if args.crop:
        h, w = clean8.shape[:2]
        c = min(args.crop, h, w)
        y0, x0 = (h - c) // 2, (w - c) // 2
        clean8, noisy = clean8[y0:y0 + c, x0:x0 + c], noisy[y0:y0 + c, x0:x0 + c]

    models = []
    for m in args.models:
        try:
            models.append((m, zoo.load(m)))
        except ZooError as e:
            print(f"skipped {m}: {e}")
    for item in args.weights:
        arch, sep, path = item.partition("=")
        if not sep:
            raise ZooError(f"--weights takes ARCH=FILE, got {item!r}")
        conditioned = "sigma" in zoo.registry.get_spec(arch).builder_defaults()  # FFDNet: built for the level
        models.append((f"{arch} ({Path(path).name})",
                       zoo.load(arch, weights=path, **({"sigma": args.sigma} if conditioned else {}))))
    if not models:
        raise ZooError("no model to compare: give published --models or --weights ARCH=FILE")

    def score(img):
        return round(float(psnr(quantize(img)[..., 0].astype(np.float64), clean8[..., 0].astype(np.float64),
                                data_range=255.0)), 2)

    panels = [("noisy", noisy, score(noisy))]
    for label, model in models:
        out_img = np.asarray(model_predict(model)(noisy))
        panels.append((label, out_img, score(out_img)))
    panels.append(("clean", clean8.astype(np.float32) / 255.0, None))

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(panels), figsize=(3.2 * len(panels), 3.6), squeeze=False)
    for ax, (label, img, value) in zip(axes[0], panels):
        ax.imshow(np.clip(img[..., 0], 0, 1), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        ax.set_title(label if value is None else f"{label}\n{value:.2f} dB", fontsize=9)
        ax.axis("off")
    fig.suptitle(f"{args.dataset}/{name}, Gaussian noise sigma {args.sigma:g} (seeded, zoo.eval_dn)", fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.9))
    tmp = out.with_name(f".{out.stem}.tmp.png")
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    tmp.replace(out)
    record = {"image": name, "sigma": args.sigma, "crop": args.crop,
              "psnr": {label: value for label, _, value in panels if value is not None}}
    write_text_atomic(out.with_suffix(".json"), json.dumps(record, indent=2) + "\n")
    print(json.dumps(record))
    print(f"wrote {out}")


if __name__ == "__main__":
    _common.run(main)
