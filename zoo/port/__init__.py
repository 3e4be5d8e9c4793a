"""Readers and mappings for porting third-party weights.

:func:`read_reference` opens any supported reference file as a ``{name: numpy array}`` state
dict: PyTorch checkpoints (:mod:`zoo.port.legacy_torch`, no torch needed, nothing executed)
and MatConvNet networks in MATLAB v7.3 MAT-files (:mod:`zoo.port.matconvnet`).
:data:`zoo.port.mappings.PORTS` maps a state dict onto a zoo architecture.

Example::

    import zoo
    from zoo.port import read_reference
    from zoo.port.mappings import PORTS
    model = zoo.load("dncnn", weights=None, batch_norm=False)
    PORTS["dncnn"](read_reference("sigma=15.mat"), model)
"""

from __future__ import annotations

from pathlib import Path

from zoo.errors import ZooError


def read_reference(path) -> dict:
    """State dict of a PyTorch checkpoint or a MatConvNet v7.3 MAT-file (chosen by content).

    Raises :class:`~zoo.errors.ZooError` with one clear line when the file cannot be read.
    """
    from zoo.port.legacy_torch import LegacyTorchError, load_legacy_torch
    from zoo.port.matconvnet import MatConvNetError, is_mat_v73, load_matconvnet

    path = Path(path)
    if not path.is_file():
        raise ZooError(f"cannot read {path}: no such file")
    if path.suffix.lower() == ".mat" or is_mat_v73(path):
        try:
            return load_matconvnet(path)
        except MatConvNetError as e:
            raise ZooError(str(e)) from None
        except Exception as e:  # a damaged HDF5 file can fail in many ways; never a traceback
            raise ZooError(f"cannot read {path} as a MatConvNet MAT-file: {type(e).__name__}: {e}") from None
    try:
        return load_legacy_torch(path)
    except (OSError, LegacyTorchError) as e:
        raise ZooError(f"cannot read {path} as a PyTorch checkpoint: {e}") from None
    except Exception as e:  # a corrupt pickle can fail in many ways; never a traceback
        raise ZooError(f"cannot read {path} as a PyTorch checkpoint: {type(e).__name__}: {e}") from None
