"""Where a result came from: git commit of the code that produced it."""

from __future__ import annotations

import subprocess

from zoo.manifest import REPO_DIR


def git_commit() -> str:
    """``<sha>`` of the checkout, ``<sha>-dirty`` with uncommitted changes, or ``unknown``."""
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=REPO_DIR, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=REPO_DIR, capture_output=True, text=True, check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{sha}-dirty" if dirty else sha
