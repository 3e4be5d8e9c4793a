#!/usr/bin/env python
"""Install a finished training run's weights (or a redistributable port) into weights/ and the manifest.

    python tools/add_weights.py runs/lenet5_mnist lenet5.mnist
    python tools/add_weights.py --ported dncnn_s25.kair.weights.h5 --reference REF.pth dncnn_s25.kair
    python tools/evaluate.py lenet5.mnist --write-manifest     # then measure them

A run must come from committed code (its summary.json records the commit); a port must be of a
tag the registry declares as ported with a licence that allows publishing.
"""

import _common  # noqa: F401


def main():
    import argparse

    from zoo.release import add_ported_weights, add_trained_weights

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("source", nargs="?", help="run folder (trained weights)")
    p.add_argument("name", help="arch.tag the weights are published as")
    p.add_argument("--ported", help="a .weights.h5 made by tools/port_weights.py")
    p.add_argument("--reference", help="the third-party file the port was made from")
    args = p.parse_args()
    if args.ported:
        if not args.reference:
            p.error("--ported needs --reference (its sha256 goes into the manifest)")
        entry = add_ported_weights(args.ported, args.name, args.reference)
    elif args.source:
        entry = add_trained_weights(args.source, args.name)
    else:
        p.error("give a run folder or --ported FILE")
    print(f"added {entry['model']}: {entry['file']} sha256 {entry['sha256']} ({entry['size']:,} bytes)")


if __name__ == "__main__":
    _common.run(main)
