"""Safe, torch-free reader for PyTorch checkpoint files.

Third-party reference weights (DnCNN, xUnit, CSCNet, LIDIA, FSRCNN, CARN,
VDSR, CIFAR ResNets, ...) were saved with ``torch.save``.  This module reads
them into plain numpy arrays **without importing torch and without executing
any code from the file**.

Supported formats
-----------------
* **Legacy (pre-1.6) serialization** -- a sequence of pickles on one stream:
  magic number ``0x1950a86a20f9469cfc6c``, protocol version ``1001``, a
  ``sys_info`` dict, the pickled object (tensors appear as persistent ids
  ``('storage', storage_type, root_key, location, numel, view_metadata)``),
  the pickled list of storage keys, and then for every key an int64 element
  count followed by the raw little-endian storage data.  The reader checks
  that the stream is consumed exactly to EOF.
* **Zip serialization (torch >= 1.6)** -- ``<prefix>/data.pkl`` plus one raw
  little-endian file ``<prefix>/data/<key>`` per storage.
* The ancient tar format (torch < 0.1.10) and TorchScript archives are
  refused with a clear :class:`LegacyTorchError`.

Objects that can come out of a file
-----------------------------------
* ``state_dict`` files (an ``OrderedDict`` name -> tensor),
* checkpoint dicts wrapping one (``{'state_dict': ...}``, ``{'model': ...}``,
  ``{'net': ...}``, ``{'params': ...}``, ...),
* whole pickled ``nn.Module`` objects (``torch.save(model)``), in which case
  the legacy format embeds each module class as a persistent id
  ``('module', cls, source_file, source)``.  Module classes are replaced by
  :class:`TorchModuleStub` objects that only keep their ``__dict__`` state;
  :func:`find_state_dict` walks their ``_parameters``/``_buffers``/
  ``_modules`` to produce the dotted names ``model.state_dict()`` would give.

Safety
------
Unpickling goes through :class:`_RestrictedUnpickler`, whose ``find_class``
never imports anything.  It resolves only a small whitelist
(``collections.OrderedDict``, ``set``/``frozenset``, the
``torch._utils._rebuild_*`` tensor constructors, ``torch.*Storage`` types,
``torch.nn.Parameter``, ``torch.Size``) to local numpy-based stand-ins, and
``torch.nn.modules.*`` classes to harmless stub classes.  Any other global
becomes an inert placeholder: *calling* it (pickle ``REDUCE``/``INST``/``OBJ``,
the way ``os.system``-style payloads work) raises :class:`UnsafePickleError`,
and instantiating it with ``NEWOBJ`` is only allowed when the file declared it
as an ``nn.Module`` class through a ``('module', ...)`` persistent id (then it
becomes a :class:`TorchModuleStub` too).  Tensor views are bounds-checked
against their storage and storage sizes against the file size.

Example
-------
>>> from zoo.port.legacy_torch import load_legacy_torch
>>> sd = load_legacy_torch(                                    # doctest: +SKIP
...     "../shared/data/reference_weights/cszn__KAIR/model_zoo/dncnn_25.pth")
>>> sd["model.0.weight"].shape, sd["model.0.weight"].dtype   # doctest: +SKIP
((64, 1, 3, 3), dtype('float32'))
>>> ckpt = load_legacy_torch_object(                          # doctest: +SKIP
...     "../shared/data/reference_weights/twtygqyy__pytorch-vdsr/model/model_epoch_50.pth")
>>> sorted(ckpt)                                            # doctest: +SKIP
['epoch', 'model']
>>> isinstance(ckpt["model"], TorchModuleStub), ckpt["model"].qualname  # doctest: +SKIP
(True, 'vdsr.Net')
>>> list(find_state_dict(ckpt))[:2]                         # doctest: +SKIP
['residual_layer.0.conv.weight', 'residual_layer.1.conv.weight']
"""

from __future__ import annotations

import collections
import io
import os
import pickle
import struct
import tarfile
import zipfile
from typing import Any, BinaryIO

import numpy as np

__all__ = [
    "LegacyTorchError",
    "UnsafePickleError",
    "TorchModuleStub",
    "load_legacy_torch",
    "load_legacy_torch_object",
    "find_state_dict",
    "module_state_dict",
]

MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
PROTOCOL_VERSION = 1001

#: Keys under which checkpoints commonly nest their state_dict, in the order
#: they are tried by :func:`find_state_dict`.
STATE_DICT_KEYS = (
    "state_dict",
    "model_state_dict",
    "model_state",
    "params_ema",
    "params",
    "model",
    "net",
    "network",
    "generator",
    "netG",
    "G",
    "module",
)


class LegacyTorchError(ValueError):
    """A file that is not a readable PyTorch checkpoint (or is malformed)."""


class UnsafePickleError(LegacyTorchError, pickle.UnpicklingError):
    """The pickle asked for a global or an operation outside the whitelist."""


# --------------------------------------------------------------------------
# dtypes of torch storage classes
# --------------------------------------------------------------------------

_STORAGE_DTYPES: dict[str, Any] = {
    "DoubleStorage": "<f8",
    "FloatStorage": "<f4",
    "HalfStorage": "<f2",
    "LongStorage": "<i8",
    "IntStorage": "<i4",
    "ShortStorage": "<i2",
    "CharStorage": "<i1",
    "ByteStorage": "<u1",
    "BoolStorage": "?",
    "ComplexFloatStorage": "<c8",
    "ComplexDoubleStorage": "<c16",
    "UntypedStorage": "<u1",  # zip format: untyped storages are raw bytes
}


def _bfloat16_dtype():
    try:
        import ml_dtypes  # optional, shipped with tensorflow/keras
    except ImportError as exc:  # pragma: no cover - depends on environment
        raise LegacyTorchError(
            "this checkpoint holds bfloat16 tensors; install ml_dtypes to read them"
        ) from exc
    return np.dtype(ml_dtypes.bfloat16)


class _Sealed:
    """Helper objects the pickle can reach refuse pickle ``BUILD`` (state)."""

    __slots__ = ()

    def __setstate__(self, state):
        raise UnsafePickleError(f"refusing to set pickle state on {type(self).__name__}")


class _StorageType(_Sealed):
    """Stand-in for a ``torch.*Storage`` class: only remembers its dtype."""

    __slots__ = ("name", "_dtype")

    def __init__(self, name: str):
        self.name = name
        self._dtype = None

    @property
    def dtype(self) -> np.dtype:
        if self._dtype is None:
            if self.name == "BFloat16Storage":
                self._dtype = _bfloat16_dtype()
            else:
                self._dtype = np.dtype(_STORAGE_DTYPES[self.name])
        return self._dtype

    def __call__(self, *args, **kwargs):
        raise UnsafePickleError(f"refusing to construct torch.{self.name} from pickle arguments")

    def __repr__(self):
        return f"<storage type torch.{self.name}>"


class _Storage(_Sealed):
    """A storage: a flat numpy buffer (filled in after the object pickle)."""

    __slots__ = ("key", "dtype", "numel", "array", "filled")

    def __init__(self, key: str, dtype: np.dtype, numel: int):
        self.key = key
        self.dtype = dtype
        self.numel = numel
        self.array = np.zeros(numel, dtype=dtype)
        self.filled = False


class _StorageView(_Sealed):
    """A legacy storage *view* (``view_metadata``): a slice of a root storage."""

    __slots__ = ("root", "offset", "numel")

    def __init__(self, root: _Storage, offset: int, numel: int):
        if offset < 0 or numel < 0 or offset + numel > root.numel:
            raise LegacyTorchError(
                f"storage view [{offset}:{offset + numel}] exceeds storage "
                f"{root.key!r} of {root.numel} elements"
            )
        self.root = root
        self.offset = offset
        self.numel = numel


# --------------------------------------------------------------------------
# tensor reconstruction
# --------------------------------------------------------------------------


def _as_int_tuple(seq, what: str) -> tuple[int, ...]:
    try:
        out = tuple(int(v) for v in seq)
    except TypeError as exc:
        raise LegacyTorchError(f"tensor {what} is not a sequence of ints: {seq!r}") from exc
    return out


def _rebuild_tensor(storage, storage_offset, size, stride, *unused):
    """numpy version of ``torch._utils._rebuild_tensor(_v2)``: a strided view."""
    if isinstance(storage, _StorageView):
        root, base = storage.root, storage.offset
        limit = storage.numel
    elif isinstance(storage, _Storage):
        root, base = storage, 0
        limit = storage.numel
    else:
        raise UnsafePickleError(f"tensor rebuilt from a non-storage object {type(storage).__name__}")
    size = _as_int_tuple(size, "size")
    stride = _as_int_tuple(stride, "stride")
    offset = int(storage_offset)
    if len(size) != len(stride):
        raise LegacyTorchError(f"tensor size {size} and stride {stride} differ in length")
    if offset < 0 or any(s < 0 for s in size) or any(s < 0 for s in stride):
        raise LegacyTorchError(f"negative tensor offset/size/stride: {offset}, {size}, {stride}")
    if all(s > 0 for s in size):
        last = offset + sum((n - 1) * st for n, st in zip(size, stride))
        if last >= limit:
            raise LegacyTorchError(
                f"tensor (offset {offset}, size {size}, stride {stride}) reads past the "
                f"end of its storage of {limit} elements"
            )
    itemsize = root.dtype.itemsize
    flat = root.array[base:]
    return _Tensor(np.lib.stride_tricks.as_strided(
        flat[offset:] if flat.size > offset else flat[:0],
        shape=size,
        strides=tuple(st * itemsize for st in stride),
        writeable=False,
    ))


class _Tensor(_Sealed):
    """A rebuilt tensor: a strided numpy view of its storage (copied at the end)."""

    __slots__ = ("view",)

    def __init__(self, view: np.ndarray):
        self.view = view


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False,
                       backward_hooks=None, metadata=None):
    return _rebuild_tensor(storage, storage_offset, size, stride)


class _Parameter:
    """Stand-in for ``torch.nn.Parameter``; unwrapped to its array after loading."""

    __slots__ = ("data", "requires_grad")

    def __init__(self, data=None, requires_grad=True, *unused):
        if data is not None and not isinstance(data, _Tensor):
            raise UnsafePickleError(f"Parameter wraps a non-tensor {type(data).__name__}")
        self.data = data
        self.requires_grad = requires_grad

    def __setstate__(self, state):  # old Variable state (requires_grad, volatile, hooks)
        pass


def _rebuild_parameter(data, requires_grad=True, backward_hooks=None, *unused):
    return _Parameter(data, requires_grad)


def _torch_size(seq=()):
    return _as_int_tuple(seq, "torch.Size")


def _no_backend(*args, **kwargs):
    """``torch.nn.backends.thnn._get_thnn_function_backend`` (torch <= 0.4)."""
    return None


class _SafeCallable(_Sealed):
    """Wraps a whitelisted local function/class handed to the pickle, so that a
    pickle ``BUILD`` cannot set attributes (e.g. ``__defaults__``) on it."""

    __slots__ = ("_fn", "_name")

    def __init__(self, fn, name):
        self._fn = fn
        self._name = name

    def __call__(self, *args, **kwargs):
        return self._fn(*args, **kwargs)

    def __repr__(self):
        return f"<whitelisted {self._name}>"


# --------------------------------------------------------------------------
# stub classes
# --------------------------------------------------------------------------


class TorchModuleStub:
    """Inert replacement for a pickled ``torch.nn.Module`` object.

    ``qualname`` is the original ``module.Class`` name; the pickled attribute
    dict (``_parameters``, ``_buffers``, ``_modules``, hyper-parameters, ...)
    is stored as the instance ``__dict__``.  It has no behaviour.
    """

    qualname = "?"

    def __setstate__(self, state):
        if isinstance(state, tuple) and len(state) == 2:  # (dict, slotstate)
            state = {**(state[0] or {}), **(state[1] or {})}
        if not isinstance(state, dict):
            raise UnsafePickleError(f"module {self.qualname} has non-dict state {type(state).__name__}")
        self.__dict__.update(state)

    def __repr__(self):
        return f"<TorchModuleStub {self.qualname}>"


class _StubMeta(type):
    """Metaclass of placeholders: calling the class (REDUCE/INST/OBJ) is refused."""

    def __call__(cls, *args, **kwargs):
        raise UnsafePickleError(
            f"refusing to call non-whitelisted global {cls.qualname!r} "
            f"(with {len(args)} argument(s)); the pickle tries to execute code"
        )

    def __repr__(cls):
        return f"<stub class {cls.qualname}>"


class _Placeholder(TorchModuleStub, metaclass=_StubMeta):
    """A non-whitelisted global.

    It is never imported and can never be called.  ``NEWOBJ`` (which runs no
    code: ``cls.__new__(cls)``) yields an inert instance, whose pickled state
    is accepted only if the class was declared an ``nn.Module`` by a legacy
    ``('module', cls, file, source)`` persistent id or the state is an
    ``nn.Module`` attribute dict (zip-format full-module pickles carry no
    module persistent ids).
    """

    qualname = "?"
    declared_module = False

    def __new__(cls, *args, **kwargs):
        if args or kwargs:
            raise UnsafePickleError(
                f"refusing to instantiate non-whitelisted global {cls.qualname!r} with arguments"
            )
        return object.__new__(cls)

    def __setstate__(self, state):
        if not type(self).declared_module:
            d = state[0] if isinstance(state, tuple) and len(state) == 2 else state
            if not (isinstance(d, dict) and "_parameters" in d and "_modules" in d):
                raise UnsafePickleError(
                    f"refusing to restore an object of non-whitelisted global "
                    f"{self.qualname!r} (not an nn.Module)"
                )
        super().__setstate__(state)


# --------------------------------------------------------------------------
# the restricted unpickler
# --------------------------------------------------------------------------

_SAFE_GLOBALS: dict[tuple[str, str], Any] = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("builtins", "set"): set,
    ("builtins", "frozenset"): frozenset,
    ("__builtin__", "set"): set,
    ("__builtin__", "frozenset"): frozenset,
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
    ("torch.nn.parameter", "Parameter"): _Parameter,
    ("torch", "Size"): _torch_size,
    ("torch.nn.backends.thnn", "_get_thnn_function_backend"): _no_backend,
}


# Built-in types (immutable) are handed out directly; local Python callables
# are wrapped in a fresh _SafeCallable on every lookup.
_WRAPPED = (_rebuild_tensor, _rebuild_tensor_v2, _rebuild_parameter, _Parameter,
            _torch_size, _no_backend)


class _RestrictedUnpickler(pickle.Unpickler):
    """``pickle.Unpickler`` that never imports: see the module docstring."""

    def __init__(self, file, *, storages: dict | None = None, max_bytes: int | None = None,
                 encoding: str = "latin1"):
        super().__init__(file, encoding=encoding)
        self._storages = storages  # None -> persistent ids are not allowed
        self._max_bytes = max_bytes
        self._allocated = 0
        self._classes: dict[tuple[str, str], type] = {}

    # -- globals --------------------------------------------------------
    def find_class(self, module: str, name: str):
        key = (module, name)
        if key in _SAFE_GLOBALS:
            obj = _SAFE_GLOBALS[key]
            return _SafeCallable(obj, f"{module}.{name}") if obj in _WRAPPED else obj
        if module == "torch" and (name in _STORAGE_DTYPES or name == "BFloat16Storage"):
            return _StorageType(name)
        if key in self._classes:
            return self._classes[key]
        qualname = f"{module}.{name}"
        if module.startswith("torch.nn.modules.") and name[:1].isupper():
            cls = _StubMeta(name, (TorchModuleStub,), {"qualname": qualname, "__module__": __name__})
        else:
            cls = _StubMeta(name, (_Placeholder,),
                            {"qualname": qualname, "__module__": __name__})
        self._classes[key] = cls
        return cls

    # -- persistent ids ------------------------------------------------
    def persistent_load(self, pid):
        if self._storages is None:
            raise UnsafePickleError("unexpected persistent id in a header pickle")
        if not isinstance(pid, tuple) or not pid:
            raise UnsafePickleError(f"malformed persistent id {pid!r}")
        typename = pid[0].decode("ascii") if isinstance(pid[0], bytes) else pid[0]
        data = pid[1:]
        if typename == "module":
            cls = data[0] if data else None
            if isinstance(cls, type) and issubclass(cls, TorchModuleStub):
                if issubclass(cls, _Placeholder):
                    cls.declared_module = True
                return cls
            raise UnsafePickleError(f"'module' persistent id names a non-class {cls!r}")
        if typename == "storage":
            return self._load_storage(data)
        raise UnsafePickleError(f"unknown persistent id type {typename!r}")

    def _load_storage(self, data):
        if len(data) == 5:  # legacy: (type, root_key, location, numel, view_metadata)
            storage_type, root_key, _location, numel, view_metadata = data
        elif len(data) == 4:  # zip: (type, key, location, numel)
            storage_type, root_key, _location, numel = data
            view_metadata = None
        else:
            raise UnsafePickleError(f"malformed storage persistent id {data!r}")
        if not isinstance(storage_type, _StorageType):
            raise UnsafePickleError(f"storage of non-storage type {storage_type!r}")
        if isinstance(root_key, bytes):
            root_key = root_key.decode("ascii")
        root_key = str(root_key)
        numel = int(numel)
        dtype = storage_type.dtype
        storage = self._storages.get(root_key)
        if storage is None:
            # all storages together must fit in the file (no huge allocations)
            self._allocated += max(numel, 0) * dtype.itemsize
            if numel < 0 or (self._max_bytes is not None and self._allocated > self._max_bytes):
                raise LegacyTorchError(
                    f"storage {root_key!r} claims {numel} elements of {dtype}; the "
                    f"storages would need more bytes than the file holds"
                )
            storage = _Storage(root_key, dtype, numel)
            self._storages[root_key] = storage
        elif storage.dtype != dtype or storage.numel != numel:
            raise LegacyTorchError(f"storage {root_key!r} is declared twice with different types")
        if view_metadata is None:
            return storage
        _view_key, offset, view_size = view_metadata
        return _StorageView(storage, int(offset), int(view_size))


# --------------------------------------------------------------------------
# post-processing: copy views to contiguous arrays, unwrap Parameters
# --------------------------------------------------------------------------


def _finalize(obj, memo: dict):
    oid = id(obj)
    if oid in memo:
        return memo[oid]
    if isinstance(obj, _Tensor):
        out = np.array(obj.view, order="C", copy=True)
        if not out.dtype.isnative:
            out = out.astype(out.dtype.newbyteorder("="))
        memo[oid] = out
        return out
    if isinstance(obj, _Parameter):
        out = _finalize(getattr(obj, "data", None), memo)
        memo[oid] = out
        return out
    if isinstance(obj, dict):  # also OrderedDict; mutate in place (keeps _metadata)
        memo[oid] = obj
        for k in list(obj.keys()):
            obj[k] = _finalize(obj[k], memo)
        return obj
    if isinstance(obj, list):
        memo[oid] = obj
        obj[:] = [_finalize(v, memo) for v in obj]
        return obj
    if isinstance(obj, tuple):
        out = tuple(_finalize(v, memo) for v in obj)
        memo[oid] = out
        return out
    if isinstance(obj, TorchModuleStub):
        memo[oid] = obj
        for k, v in list(vars(obj).items()):
            setattr(obj, k, _finalize(v, memo))
        return obj
    return obj


# --------------------------------------------------------------------------
# readers
# --------------------------------------------------------------------------


def _read_legacy(f: BinaryIO, file_size: int, encoding: str, check_eof: bool):
    def header():
        return _RestrictedUnpickler(f, encoding=encoding).load()

    try:
        magic = header()
    except UnsafePickleError:
        raise
    except Exception as exc:
        raise LegacyTorchError(f"not a PyTorch checkpoint (cannot unpickle a header: {exc})") from exc
    if magic != MAGIC_NUMBER:
        raise LegacyTorchError("not a PyTorch checkpoint (legacy magic number missing)")
    protocol = header()
    if protocol != PROTOCOL_VERSION:
        raise LegacyTorchError(f"unsupported legacy torch protocol version {protocol!r}")
    sys_info = header()
    if not isinstance(sys_info, dict):
        raise LegacyTorchError("malformed sys_info header")

    storages: dict[str, _Storage] = {}
    up = _RestrictedUnpickler(f, storages=storages, max_bytes=file_size, encoding=encoding)
    obj = up.load()

    keys = header()
    if not isinstance(keys, list):
        raise LegacyTorchError("malformed storage key list")
    for key in keys:
        if isinstance(key, bytes):
            key = key.decode("ascii")
        key = str(key)
        storage = storages.get(key)
        if storage is None:
            raise LegacyTorchError(f"storage key {key!r} was never referenced by the object")
        if storage.filled:
            raise LegacyTorchError(f"storage key {key!r} listed twice")
        head = f.read(8)
        if len(head) != 8:
            raise LegacyTorchError(f"truncated file: no size for storage {key!r}")
        (numel,) = struct.unpack("<q", head)
        if numel != storage.numel:
            raise LegacyTorchError(
                f"storage {key!r}: file says {numel} elements, pickle said {storage.numel}"
            )
        nbytes = numel * storage.dtype.itemsize
        raw = f.read(nbytes)
        if len(raw) != nbytes:
            raise LegacyTorchError(f"truncated file: storage {key!r} has {len(raw)} of {nbytes} bytes")
        storage.array[:] = np.frombuffer(raw, dtype=storage.dtype)
        storage.filled = True
    missing = [k for k, s in storages.items() if not s.filled]
    if missing:
        raise LegacyTorchError(f"storages referenced but not stored: {missing[:5]}")
    if check_eof:
        rest = f.read(1)
        if rest:
            raise LegacyTorchError(f"trailing data after the last storage at byte {f.tell() - 1}")
    return obj, {"format": "legacy", "sys_info": sys_info, "storage_keys": list(keys),
                 "end_offset": f.tell()}


def _read_zip(path: str, encoding: str):
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        pkls = [n for n in names if n.endswith("/data.pkl") or n == "data.pkl"]
        if not pkls:
            if any(n.endswith("constants.pkl") or "/code/" in n for n in names):
                raise LegacyTorchError(f"{path}: TorchScript archive, not a torch.save checkpoint")
            raise LegacyTorchError(f"{path}: zip file without data.pkl is not a torch checkpoint")
        if len(pkls) > 1:
            raise LegacyTorchError(f"{path}: zip checkpoint with several data.pkl: {pkls}")
        prefix = pkls[0][: -len("data.pkl")]
        byteorder = "little"
        if prefix + "byteorder" in names:
            byteorder = zf.read(prefix + "byteorder").decode("ascii").strip()
        if byteorder not in ("little", "big"):
            raise LegacyTorchError(f"{path}: unknown byteorder {byteorder!r}")
        total = sum(i.file_size for i in zf.infolist())
        storages: dict[str, _Storage] = {}
        with zf.open(pkls[0]) as fp:
            obj = _RestrictedUnpickler(io.BytesIO(fp.read()), storages=storages,
                                       max_bytes=total, encoding=encoding).load()
        for key, storage in storages.items():
            member = f"{prefix}data/{key}"
            try:
                raw = zf.read(member)
            except KeyError as exc:
                raise LegacyTorchError(f"{path}: storage file {member} missing") from exc
            dtype = storage.dtype if byteorder == "little" else storage.dtype.newbyteorder(">")
            nbytes = storage.numel * dtype.itemsize
            if len(raw) < nbytes:
                raise LegacyTorchError(f"{path}: storage {key!r} has {len(raw)} of {nbytes} bytes")
            storage.array[:] = np.frombuffer(raw[:nbytes], dtype=dtype)
            storage.filled = True
    return obj, {"format": "zip", "byteorder": byteorder, "storage_keys": sorted(storages)}


def load_legacy_torch_object(path, *, encoding: str = "latin1", check_eof: bool = True,
                             return_info: bool = False):
    """Load the whole pickled object of a torch checkpoint, safely.

    Tensors become C-contiguous numpy arrays (Parameters unwrapped), pickled
    ``nn.Module`` objects become :class:`TorchModuleStub` instances, dicts and
    lists are kept.  ``encoding`` decodes Python-2 ``str`` objects ('latin1'
    is what torch recommends and is harmless for Python-3 pickles).
    With ``return_info=True`` returns ``(obj, info)`` where ``info`` says the
    format, the storage keys and (legacy) ``sys_info`` and the end offset.
    """
    path = os.fspath(path)
    with open(path, "rb") as f:
        head = f.read(4)
    # like torch: a zip checkpoint starts with a local file header (a legacy
    # file's raw tensor data could contain a stray end-of-directory record)
    if head == b"PK\x03\x04" and zipfile.is_zipfile(path):
        obj, info = _read_zip(path, encoding)
    else:
        file_size = os.path.getsize(path)
        with open(path, "rb") as f:
            if head[:1] != b"\x80" and tarfile.is_tarfile(path):
                raise LegacyTorchError(
                    f"{path}: tar-based torch checkpoint (torch < 0.1.10) is not supported"
                )
            obj, info = _read_legacy(f, file_size, encoding, check_eof)
    obj = _finalize(obj, {})
    return (obj, info) if return_info else obj


def module_state_dict(module: TorchModuleStub, prefix: str = "",
                      out: dict | None = None) -> dict[str, np.ndarray]:
    """Dotted-name state dict of a pickled module, in ``Module.state_dict`` order."""
    out = collections.OrderedDict() if out is None else out
    d = vars(module)
    non_persistent = d.get("_non_persistent_buffers_set") or set()
    for name, value in (d.get("_parameters") or {}).items():
        if value is not None:
            out[prefix + name] = _as_array(value, prefix + name)
    for name, value in (d.get("_buffers") or {}).items():
        if value is not None and name not in non_persistent:
            out[prefix + name] = _as_array(value, prefix + name)
    for name, child in (d.get("_modules") or {}).items():
        if child is None:
            continue
        if not isinstance(child, TorchModuleStub):
            raise LegacyTorchError(f"submodule {prefix + name} is a {type(child).__name__}")
        module_state_dict(child, prefix + name + ".", out)
    return out


def _as_array(value, name):
    if isinstance(value, _Parameter):
        value = getattr(value, "data", None)
    if isinstance(value, _Tensor):
        value = _finalize(value, {})
    if not isinstance(value, np.ndarray):
        raise LegacyTorchError(f"{name} is a {type(value).__name__}, not a tensor")
    return value


def _is_state_dict(obj) -> bool:
    return (
        isinstance(obj, dict)
        and len(obj) > 0
        and all(isinstance(k, str) for k in obj)
        and all(isinstance(v, (np.ndarray, _Parameter, _Tensor)) for v in obj.values())
    )


def find_state_dict(obj) -> dict[str, np.ndarray]:
    """Return the flat ``name -> array`` state dict inside a loaded object.

    Accepts a state dict itself, a :class:`TorchModuleStub` (walked like
    ``nn.Module.state_dict()``), or a checkpoint dict nesting one of those
    under a key of :data:`STATE_DICT_KEYS` (tried in that order; if none
    matches, the unique value that yields a state dict is used).
    """
    if isinstance(obj, TorchModuleStub):
        return module_state_dict(obj)
    if _is_state_dict(obj):
        return collections.OrderedDict((k, _as_array(v, k)) for k, v in obj.items())
    if isinstance(obj, dict):
        for key in STATE_DICT_KEYS:
            if key in obj:
                try:
                    return find_state_dict(obj[key])
                except LegacyTorchError:
                    pass
        found = []
        for key, value in obj.items():
            if isinstance(value, (dict, TorchModuleStub)):
                try:
                    found.append((key, find_state_dict(value)))
                except LegacyTorchError:
                    pass
        if len(found) == 1:
            return found[0][1]
        if found:
            raise LegacyTorchError(
                f"several candidate state dicts under keys {[k for k, _ in found]}; "
                "pick one with load_legacy_torch_object()"
            )
        raise LegacyTorchError(f"no state dict found in a dict with keys {list(obj)[:10]}")
    raise LegacyTorchError(f"no state dict found in a {type(obj).__name__}")


def load_legacy_torch(path, *, encoding: str = "latin1",
                      check_eof: bool = True) -> dict[str, np.ndarray]:
    """Read a torch checkpoint into a flat ``{name: numpy array}`` state dict.

    Works for ``state_dict`` files, checkpoints that wrap one
    (``{'state_dict': ...}``, ``{'model': ...}``, ``{'net': ...}``, ...) and
    whole pickled modules, in the legacy (< 1.6) or zip format, without
    torch and without executing code from the file.  Arrays have the
    tensor's dtype and shape and are C-contiguous copies.

    >>> sd = load_legacy_torch("dncnn_25.pth")          # doctest: +SKIP
    >>> {k: v.shape for k, v in sd.items()}["model.0.weight"]  # doctest: +SKIP
    (64, 1, 3, 3)
    """
    obj = load_legacy_torch_object(path, encoding=encoding, check_eof=check_eof)
    return dict(find_state_dict(obj))
