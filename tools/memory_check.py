#!/usr/bin/env python
"""Peak memory of upscaling a large photo: runs `zoo upscale` on a generated 4000x3000 RGB
image in a child process and reports its peak resident set size and time.

    nice python tools/memory_check.py --size 3000 4000 --model xunit_sr_x4 --out docs/memory_xunit_sr_x4.md
"""

import _common  # noqa: F401


def main():
    import argparse
    import json
    import os
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    import numpy as np
    from PIL import Image

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--size", type=int, nargs=2, metavar=("H", "W"), default=(3000, 4000))
    p.add_argument("--model", default="xunit_sr_x4")
    p.add_argument("--tile", type=int, default=256)
    p.add_argument("--out", default=None)
    args = p.parse_args()
    h, w = args.size
    tmp = Path(tempfile.mkdtemp(prefix="zoo-mem-"))
    yy, xx = np.mgrid[0:h, 0:w]
    img = np.stack([(127 + 100 * np.sin(xx / 37.0 + c) * np.cos(yy / 53.0)) for c in range(3)], -1)
    Image.fromarray(img.astype(np.uint8)).save(tmp / "big.png")
    code = f"""
import json, resource, time
from zoo.restore import upscale_file
t = time.perf_counter()
r = upscale_file({str(tmp / 'big.png')!r}, {str(tmp / 'big_up.png')!r}, {args.model!r}, tile={args.tile}, progress=False)
print(json.dumps({{"seconds": time.perf_counter() - t, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "output_size": r["output_size"]}}))
"""
    root = Path(__file__).resolve().parents[1]
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root,
                         env={**os.environ, "PYTHONPATH": str(root)})
    if res.returncode != 0:
        raise SystemExit(res.stderr[-2000:])
    out = json.loads(res.stdout.strip().splitlines()[-1])
    line = (f"`zoo upscale` {args.model}, {w}x{h} RGB -> {out['output_size'][0]}x{out['output_size'][1]}, tile "
            f"{args.tile}: peak RSS {out['peak_rss_mb']:.0f} MB, {out['seconds']:.1f} s (tools/memory_check.py)")
    print(line)
    if args.out:
        Path(args.out).write_text(line + "\n")


if __name__ == "__main__":
    _common.run(main)
