"""Where the shared datasets are: ``$ZOO_DATA_DIR`` or ``<checkout>/../shared/data``."""

from __future__ import annotations

import os
from pathlib import Path

from zoo.errors import ZooError

REPO_DIR = Path(__file__).resolve().parents[2]


def shared_data_dir() -> Path:
    env = os.environ.get("ZOO_DATA_DIR")
    return Path(env).expanduser() if env else REPO_DIR.parent / "shared" / "data"


def dataset_dir(name: str) -> Path:
    """Folder of a shared dataset, e.g. ``dataset_dir("mnist")``; a clear error if absent."""
    path = shared_data_dir() / name
    if not path.is_dir():
        raise ZooError(
            f"dataset folder {path} not found; set ZOO_DATA_DIR to the folder that holds "
            f"{name}/ (the project expects ../shared/data beside the checkout)"
        )
    return path
