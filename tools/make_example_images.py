#!/usr/bin/env python
"""Make examples/coffee_300x200.png, the README demo's input (a CC0 photograph).

Source: scikit-image's `data/coffee.png` ("No copyright restrictions. CC0 by the
photographer (Rachel Michetti)", courtesy of Pikolo Espresso Bar), downscaled by 2 with
the MATLAB-compatible bicubic of zoo.data.imresize so it is a plausible low-resolution input.

    python tools/make_example_images.py
"""

import _common  # noqa: F401


def main():
    from pathlib import Path

    import numpy as np
    import skimage.data
    from PIL import Image

    from zoo.data.imresize import imresize

    hr = skimage.data.coffee()
    lr = imresize(hr, 0.5)
    out = Path(__file__).resolve().parents[1] / "examples" / "coffee_300x200.png"
    Image.fromarray(np.asarray(lr, dtype=np.uint8)).save(out)
    print(f"wrote {out} ({lr.shape[1]}x{lr.shape[0]})")


if __name__ == "__main__":
    _common.run(main)
