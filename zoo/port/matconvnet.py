"""Reader for MatConvNet ``SimpleNN`` networks saved as MATLAB v7.3 MAT-files (HDF5).

The DnCNN and FFDNet authors (cszn/DnCNN ``model/*.mat``, cszn/FFDNet ``models/*.mat``)
published their weights this way.  A v7.3 MAT-file is an HDF5 file behind a 512-byte text
header; ``net.layers`` is a cell array of structs, each with a ``type`` (``conv``, ``relu``,
``bnorm``, custom names such as ``SubP``), a ``name`` and, for layers with parameters, a cell
array ``weights``.  Nothing in the file is executed: only numeric arrays and strings are read.

The result is a flat, ordered state dict in PyTorch's layout so that the porters of
:mod:`zoo.port.mappings` work unchanged:

* ``{name}.weight`` -- a conv filter bank ``(out, in, kh, kw)`` (MatConvNet stores
  ``(kh, kw, in, out)`` in MATLAB's column-major order; trailing singleton dimensions that
  MATLAB drops, e.g. ``out = 1``, are restored);
* ``{name}.bias`` -- ``(out,)``; any further weights of a layer are ``{name}.weights.{k}``;
* ``{name}.type`` -- the layer type as a 0-d string array, and the numeric options of the
  layer as ``{name}.pad`` / ``{name}.stride`` / ``{name}.leak`` / ... (1-D float arrays),
  so a port can check the structure (every conv stride 1, every ReLU leak 0, ...) and nothing
  is left unchecked: :class:`zoo.port.mappings.Porter` fails on unused entries.

Example::

    from zoo.port.matconvnet import load_matconvnet
    sd = load_matconvnet("sigma=25.mat")
    sd["layer1.weight"].shape        # (64, 1, 3, 3)
    str(sd["layer2.type"])           # 'relu'
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["MatConvNetError", "is_mat_v73", "load_matconvnet"]

MAT73_HEADER = b"MATLAB 7.3 MAT-file"
#: numeric layer options kept in the state dict (everything a port may want to check)
OPTIONS = ("pad", "stride", "dilate", "leak", "epsilon", "method", "pool", "scale")


class MatConvNetError(ValueError):
    """The file is not a MatConvNet SimpleNN network saved as a v7.3 MAT-file."""


def is_mat_v73(path) -> bool:
    """True if ``path`` starts with the MATLAB v7.3 (HDF5) MAT-file header."""
    with open(path, "rb") as f:
        return f.read(len(MAT73_HEADER)) == MAT73_HEADER


def load_matconvnet(path) -> dict[str, np.ndarray]:
    """Ordered state dict of a MatConvNet SimpleNN ``net`` in a v7.3 MAT-file (see module doc)."""
    import h5py

    path = Path(path)
    with open(path, "rb") as f:
        head = f.read(128)
    if not head.startswith(MAT73_HEADER):
        if head.startswith(b"MATLAB 5.0 MAT-file"):
            raise MatConvNetError(f"{path} is a MATLAB v5 MAT-file; only v7.3 (HDF5) files are read here: "
                                  f"re-save it in MATLAB with save(..., '-v7.3')")
        raise MatConvNetError(f"{path} is not a MATLAB v7.3 MAT-file")
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        raise MatConvNetError(f"{path}: the HDF5 part cannot be read ({e})") from None
    with f:
        if "net" not in f or "layers" not in f["net"]:
            raise MatConvNetError(f"{path} has no net.layers: not a MatConvNet SimpleNN network "
                                  f"(variables: {sorted(k for k in f if not k.startswith('#'))})")
        cells = f["net"]["layers"]
        out: dict[str, np.ndarray] = {}
        for i, ref in enumerate(np.asarray(cells).reshape(-1)):
            layer = f[ref]
            if not isinstance(layer, h5py.Group) or "type" not in layer:
                raise MatConvNetError(f"{path}: net.layers{{{i + 1}}} is not a layer struct")
            kind = _string(layer["type"])
            name = _string(layer["name"]) if "name" in layer else f"layer{i + 1}"
            if f"{name}.type" in out:
                raise MatConvNetError(f"{path}: two layers are named {name!r}")
            out[f"{name}.type"] = np.array(kind)
            for option in OPTIONS:
                if option in layer and _is_numeric(layer[option]):
                    out[f"{name}.{option}"] = np.asarray(layer[option], np.float64).reshape(-1)
            weights = _weights(f, layer) if "weights" in layer else []
            for k, w in enumerate(weights):
                if kind == "conv" and k == 0:
                    out[f"{name}.weight"] = _conv_filters(w, path, name)
                elif kind == "conv" and k == 1:
                    out[f"{name}.bias"] = w.reshape(-1)
                else:
                    out[f"{name}.weights.{k}"] = w
    return out


def _string(dataset) -> str:
    """A MATLAB char array (uint16 code units) as a Python string."""
    return "".join(map(chr, np.asarray(dataset).reshape(-1)))


def _is_numeric(dataset) -> bool:
    import h5py

    return isinstance(dataset, h5py.Dataset) and dataset.attrs.get("MATLAB_class", b"") in (
        b"double", b"single", b"logical", b"uint8", b"int32")


def _weights(f, layer) -> list[np.ndarray]:
    """The layer's ``weights`` cell array as numpy arrays in MATLAB's (row-major-transposed) order."""
    cell = layer["weights"]
    if cell.dtype != object:  # an empty cell is stored as a small numeric placeholder
        return []
    return [np.asarray(f[r], np.float32) for r in np.asarray(cell).reshape(-1)]


def _conv_filters(w: np.ndarray, path, name) -> np.ndarray:
    """MATLAB ``(kh, kw, in, out)`` (read by HDF5 reversed, trailing 1s dropped) -> ``(out, in, kh, kw)``."""
    if w.ndim > 4:
        raise MatConvNetError(f"{path}: conv {name} has a {w.ndim}-D filter bank")
    w = w.reshape((1,) * (4 - w.ndim) + w.shape)  # reversed order: dropped trailing dims lead
    return np.ascontiguousarray(w.transpose(0, 1, 3, 2))  # (out, in, kw, kh) -> (out, in, kh, kw)
