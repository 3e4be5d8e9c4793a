#!/usr/bin/env python
"""Port a third-party checkpoint (PyTorch, or MatConvNet v7.3 MAT-file) into a zoo ``.weights.h5`` file.

    python tools/port_weights.py REFERENCE_FILE --arch ZOO_ARCH --out FILE.weights.h5
    python tools/port_weights.py dncnn_25.pth --arch dncnn --option batch_norm=false --out F.weights.h5
    python tools/port_weights.py "sigma=15.mat" --arch dncnn --option batch_norm=false --out F.weights.h5

The checkpoint is read with zoo.port.read_reference (the safe torch-free reader of
zoo.port.legacy_torch, or zoo.port.matconvnet for MATLAB v7.3 files), the model is
built with ``zoo.load(ZOO_ARCH, weights=None, **OPTIONS)`` (``--option KEY=VALUE``, repeatable:
builder options such as ``batch_norm=false``; values are read as JSON, so ``false``/``3``/``0.5``,
anything else is a string), every variable is assigned by the port of
zoo.port.mappings.PORTS[ZOO_ARCH] (which fails if a tensor is unused, a variable unassigned or a
shape differs), and the weights are saved atomically; the file's sha256 is printed.

Ported weights keep the licence of their source: check it before publishing anything.
"""

import _common  # noqa: F401  (sys.path + quiet TF)


def main():
    import argparse
    from pathlib import Path

    from zoo.cli import parse_options
    from zoo.errors import ZooError

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("reference", help="PyTorch checkpoint (.pth / .pkl / .pt; legacy or zip format) or "
                                     "MatConvNet SimpleNN network (MATLAB v7.3 .mat)")
    p.add_argument("--arch", required=True, help="zoo architecture with a registered port")
    p.add_argument("--out", required=True, help="output FILE.weights.h5")
    p.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                   help="builder option of the architecture (repeatable), e.g. batch_norm=false")
    args = p.parse_args()
    options = parse_options(args.option)

    import zoo
    from zoo.hub import sha256_of
    from zoo.port import read_reference
    from zoo.port.mappings import PORTS
    from zoo.weights_io import check_compatible, save_atomic

    if args.arch not in PORTS:
        raise ZooError(f"no port for arch {args.arch!r}; ports exist for: {', '.join(sorted(PORTS))}")
    if not args.out.endswith(".weights.h5"):
        raise ZooError(f"--out must end with .weights.h5, got {args.out}")
    state_dict = read_reference(Path(args.reference))

    model = zoo.load(args.arch, weights=None, **options)
    PORTS[args.arch](state_dict, model)
    out = save_atomic(model, args.out)
    check_compatible(model, out, args.arch)  # the file loads back strictly
    print(f"{out}  sha256 {sha256_of(out)}  ({len(state_dict)} tensors -> {len(model.weights)} variables, "
          f"{model.count_params()} parameters)")


if __name__ == "__main__":
    _common.run(main)
