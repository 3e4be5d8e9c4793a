#!/usr/bin/env python
"""Run or resume a training recipe (same as `zoo train`).

    nice python tools/train.py lenet5_mnist --out runs/lenet5_mnist > runs/lenet5_mnist.log 2>&1 &
"""

import _common  # noqa: F401


def main():
    import sys

    from zoo.cli import main as zoo_main

    return zoo_main(["train", *sys.argv[1:]])


if __name__ == "__main__":
    _common.run(main, training=True)
