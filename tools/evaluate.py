#!/usr/bin/env python
"""Measure published weights with the standard protocol; --write-manifest records the values.

    python tools/evaluate.py lenet5.mnist --write-manifest
    python tools/evaluate.py --all --write-manifest       # every manifest entry

This is the only way numbers get into weights_manifest.json.
"""

import _common  # noqa: F401  (sys.path + quiet TF)


def main():
    import argparse

    from zoo.evaluation import evaluate_published
    from zoo.manifest import load_manifest

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("names", nargs="*", help="arch.tag names")
    p.add_argument("--all", action="store_true", help="every entry of the manifest")
    p.add_argument("--dataset", help="one benchmark (default: the model's standard ones)")
    p.add_argument("--write-manifest", action="store_true")
    args = p.parse_args()
    names = sorted(load_manifest()) if args.all else args.names
    if not names:
        p.error("give NAME(s) or --all")
    for name in names:
        for bench, values in evaluate_published(name, args.dataset, write=args.write_manifest).items():
            print(f"{name} on {bench}: " + ", ".join(f"{k}={v}" for k, v in values.items()))


if __name__ == "__main__":
    _common.run(main)
