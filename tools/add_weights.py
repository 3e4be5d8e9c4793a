#!/usr/bin/env python
"""Install a finished training run's weights into weights/ and the manifest.

    python tools/add_weights.py runs/lenet5_mnist lenet5.mnist
    python tools/evaluate.py lenet5.mnist --write-manifest     # then measure them

The run must come from committed code (its summary.json records the commit).
"""

import _common  # noqa: F401


def main():
    import argparse

    from zoo.release import add_trained_weights

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("run_dir")
    p.add_argument("name", help="arch.tag the weights are published as")
    args = p.parse_args()
    entry = add_trained_weights(args.run_dir, args.name)
    print(f"added {entry['model']}: {entry['file']} sha256 {entry['sha256']} ({entry['size']:,} bytes)")


if __name__ == "__main__":
    _common.run(main)
