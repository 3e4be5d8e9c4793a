"""Shared start-up for the scripts in tools/: make the checkout importable, quiet TF."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def run(main_fn, training: bool = False) -> None:
    """Run ``main_fn`` with zoo's one-line error reporting (``training``: TF set up for training)."""
    from zoo._quiet import import_tensorflow_quietly
    from zoo.errors import ZooError

    import_tensorflow_quietly(training=training)
    try:
        sys.exit(main_fn() or 0)
    except ZooError as e:
        print(f"{Path(sys.argv[0]).name}: error: {e}", file=sys.stderr)
        sys.exit(2)
