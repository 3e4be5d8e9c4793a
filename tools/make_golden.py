#!/usr/bin/env python
"""Record golden outputs of published weights on the deterministic example input.

    python tools/make_golden.py lenet5.mnist      # or --all

tests/models/test_all_models.py checks that loading the published weights still
gives these outputs, so a change to an architecture, a layer or the loading code
that alters results cannot pass unnoticed.
"""

import _common  # noqa: F401


def main():
    import argparse
    import json

    import numpy as np

    import zoo
    from zoo.manifest import REPO_DIR, load_manifest
    from zoo.registry import get_spec
    from zoo.testing import example_input

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("names", nargs="*")
    p.add_argument("--all", action="store_true")
    args = p.parse_args()
    manifest = load_manifest()
    for name in sorted(manifest) if args.all else args.names:
        x = example_input(get_spec(name))
        y = np.asarray(zoo.load(name).predict(x, verbose=0), dtype=np.float64)
        record = {
            "name": name,
            "weights_sha256": manifest[name]["sha256"],
            "output_shape": list(y.shape),
            "output_sample": y.reshape(-1)[:: max(1, y.size // 64)][:64].round(6).tolist(),
            "output_mean": round(float(y.mean()), 7),
            "output_std": round(float(y.std()), 7),
        }
        out = REPO_DIR / "tests" / "golden" / f"{name}.json"
        out.write_text(json.dumps(record, indent=1) + "\n")
        print(f"wrote {out}")


if __name__ == "__main__":
    _common.run(main)
