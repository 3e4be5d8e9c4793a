#!/usr/bin/env python
"""Render the example digits in examples/digits/ (generated here, so free to redistribute).

Each digit is drawn with the DejaVu Sans font that matplotlib ships, white on
black, scaled into a 20x20 box and centred by its centre of mass in 28x28 —
the way MNIST was prepared — with a small rotation and stroke width that vary
per image.

    python tools/make_example_digits.py examples/digits
"""

import argparse
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont


def render_digit(digit: int, angle: float, stroke: int, font_path: str) -> Image.Image:
    font = ImageFont.truetype(font_path, 96)
    canvas = Image.new("L", (160, 160), 0)
    ImageDraw.Draw(canvas).text((40, 10), str(digit), fill=255, font=font, stroke_width=stroke, stroke_fill=255)
    canvas = canvas.rotate(angle, resample=Image.Resampling.BICUBIC)
    box = canvas.getbbox()
    glyph = canvas.crop(box)
    scale = 20.0 / max(glyph.size)
    glyph = glyph.resize((max(1, round(glyph.width * scale)), max(1, round(glyph.height * scale))),
                         Image.Resampling.LANCZOS)
    arr = np.asarray(glyph, dtype=np.float64)
    ys, xs = np.indices(arr.shape)
    cy, cx = (ys * arr).sum() / arr.sum(), (xs * arr).sum() / arr.sum()
    out = Image.new("L", (28, 28), 0)
    out.paste(glyph, (int(round(14 - cx)), int(round(14 - cy))))
    return out


def main():
    import matplotlib

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out", nargs="?", default="examples/digits")
    args = p.parse_args()
    font = str(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(2026)
    for digit in range(10):
        img = render_digit(digit, angle=float(rng.uniform(-12, 12)), stroke=int(rng.integers(2, 6)), font_path=font)
        img.save(out / f"digit_{digit}.png")
    print(f"wrote 10 digits to {out}")


if __name__ == "__main__":
    main()
