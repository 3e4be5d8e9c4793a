"""Where a result came from: git commit of the code that produced it."""

from __future__ import annotations

import subprocess

from zoo.manifest import REPO_DIR


#: Files the project's tools write as data; their being modified does not make the code dirty.
#: ``runs/`` holds the committed training checkpoints and histories that tools/train.py updates.
DATA_PATHS = ("weights_manifest.json", "weights/", "tests/golden/", "docs/", "runs/")


def git_commit() -> str:
    """``<sha>`` of the checkout, ``<sha>-dirty`` with uncommitted code changes, or ``unknown``.

    Changes to the data the tools write (manifest, weights, golden outputs, docs tables) do
    not count: they are the results, not the code that produced them.
    """
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=REPO_DIR, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=REPO_DIR, capture_output=True, text=True, check=True,
        ).stdout  # not stripped: each line starts with a two-letter status that may be a space
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    changed = [line[3:] for line in dirty.splitlines() if line.strip()]
    code_changed = [p for p in changed if not p.startswith(DATA_PATHS)]
    return f"{sha}-dirty" if code_changed else sha
