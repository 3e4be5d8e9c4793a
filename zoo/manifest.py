"""``weights_manifest.json``: one entry per published weight.

The manifest is data written by the project's tools (``tools/add_weights.py``
installs a trained file, ``tools/evaluate.py`` writes metrics,
``tools/publish_weights.py`` writes the Hub revision); nobody types numbers
into it.  :func:`validate_entry` is the schema the tests enforce.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import tempfile
from pathlib import Path

from zoo.errors import ManifestError

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parent


def manifest_path() -> Path:
    """The manifest in use: ``$ZOO_MANIFEST`` or the one at the checkout's root."""
    return Path(os.environ.get("ZOO_MANIFEST") or REPO_DIR / "weights_manifest.json")

SCHEMA_VERSION = 1

REQUIRED_FIELDS = {
    "model": str,
    "arch": str,
    "tag": str,
    "hub": dict,
    "file": str,
    "sha256": str,
    "size": int,
    "num_params": int,
    "num_trainable_params": int,
    "input_spec": dict,
    "builder_kwargs": dict,
    "metrics": list,
    "license": str,
    "source": dict,
    "date": str,
}
REQUIRED_HUB_FIELDS = ("repo_id", "revision")
REQUIRED_METRIC_FIELDS = ("dataset", "protocol", "values", "tool", "commit", "date")
REQUIRED_INPUT_FIELDS = ("shape", "channels", "range", "dtype", "layout")
_SHA_RE = re.compile(r"^[0-9a-f]{64}$")


def validate_entry(name: str, entry: dict) -> list[str]:
    """Problems with one manifest entry (empty list when valid)."""
    problems = []
    for field, kind in REQUIRED_FIELDS.items():
        if field not in entry:
            problems.append(f"{name}: missing field {field!r}")
        elif not isinstance(entry[field], kind):
            problems.append(f"{name}: field {field!r} should be {kind.__name__}")
    if problems:
        return problems
    if entry["model"] != name or name != f"{entry['arch']}.{entry['tag']}":
        problems.append(f"{name}: model/arch/tag fields disagree with the key")
    if not _SHA_RE.match(entry["sha256"]):
        problems.append(f"{name}: sha256 is not 64 lowercase hex digits")
    for f in REQUIRED_HUB_FIELDS:
        if f not in entry["hub"]:
            problems.append(f"{name}: hub is missing {f!r}")
    for f in REQUIRED_INPUT_FIELDS:
        if f not in entry["input_spec"]:
            problems.append(f"{name}: input_spec is missing {f!r}")
    if not entry["metrics"]:
        problems.append(f"{name}: no metrics recorded (run tools/evaluate.py)")
    for i, m in enumerate(entry["metrics"]):
        for f in REQUIRED_METRIC_FIELDS:
            if f not in m:
                problems.append(f"{name}: metrics[{i}] is missing {f!r}")
    kind = entry["source"].get("kind")
    if kind == "zoo-trained":
        for f in ("recipe", "commit"):
            if f not in entry["source"]:
                problems.append(f"{name}: source of a zoo-trained weight needs {f!r}")
    elif kind == "ported":
        for f in ("from", "license"):
            if f not in entry["source"]:
                problems.append(f"{name}: source of a ported weight needs {f!r}")
    else:
        problems.append(f"{name}: source.kind must be 'zoo-trained' or 'ported'")
    return problems


def load_manifest(path: Path | str | None = None) -> dict:
    """``{name: entry}`` for every published weight."""
    path = Path(path or manifest_path())
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise ManifestError(f"{path} is not valid JSON ({e}); restore it with git") from None
    if data.get("schema_version") != SCHEMA_VERSION:
        raise ManifestError(
            f"{path} has schema_version {data.get('schema_version')!r}, "
            f"this zoo reads {SCHEMA_VERSION}; upgrade zoo"
        )
    return data.get("weights", {})


def get_entry(name: str, path: Path | str | None = None) -> dict | None:
    return load_manifest(path).get(name)


def write_manifest(weights: dict, path: Path | str | None = None) -> None:
    """Write atomically (temp file + rename) so a crash never leaves half a manifest."""
    path = Path(path or manifest_path())
    data = {"schema_version": SCHEMA_VERSION, "weights": dict(sorted(weights.items()))}
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".manifest-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, indent=2, sort_keys=False)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def update_entry(name: str, changes: dict, path: Path | str | None = None) -> dict:
    weights = load_manifest(path)
    entry = dict(weights.get(name, {}))
    entry.update(changes)
    weights[name] = entry
    write_manifest(weights, path)
    return entry


def today() -> str:
    return datetime.date.today().isoformat()
