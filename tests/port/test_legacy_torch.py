"""Tests for zoo.port.legacy_torch (safe torch-free checkpoint reader).

(a) synthetic legacy/zip files written byte by byte here (no torch needed),
(b) malicious pickles are refused without executing anything,
(c) real third-party files from ../shared/data/reference_weights, checked
    against checksums measured with torch 2.13 ``torch.load`` in a scratch venv.
"""

from __future__ import annotations

import io
import os
import pickle
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest

from zoo.port.legacy_torch import (
    LegacyTorchError,
    TorchModuleStub,
    UnsafePickleError,
    find_state_dict,
    load_legacy_torch,
    load_legacy_torch_object,
)

MAGIC = 0x1950A86A20F9469CFC6C


# ---------------------------------------------------------------------------
# a tiny hand-written pickle emitter (protocol 2 opcodes)
# ---------------------------------------------------------------------------


class P:
    """Builds a protocol-2 pickle opcode by opcode."""

    def __init__(self):
        self.b = bytearray(b"\x80\x02")

    def raw(self, data: bytes):
        self.b += data
        return self

    def glob(self, module: str, name: str):
        return self.raw(b"c" + module.encode() + b"\n" + name.encode() + b"\n")

    def str(self, s: str):
        enc = s.encode("utf-8")
        return self.raw(b"X" + struct.pack("<I", len(enc)) + enc)

    def int(self, i: int):
        return self.raw(b"J" + struct.pack("<i", i))

    def none(self):
        return self.raw(b"N")

    def false(self):
        return self.raw(b"\x89")

    def mark(self):
        return self.raw(b"(")

    def tuple(self):  # MARK ... TUPLE
        return self.raw(b"t")

    def ints(self, seq):
        self.mark()
        for i in seq:
            self.int(i)
        return self.tuple()

    def reduce(self):
        return self.raw(b"R")

    def build(self):
        return self.raw(b"b")

    def empty_dict(self):
        return self.raw(b"}")

    def empty_tuple(self):
        return self.raw(b")")

    def newobj(self):
        return self.raw(b"\x81")

    def setitems(self):  # MARK k v k v ... SETITEMS
        return self.raw(b"u")

    def persid(self):
        return self.raw(b"Q")

    def ordered_dict(self):
        return self.glob("collections", "OrderedDict").raw(b"]").raw(b"\x85").reduce()

    def storage_pid(self, dtype_name, key, numel, view=None):
        self.mark().str("storage").glob("torch", dtype_name).str(key).str("cpu").int(numel)
        if view is None:
            self.none()
        else:
            self.mark().str(view[0]).int(view[1]).int(view[2]).tuple()
        return self.tuple().persid()

    def zip_storage_pid(self, dtype_name, key, numel):
        self.mark().str("storage").glob("torch", dtype_name).str(key).str("cpu").int(numel)
        return self.tuple().persid()

    def tensor(self, pid_fn, offset, size, stride, v2=True):
        self.glob("torch._utils", "_rebuild_tensor_v2" if v2 else "_rebuild_tensor")
        self.mark()
        pid_fn(self)
        self.int(offset).ints(size).ints(stride)
        if v2:
            self.false().ordered_dict()
        return self.tuple().reduce()

    def stop(self) -> bytes:
        return bytes(self.b + b".")


def legacy_file(obj_pickle: bytes, storages: list[tuple[str, np.ndarray]]) -> bytes:
    """Assemble a legacy torch file: magic, protocol, sys_info, object, keys, data."""
    out = io.BytesIO()
    pickle.dump(MAGIC, out, protocol=2)
    pickle.dump(1001, out, protocol=2)
    pickle.dump({"protocol_version": 1001, "little_endian": True,
                 "type_sizes": {"short": 2, "int": 4, "long": 4}}, out, protocol=2)
    out.write(obj_pickle)
    pickle.dump([k for k, _ in storages], out, protocol=2)
    for _, arr in storages:
        arr = np.ascontiguousarray(arr).ravel()
        out.write(struct.pack("<q", arr.size))
        out.write(arr.astype(arr.dtype.newbyteorder("<")).tobytes())
    return out.getvalue()


# storage contents used by the synthetic files
BASE = np.arange(24, dtype=np.float32) * 0.5 - 3.25          # key "0"
LONGS = np.array([7, -2, 2**40, 5], dtype=np.int64)           # key "1"
HALF = np.array([1.5, -0.25, 65504.0], dtype=np.float16)      # key "2"


def _state_dict_pickle(zip_format=False) -> bytes:
    p = P()
    pid = (lambda k, dt, n: (lambda q: q.zip_storage_pid(dt, k, n))) if zip_format else \
          (lambda k, dt, n: (lambda q: q.storage_pid(dt, k, n)))
    p.ordered_dict().mark()
    # a contiguous (2, 3, 4) tensor over the whole float storage
    p.str("conv.weight").tensor(pid("0", "FloatStorage", 24), 0, (2, 3, 4), (12, 4, 1))
    # a transposed, offset, strided view: storage[5 + 4*i + 1*j], shape (3, 4) -> stride (1, 4)
    p.str("view.t").tensor(pid("0", "FloatStorage", 24), 5, (3, 4), (1, 4))
    # a sliced view with a step: storage[1 + 6*i + 2*j]
    p.str("view.step").tensor(pid("0", "FloatStorage", 24), 1, (3, 2), (6, 2), v2=False)
    # a broadcast (stride 0) view and a 0-d tensor
    p.str("view.expand").tensor(pid("0", "FloatStorage", 24), 3, (2, 3), (0, 1))
    p.str("scalar").tensor(pid("0", "FloatStorage", 24), 23, (), ())
    p.str("bn.num_batches_tracked").tensor(pid("1", "LongStorage", 4), 2, (), ())
    p.str("longs").tensor(pid("1", "LongStorage", 4), 0, (4,), (1,))
    p.str("half").tensor(pid("2", "HalfStorage", 3), 0, (3,), (1,))
    p.str("empty").tensor(pid("0", "FloatStorage", 24), 0, (0, 5), (5, 1))
    p.setitems()
    return p.stop()


def _expected_state_dict():
    strided = np.lib.stride_tricks.as_strided
    f = BASE.itemsize
    return {
        "conv.weight": BASE.reshape(2, 3, 4),
        "view.t": strided(BASE[5:], (3, 4), (1 * f, 4 * f)),
        "view.step": strided(BASE[1:], (3, 2), (6 * f, 2 * f)),
        "view.expand": strided(BASE[3:], (2, 3), (0, f)),
        "scalar": np.array(BASE[23]),
        "bn.num_batches_tracked": np.array(LONGS[2]),
        "longs": LONGS,
        "half": HALF,
        "empty": np.zeros((0, 5), np.float32),
    }


def _check_state_dict(sd):
    exp = _expected_state_dict()
    assert list(sd) == list(exp)
    for k, v in exp.items():
        assert sd[k].dtype == v.dtype, k
        assert sd[k].shape == v.shape, k
        assert sd[k].flags.c_contiguous and sd[k].flags.writeable, k
        np.testing.assert_array_equal(sd[k], v, err_msg=k)
    # copies, not views of one shared storage
    sd["conv.weight"][0, 0, 0] = 99.0
    assert sd["view.expand"][0, 0] == BASE[3]


# ---------------------------------------------------------------------------
# (a) synthetic files
# ---------------------------------------------------------------------------


def test_synthetic_legacy_state_dict_roundtrip(tmp_path):
    path = tmp_path / "sd.pth"
    path.write_bytes(legacy_file(_state_dict_pickle(), [("0", BASE), ("1", LONGS), ("2", HALF)]))
    _check_state_dict(load_legacy_torch(path))
    obj, info = load_legacy_torch_object(path, return_info=True)
    assert info["format"] == "legacy"
    assert info["end_offset"] == path.stat().st_size
    assert info["storage_keys"] == ["0", "1", "2"]


def test_synthetic_legacy_storage_view_metadata(tmp_path):
    # old torch: a storage *view* (view_key, offset, size) of root storage "0"
    p = P().ordered_dict().mark()
    p.str("w").tensor(lambda q: q.storage_pid("FloatStorage", "0", 24, ("v1", 10, 6)), 1, (2, 2), (2, 1))
    p.str("full").tensor(lambda q: q.storage_pid("FloatStorage", "0", 24), 0, (24,), (1,))
    p.setitems()
    path = tmp_path / "views.pth"
    path.write_bytes(legacy_file(p.stop(), [("0", BASE)]))
    sd = load_legacy_torch(path)
    np.testing.assert_array_equal(sd["w"], BASE[11:15].reshape(2, 2))
    np.testing.assert_array_equal(sd["full"], BASE)


def test_synthetic_wrapped_state_dict(tmp_path):
    body = _state_dict_pickle()[2:-1]  # strip PROTO and STOP, reuse as a value
    for key in ("state_dict", "model", "net"):
        p = P().empty_dict().mark().str("epoch").int(7).str(key).raw(body)
        p.str("optimizer").empty_dict().setitems()
        path = tmp_path / f"{key}.pth"
        path.write_bytes(legacy_file(p.stop(), [("0", BASE), ("1", LONGS), ("2", HALF)]))
        _check_state_dict(load_legacy_torch(path))
        obj = load_legacy_torch_object(path)
        assert obj["epoch"] == 7
        _check_state_dict(find_state_dict(obj))


def _module(p: P, cls_module, cls_name, params=(), modules=(), declare=True):
    """Emit a pickled nn.Module the way torch.save(model) did (legacy format)."""
    if declare:
        p.mark().str("module").glob(cls_module, cls_name).str("/src/x.py").str("class X: pass").tuple().persid()
    else:
        p.glob(cls_module, cls_name)
    p.empty_tuple().newobj()
    p.empty_dict().mark()
    p.str("training").false()
    p.str("_parameters").ordered_dict().mark()
    for name, emit in params:
        p.str(name)
        emit(p)
    p.setitems()
    p.str("_buffers").ordered_dict()
    p.str("_modules").ordered_dict().mark()
    for name, emit in modules:
        p.str(name)
        emit(p)
    p.setitems()
    p.setitems().build()
    return p


def test_synthetic_full_module(tmp_path):
    def param(offset, size, stride):
        def emit(p):
            p.glob("torch.nn.parameter", "Parameter")
            p.mark().tensor(lambda q: q.storage_pid("FloatStorage", "0", 24), offset, size, stride).tuple()
            p.reduce()
            p.mark().raw(b"\x88").false().none().tuple().build()  # old Variable state
        return emit

    def conv(p):
        return _module(p, "torch.nn.modules.conv", "Conv2d",
                       params=[("weight", param(0, (2, 1, 2, 2), (8, 8, 4, 2))),
                               ("bias", lambda q: q.none())])

    def relu(p):
        return _module(p, "torch.nn.modules.activation", "ReLU")

    def seq(p):
        return _module(p, "torch.nn.modules.container", "Sequential",
                       modules=[("0", conv), ("1", relu), ("2", conv)])

    p = P().empty_dict().mark().str("epoch").int(50).str("model")
    _module(p, "mynet", "Net", params=[("scale", param(20, (4,), (1,)))],
            modules=[("body", seq), ("skip", lambda q: q.none())])
    p.setitems()
    path = tmp_path / "full.pth"
    path.write_bytes(legacy_file(p.stop(), [("0", BASE)]))

    obj = load_legacy_torch_object(path)
    assert isinstance(obj["model"], TorchModuleStub)
    assert obj["model"].qualname == "mynet.Net"
    sd = load_legacy_torch(path)
    assert list(sd) == ["scale", "body.0.weight", "body.2.weight"]
    np.testing.assert_array_equal(sd["scale"], BASE[20:24])
    np.testing.assert_array_equal(sd["body.0.weight"], BASE[0:16:2].reshape(2, 1, 2, 2))


def test_synthetic_zip_format(tmp_path):
    path = tmp_path / "new.pt"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr("archive/data.pkl", _state_dict_pickle(zip_format=True))
        zf.writestr("archive/byteorder", "little")
        zf.writestr("archive/data/0", BASE.astype("<f4").tobytes())
        zf.writestr("archive/data/1", LONGS.astype("<i8").tobytes())
        zf.writestr("archive/data/2", HALF.astype("<f2").tobytes())
        zf.writestr("archive/version", "3\n")
    _check_state_dict(load_legacy_torch(path))


def test_malformed_files_are_rejected(tmp_path):
    good = legacy_file(_state_dict_pickle(), [("0", BASE), ("1", LONGS), ("2", HALF)])
    (tmp_path / "trunc.pth").write_bytes(good[:-3])
    (tmp_path / "trailing.pth").write_bytes(good + b"\0")
    (tmp_path / "notorch.pkl").write_bytes(pickle.dumps({"a": 1}, protocol=2))
    for name, msg in (("trunc.pth", "truncated"), ("trailing.pth", "trailing"),
                      ("notorch.pkl", "magic")):
        with pytest.raises(LegacyTorchError, match=msg):
            load_legacy_torch(tmp_path / name)
    # a tensor that would read past the end of its storage
    p = P().ordered_dict().mark()
    p.str("w").tensor(lambda q: q.storage_pid("FloatStorage", "0", 24), 20, (2, 3), (3, 1))
    p.setitems()
    (tmp_path / "oob.pth").write_bytes(legacy_file(p.stop(), [("0", BASE)]))
    with pytest.raises(LegacyTorchError, match="past the end"):
        load_legacy_torch(tmp_path / "oob.pth")
    # a storage claiming far more elements than the file holds (no huge allocation)
    p = P().ordered_dict().mark()
    p.str("w").tensor(lambda q: q.storage_pid("FloatStorage", "0", 2**31 - 1), 0, (1,), (1,))
    p.setitems()
    (tmp_path / "huge.pth").write_bytes(legacy_file(p.stop(), [("0", BASE)]))
    with pytest.raises(LegacyTorchError, match="more bytes than the file holds"):
        load_legacy_torch(tmp_path / "huge.pth")


# ---------------------------------------------------------------------------
# (b) malicious pickles
# ---------------------------------------------------------------------------


class _Evil:
    def __init__(self, func, arg):
        self.func, self.arg = func, arg

    def __reduce__(self):
        return self.func, (self.arg,)


@pytest.mark.parametrize("where", ["object", "header"])
def test_malicious_os_system_is_refused(tmp_path, where):
    marker = tmp_path / "pwned"
    payload = pickle.dumps({"w": _Evil(os.system, f"touch {marker}")}, protocol=2)
    if where == "object":
        data = legacy_file(payload, [])
    else:  # payload in place of the magic number
        data = payload
    path = tmp_path / "evil.pth"
    path.write_bytes(data)
    with pytest.raises(UnsafePickleError, match=r"refusing to call non-whitelisted global '(os|posix)\.system'"):
        load_legacy_torch(path)
    assert not marker.exists()


def test_malicious_eval_and_exec_are_refused(tmp_path):
    for func in (eval, exec):
        path = tmp_path / f"{func.__name__}.pth"
        path.write_bytes(legacy_file(pickle.dumps([_Evil(func, "open('x','w')")], protocol=2), []))
        with pytest.raises(UnsafePickleError, match=func.__name__):
            load_legacy_torch_object(path)


def test_non_module_objects_of_unknown_classes_are_refused(tmp_path):
    # NEWOBJ of an unknown class is inert, but restoring non-Module state is refused
    p = P().glob("subprocess", "Popen").empty_tuple().newobj()
    p.empty_dict().mark().str("args").str("rm -rf /").setitems().build()
    path = tmp_path / "popen.pth"
    path.write_bytes(legacy_file(p.stop(), []))
    with pytest.raises(UnsafePickleError, match="subprocess.Popen"):
        load_legacy_torch_object(path)
    # NEWOBJ with arguments is refused too
    p = P().glob("subprocess", "Popen").mark().str("ls").tuple().newobj()
    path.write_bytes(legacy_file(p.stop(), []))
    with pytest.raises(UnsafePickleError, match="subprocess.Popen"):
        load_legacy_torch_object(path)


def test_state_cannot_be_set_on_whitelisted_helpers(tmp_path):
    # BUILD on a whitelisted function would otherwise let a file patch the
    # reader (e.g. its __defaults__) for later loads
    p = P().glob("torch._utils", "_rebuild_tensor_v2")
    p.none().empty_dict().mark().str("__defaults__").empty_tuple().setitems().raw(b"\x86").build()
    path = tmp_path / "patch.pth"
    path.write_bytes(legacy_file(p.stop(), []))
    with pytest.raises(UnsafePickleError, match="refusing to set pickle state"):
        load_legacy_torch_object(path)


# ---------------------------------------------------------------------------
# (c) real reference files (../shared), checksums measured WITH torch
# ---------------------------------------------------------------------------

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "reference_weights"
needs_shared = pytest.mark.skipif(
    not SHARED.is_dir(), reason=f"reference weights not available at {SHARED}"
)

# (number of tensors, float64 sum of every tensor, float64 sum of squares), measured
# with torch 2.13.0: torch.load(path, map_location='cpu', weights_only=False) in a
# scratch venv (VDSR with encoding='latin1' and a stub `vdsr` module).
TORCH_CHECKSUMS = {
    "kligvasser__xUnit/denoising/checkpoints/xdncnn_res_f64k3k9_s25.pkl": (126, 17652.631726324387, 12157419.935272895),
    "kligvasser__xUnit/denoising/checkpoints/xdncnn_res_f64k3k9_s50.pkl": (126, 1675.8247531956708, 3423.300043813401),
    "kligvasser__xUnit/super_resolution/checkpoints/xsrcnnc_s3_c42c32.pkl": (26, 138.5654078322127, 697.4417333842133),
    "kligvasser__xUnit/super_resolution/checkpoints/xsrcnnc_s4_c42c32.pkl": (26, 136.27701922555752, 693.4495815672661),
    "kligvasser__xUnit/super_resolution/checkpoints/xsrcnnf_s3_k9k3k5.pkl": (26, 144.65977721452236, 586.6103192263754),
    "kligvasser__xUnit/super_resolution/checkpoints/xsrcnnf_s4_k9k3k5.pkl": (26, 192.4485486765411, 837.565137755484),
    "cszn__KAIR/model_zoo/dncnn_25.pth": (34, -464.571679071822, 2044.3745620650918),
    "twtygqyy__pytorch-vdsr/model/model_epoch_50.pth": (20, -34.96879280762064, 449.78944480688256),
    "drorsimon__CSCNet/trained_models/sigma_25.model": (4, 5.049975749671923, 405.35622088309077),
    "akamaster__pytorch_resnet_cifar10/pretrained_models/resnet20-12fca82f.th": (97, 139.7826495598208, 10987.817166808309),
    "grishavak__LIDIA-denoiser/models/model_state_sigma_25_bw.pt": (136, 47329918.13592227, 35474956006705.37),
}


BN = ("weight", "bias", "running_mean", "running_var")


def _xunit_block(prefix, cin, cout, k, dw=9):
    """features: conv; module (xUnit gate): BN, ReLU, depthwise dw x dw conv, BN."""
    return {
        f"{prefix}.features.0.weight": (cout, cin, k, k),
        f"{prefix}.features.0.bias": (cout,),
        **{f"{prefix}.module.0.{n}": (cout,) for n in BN},
        f"{prefix}.module.2.weight": (cout, 1, dw, dw),
        f"{prefix}.module.2.bias": (cout,),
        **{f"{prefix}.module.3.{n}": (cout,) for n in BN},
    }


def _xsrcnn_shapes(c1, c2, k2):
    return {**_xunit_block("md1.0", 1, c1, 9), **_xunit_block("md2.0", c1, c2, k2),
            "joints.weight": (1, c2, 5, 5), "joints.bias": (1,)}


def _xdncnn_shapes():
    shapes = dict(_xunit_block("md1.0", 1, 64, 3))
    for i in range(2, 9):
        shapes.update({f"md{i}.0.{n}": (64,) for n in BN})
        shapes.update(_xunit_block(f"md{i}.1", 64, 64, 3))
    shapes.update({"joints.weight": (1, 64, 3, 3), "joints.bias": (1,)})
    return shapes


EXPECTED_SHAPES = {
    "kligvasser__xUnit/denoising/checkpoints/xdncnn_res_f64k3k9_s25.pkl": _xdncnn_shapes(),
    "kligvasser__xUnit/denoising/checkpoints/xdncnn_res_f64k3k9_s50.pkl": _xdncnn_shapes(),
    "kligvasser__xUnit/super_resolution/checkpoints/xsrcnnc_s3_c42c32.pkl": _xsrcnn_shapes(42, 32, 5),
    "kligvasser__xUnit/super_resolution/checkpoints/xsrcnnc_s4_c42c32.pkl": _xsrcnn_shapes(42, 32, 5),
    "kligvasser__xUnit/super_resolution/checkpoints/xsrcnnf_s3_k9k3k5.pkl": _xsrcnn_shapes(64, 32, 3),
    "kligvasser__xUnit/super_resolution/checkpoints/xsrcnnf_s4_k9k3k5.pkl": _xsrcnn_shapes(64, 32, 3),
    "cszn__KAIR/model_zoo/dncnn_25.pth": {
        **{f"model.{2 * i}.{n}": ((64, 1 if i == 0 else 64, 3, 3) if n == "weight" else (64,))
           for i in range(16) for n in ("weight", "bias")},
        "model.32.weight": (1, 64, 3, 3), "model.32.bias": (1,),
    },
    "twtygqyy__pytorch-vdsr/model/model_epoch_50.pth": {
        **{f"residual_layer.{i}.conv.weight": (64, 64, 3, 3) for i in range(18)},
        "input.weight": (64, 1, 3, 3), "output.weight": (1, 64, 3, 3),
    },
}


@pytest.mark.shared
@needs_shared
@pytest.mark.parametrize("rel", sorted(TORCH_CHECKSUMS))
def test_reference_files_match_torch(rel):
    path = SHARED / rel
    if not path.exists():
        pytest.skip(f"{rel} not present in {SHARED}")
    obj, info = load_legacy_torch_object(path, return_info=True)
    assert info["format"] == "legacy"
    assert info["end_offset"] == path.stat().st_size  # consumed exactly to EOF
    sd = find_state_dict(obj)
    n, total, squares = TORCH_CHECKSUMS[rel]
    assert len(sd) == n
    got_total = sum(float(v.astype(np.float64).sum()) for v in sd.values())
    got_squares = sum(float(np.square(v.astype(np.float64)).sum()) for v in sd.values())
    assert got_total == pytest.approx(total, rel=1e-6, abs=1e-9)
    assert got_squares == pytest.approx(squares, rel=1e-6)
    if rel in EXPECTED_SHAPES:
        exp = EXPECTED_SHAPES[rel]
        assert [(k, v.shape) for k, v in sd.items()] == list(exp.items())
    for k, v in sd.items():
        expected_dtype = np.int64 if k.endswith("num_batches_tracked") else np.float32
        assert v.dtype == expected_dtype, k


@pytest.mark.shared
@needs_shared
def test_reference_full_module_and_python2_pickle():
    path = SHARED / "twtygqyy__pytorch-vdsr/model/model_epoch_50.pth"
    if not path.exists():
        pytest.skip(f"{path} not present")
    obj = load_legacy_torch_object(path)
    assert obj["epoch"] == 50
    model = obj["model"]
    assert isinstance(model, TorchModuleStub) and model.qualname == "vdsr.Net"
    assert model._modules["residual_layer"].qualname == "torch.nn.modules.container.Sequential"
