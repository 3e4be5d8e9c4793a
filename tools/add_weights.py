#!/usr/bin/env python
"""Install a finished training run's weights (or a redistributable port) into weights/ and the manifest.

    python tools/add_weights.py runs/lenet5_mnist lenet5.mnist
    python tools/add_weights.py --ported dncnn_s25.kair.weights.h5 --reference REF.pth dncnn_s25.kair
    python tools/evaluate.py lenet5.mnist --write-manifest     # then measure them
    python tools/add_weights.py --recount [NAME ...]           # rewrite entries' parameter counts

A run must come from committed code (its summary.json records the commit); a port must be of a
tag the registry declares as ported with a licence that allows publishing.
"""

import _common  # noqa: F401


def main():
    import argparse

    from zoo.release import add_ported_weights, add_trained_weights, recount_parameters

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("names", nargs="*", metavar="[RUN] NAME",
                   help="run folder (trained weights) and the arch.tag they are published as; "
                        "with --ported only the arch.tag; with --recount the entries to recount")
    p.add_argument("--ported", help="a .weights.h5 made by tools/port_weights.py")
    p.add_argument("--reference", help="the third-party file the port was made from")
    p.add_argument("--recount", action="store_true",
                   help="rewrite the parameter counts of the named manifest entries (all when none named) "
                        "from their architectures; nothing else changes")
    args = p.parse_args()
    if args.recount:
        if args.ported or args.reference:
            p.error("--recount changes existing entries only; it takes no --ported / --reference")
        for name, counts in recount_parameters(args.names or None).items():
            print(f"{name}: {counts['num_params']:,} parameters, {counts['num_trainable_params']:,} trainable")
        return
    if args.ported:
        if not args.reference:
            p.error("--ported needs --reference (its sha256 goes into the manifest)")
        if len(args.names) != 1:
            p.error("--ported FILE takes one name: the arch.tag it is published as")
        entry = add_ported_weights(args.ported, args.names[0], args.reference)
    elif len(args.names) == 2:
        entry = add_trained_weights(*args.names)
    else:
        p.error("give a run folder and the arch.tag it is published as, or --ported FILE")
    print(f"added {entry['model']}: {entry['file']} sha256 {entry['sha256']} ({entry['size']:,} bytes)")


if __name__ == "__main__":
    _common.run(main)
