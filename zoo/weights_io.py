"""Strict reading and writing of ``.weights.h5`` files.

Keras silently skips layers that a file lacks; a zoo load is all or nothing:
the file's variables must match the model's one for one, by path, shape and
dtype, or :class:`WeightsMismatchError` says what differs.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import h5py
import numpy as np

from zoo.errors import WeightsIntegrityError, WeightsMismatchError


def h5_structure(path: Path | str) -> dict[str, tuple]:
    """``{variable path: (shape, dtype)}`` of a ``.weights.h5`` file.

    Optimizer state (saved by ``save_weights`` on a compiled model) is not part
    of the architecture and is left out.
    """
    out = {}

    def visit(name, obj):
        if isinstance(obj, h5py.Dataset) and not name.startswith("optimizer/"):
            out[name] = (tuple(obj.shape), str(obj.dtype))

    try:
        with h5py.File(path, "r") as f:
            f.visititems(visit)
    except OSError as e:
        raise WeightsIntegrityError(
            f"{path} is not a readable HDF5 weights file ({e}); it may be truncated: "
            f"download it again"
        ) from None
    return out


def model_structure(model) -> dict[str, tuple]:
    """The structure ``model.save_weights`` would write."""
    with tempfile.TemporaryDirectory() as d:
        tmp = os.path.join(d, "probe.weights.h5")
        model.save_weights(tmp)
        return h5_structure(tmp)


def _describe(diff: list[str], limit: int = 4) -> str:
    more = f" (+{len(diff) - limit} more)" if len(diff) > limit else ""
    return "; ".join(diff[:limit]) + more


def check_compatible(model, path: Path | str, what: str, hint: str = "") -> None:
    """Raise unless the file at ``path`` holds exactly ``model``'s variables.

    ``hint`` replaces the generic advice at the end of the message (e.g. which
    builder options the model was built with).
    """
    want = model_structure(model)
    have = h5_structure(path)
    if want == have:
        return
    diff = []
    for k in sorted(set(want) - set(have)):
        diff.append(f"model variable {k} {want[k][0]} is absent from the file")
    for k in sorted(set(have) - set(want)):
        diff.append(f"file variable {k} {have[k][0]} has no place in the model")
    for k in sorted(set(want) & set(have)):
        if want[k] != have[k]:
            diff.append(f"{k}: model {want[k][0]} {want[k][1]} vs file {have[k][0]} {have[k][1]}")
    hint = hint or "load it with the model it was saved from"
    raise WeightsMismatchError(
        f"{path} does not fit {what}: {_describe(diff)}. The file belongs to another "
        f"architecture or configuration; {hint}"
    )


def load_strict(model, path: Path | str, what: str, hint: str = "") -> None:
    """Load ``path`` into ``model`` after checking every variable matches."""
    check_compatible(model, path, what, hint)
    model.load_weights(str(path))


def parameter_counts(model) -> dict[str, int]:
    """``{"num_params": all variables (Keras' count), "num_trainable_params": what trains}``.

    They differ by the batch-norm statistics; papers count what trains (DnCNN-S's 556,096).
    """
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    return {"num_params": int(model.count_params()), "num_trainable_params": trainable}


def save_atomic(model, path: Path | str) -> Path:
    """``model.save_weights`` through a temp file + rename: never half a file on disk."""
    path = Path(path)
    if not path.name.endswith(".weights.h5"):
        raise ValueError(f"weights file names end with .weights.h5, got {path.name}")
    path.parent.mkdir(parents=True, exist_ok=True)
    return _write_atomic(path, model.save_weights, suffix=".weights.h5")


def write_text_atomic(path: Path | str, text: str) -> Path:
    """Write a text file (reports, docs) through a temp file + rename."""
    return _write_atomic(Path(path), lambda tmp: Path(tmp).write_text(text), suffix=".tmp")


def _write_atomic(path: Path, write, suffix: str) -> Path:
    """``write(tmp_path)`` into a temp file beside ``path``, then rename it over ``path``."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-", suffix=suffix)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def transfer_by_layer_name(source, target, allow_missing: tuple = ()) -> list[str]:
    """Copy weights from ``source`` to ``target`` layer by layer name.

    Every weighted layer of ``target`` must exist in ``source`` with the same
    shapes, except those named in ``allow_missing`` (e.g. a new classifier
    head), which keep their fresh initialisation.  Returns the names copied.
    """
    src = {layer.name: layer for layer in source.layers}
    copied, problems = [], []
    for layer in target.layers:
        if not layer.weights:
            continue
        other = src.get(layer.name)
        mismatch = other is None or [w.shape for w in other.weights] != [
            w.shape for w in layer.weights
        ]
        if mismatch:
            if layer.name in allow_missing:
                continue
            problems.append(layer.name)
            continue
        layer.set_weights(other.get_weights())
        copied.append(layer.name)
    if problems:
        raise WeightsMismatchError(
            f"cannot carry pretrained weights into layers {', '.join(problems)}: their shapes "
            f"changed; only {', '.join(allow_missing) or 'no layers'} may change with "
            f"pretrained weights (pass weights=None to train from scratch)"
        )
    return copied
