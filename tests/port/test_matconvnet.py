"""The MatConvNet v7.3 MAT-file reader (zoo.port.matconvnet) and the DnCNN port of the authors'
MatConvNet files (cszn/DnCNN ``model/specifics/sigma=*.mat``, ``model/GD_Gray_Blind.mat``).

(a) a synthetic SimpleNN written the way MATLAB writes v7.3 files (512-byte text header, HDF5
    with column-major arrays, trailing singleton dimensions dropped, cell arrays as object
    references, strings as uint16 'char' arrays) reads back into the PyTorch layout and ports
    into the Keras DnCNN with the output of a numpy forward pass;
(b) wrong files and wrong architectures are refused with one clear message;
(c) with ../shared: the authors' sigma 25 file gives bit for bit the weights of KAIR's
    dncnn_25.pth (KAIR says it converted them from these files), and the sigma 15, blind and
    FFDNet files reproduce Set12 PSNRs measured with these ports (full-Set12 numbers in
    docs/ports.md: 32.86 / 30.45 / 27.20 and blind 32.69 / 30.38 / 27.22, paper 32.86 / 30.44 /
    27.18 and 32.68 / 30.36 / 27.21; FFDNet 32.76 / 30.44 / 27.32).
"""

from __future__ import annotations

import subprocess
import sys

import h5py
import numpy as np
import pytest
from conftest import REPO, clean_env, shared_path
from test_port_denoisers import conv2d, kair_forward, kair_state_dict

import zoo
from zoo.errors import WeightsMismatchError, ZooError
from zoo.port import read_reference
from zoo.port.mappings import PORTS

HEADER = b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Mon Dec  7 2026 HDF5 schema 1.00 ."


def _matlab(f, array, cls="double"):
    """Store ``array`` (MATLAB shape) as MATLAB does: reversed axes, trailing singleton dims dropped."""
    array = np.asarray(array)
    shape = list(array.shape)
    while len(shape) > 2 and shape[-1] == 1:
        shape.pop()
    data = array.reshape(shape).transpose(*reversed(range(len(shape))))
    name = f"#refs#/{len(f['#refs#'])}"
    ds = f.create_dataset(name, data=data)
    ds.attrs["MATLAB_class"] = np.bytes_(cls)
    return ds


def _char(f, text):
    return _matlab(f, np.array([[ord(c) for c in text]], np.uint16), "char")


def write_simplenn(path, layers, header=HEADER):
    """A MATLAB v7.3 MAT-file holding ``net.layers`` = the given (type, name, weights, options) structs."""
    with h5py.File(path, "w", userblock_size=512) as f:
        f.create_group("#refs#")
        refs = []
        for kind, name, weights, options in layers:
            g = f.create_group(f"#refs#/layer_{len(refs)}")
            g["type"], g["name"] = _char(f, kind), _char(f, name)
            for key, value in options.items():
                g[key] = _matlab(f, np.array([[value]], np.float64))
            cell = np.array([[_matlab(f, w, "single").ref for w in weights]], dtype=h5py.ref_dtype)
            if weights:
                g.create_dataset("weights", data=cell.T)
            refs.append(g.ref)
        f.create_group("net").create_dataset("layers", data=np.array([refs], dtype=h5py.ref_dtype))
    with open(path, "r+b") as raw:
        raw.write(header.ljust(128))


def dncnn_as_matconvnet(sd, depth=17):
    """KAIR-layout tensors as MatConvNet layers: filters (kh, kw, in, out), biases (1, out)."""
    layers = []
    for i in range(depth):
        w = sd[f"model.{2 * i}.weight"].transpose(2, 3, 1, 0)  # (out, in, kh, kw) -> (kh, kw, in, out)
        b = sd[f"model.{2 * i}.bias"][None]
        layers.append(("conv", f"layer{3 * i + 1}", [w, b], {"pad": 1, "stride": 1}))
        if i < depth - 1:
            layers.append(("relu", f"layer{3 * i + 2}", [], {"leak": 0}))
    return layers


def test_reader_restores_the_pytorch_layout(tmp_path):
    sd = kair_state_dict(depth=17, seed=4)
    write_simplenn(tmp_path / "net.mat", dncnn_as_matconvnet(sd))
    got = read_reference(tmp_path / "net.mat")
    assert str(got["layer1.type"]) == "conv" and str(got["layer2.type"]) == "relu"
    np.testing.assert_array_equal(got["layer1.weight"], sd["model.0.weight"])  # (64, 1, 3, 3): in = 1 kept
    np.testing.assert_array_equal(got["layer49.weight"], sd["model.32.weight"])  # (1, 64, 3, 3): out = 1 dropped
    np.testing.assert_array_equal(got["layer49.bias"], sd["model.32.bias"])
    assert got["layer1.pad"].tolist() == [1.0] and got["layer2.leak"].tolist() == [0.0]


def test_dncnn_port_of_a_matconvnet_net_matches_the_forward_pass(tmp_path):
    sd = kair_state_dict(depth=17, seed=5)
    sd["model.4.weight"][:, :, 0, 2] += 0.3  # an asymmetric filter: a kh/kw swap would show
    write_simplenn(tmp_path / "net.mat", dncnn_as_matconvnet(sd))
    model = zoo.load("dncnn", weights=None, batch_norm=False)
    PORTS["dncnn"](read_reference(tmp_path / "net.mat"), model)
    y = np.random.default_rng(6).uniform(0, 1, (1, 1, 13, 10))
    want = kair_forward(sd, y)[:, 0]
    got = np.asarray(model(y.transpose(0, 2, 3, 1).astype(np.float32)))[..., 0]
    np.testing.assert_allclose(got, want, rtol=0, atol=3e-5)


def test_dncnn_port_checks_the_structure(tmp_path):
    sd = kair_state_dict(depth=17, seed=7)
    write_simplenn(tmp_path / "net.mat", dncnn_as_matconvnet(sd))
    state = read_reference(tmp_path / "net.mat")
    with pytest.raises(WeightsMismatchError, match="MatConvNet DnCNN weights have batch norm merged"):
        PORTS["dncnn"](state, zoo.load("dncnn", weights=None))
    with pytest.raises(WeightsMismatchError, match=r"33 layers \(17 conv, 16 relu\); DnCNN of depth 20"):
        PORTS["dncnn_b"](state, zoo.load("dncnn_b", weights=None, batch_norm=False))
    leaky = dncnn_as_matconvnet(sd)
    leaky[3] = ("relu", "layer5", [], {"leak": 0.1})
    leaky[4] = ("conv", "layer7", leaky[4][2], {"pad": 1, "stride": 2})
    write_simplenn(tmp_path / "leaky.mat", leaky)
    with pytest.raises(WeightsMismatchError, match=r"layer5: ReLU leak \[0.1\].*layer7: stride \[2.0\]"):
        PORTS["dncnn"](read_reference(tmp_path / "leaky.mat"), zoo.load("dncnn", weights=None, batch_norm=False))


def test_files_that_are_not_v73_matconvnet_nets_are_refused(tmp_path):
    (tmp_path / "v5.mat").write_bytes(b"MATLAB 5.0 MAT-file, Platform: PCWIN64".ljust(256, b"\0"))
    (tmp_path / "junk.mat").write_bytes(b"not a mat file at all")
    with h5py.File(tmp_path / "empty.mat", "w", userblock_size=512) as f:
        f.create_dataset("x", data=np.zeros(3))
    with open(tmp_path / "empty.mat", "r+b") as raw:
        raw.write(HEADER)
    for name, message in (("v5.mat", "MATLAB v5 MAT-file; only v7.3"), ("junk.mat", "not a MATLAB v7.3 MAT-file"),
                          ("empty.mat", r"has no net.layers.*variables: \['x'\]"), ("absent.mat", "no such file")):
        with pytest.raises(ZooError, match=message):
            read_reference(tmp_path / name)


def test_tool_reads_a_mat_file_and_reports_bad_ones_in_one_line(tmp_path):
    write_simplenn(tmp_path / "net.mat", dncnn_as_matconvnet(kair_state_dict(depth=17, seed=8)))
    (tmp_path / "v5.mat").write_bytes(b"MATLAB 5.0 MAT-file".ljust(256, b"\0"))

    def tool(ref, out):
        return subprocess.run([sys.executable, str(REPO / "tools" / "port_weights.py"), str(ref), "--arch", "dncnn",
                               "--option", "batch_norm=false", "--out", str(out)],
                              env=clean_env(), capture_output=True, text=True, timeout=300, cwd=REPO)

    ok = tool(tmp_path / "net.mat", tmp_path / "ok.weights.h5")
    assert ok.returncode == 0 and "555137 parameters" in ok.stdout, ok.stderr
    bad = tool(tmp_path / "v5.mat", tmp_path / "bad.weights.h5")
    assert bad.returncode == 2 and "only v7.3" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "bad.weights.h5").exists()


# ----------------------------------------------------------------------------- FFDNet


def ffdnet_matconvnet(depth=15, seed=0):
    """FFDNet_gray.mat's layer list with random weights: SubP(0.5), concat, convs, SubP(2)."""
    rng = np.random.default_rng(seed)
    layers = [("SubP", "layer1", [], {"scale": 0.5}), ("concat", "layer2", [], {})]
    for i in range(depth):
        c_in, c_out = (5 if i == 0 else 64), (4 if i == depth - 1 else 64)
        w = rng.normal(0, np.sqrt(2.0 / (9 * c_in)), (3, 3, c_in, c_out)).astype(np.float32)
        w[0, 2] += 0.2 * (i == 0)  # asymmetric: a kh/kw swap would show
        b = rng.normal(0, 0.05, (1, c_out)).astype(np.float32)
        layers.append(("conv", f"layer{3 + 2 * i}", [w, b], {"pad": 1, "stride": 1}))
        if i < depth - 1:
            layers.append(("relu", f"layer{4 + 2 * i}", [], {"leak": 0}))
    return layers + [("SubP", f"layer{3 + 2 * depth}", [], {"scale": 2.0})]


def ffdnet_forward(layers, image, sigma):
    """The authors' forward pass on an even-sized (H, W) image, MATLAB's column-major 2x2 folding:
    sub-image k holds the pixels at block offset (k % 2, k // 2)."""
    offsets = [(k % 2, k // 2) for k in range(4)]
    x = np.stack([image[i::2, j::2] for i, j in offsets] + [np.full(image[::2, ::2].shape, sigma / 255)])[None]
    convs = [(w, b) for kind, _, wb, _ in layers if kind == "conv" for w, b in [wb]]
    for n, (w, b) in enumerate(convs):
        x = conv2d(x, w.transpose(3, 2, 0, 1).astype(np.float64), b.reshape(-1).astype(np.float64))
        x = np.maximum(x, 0) if n < len(convs) - 1 else x
    out = np.zeros(image.shape)
    for k, (i, j) in enumerate(offsets):
        out[i::2, j::2] = x[0, k]
    return out


@pytest.mark.parametrize("sigma", [10, 60])
def test_ffdnet_port_matches_the_authors_forward_pass(tmp_path, sigma):
    layers = ffdnet_matconvnet(depth=4, seed=sigma)
    write_simplenn(tmp_path / "ffd.mat", layers)
    model = zoo.load("ffdnet", weights=None, depth=4, sigma=sigma)
    PORTS["ffdnet"](read_reference(tmp_path / "ffd.mat"), model)
    image = np.random.default_rng(1).uniform(0, 1, (14, 10))
    want = ffdnet_forward(layers, image, sigma)
    got = np.asarray(model(image[None, ..., None].astype(np.float32)))[0, ..., 0]
    np.testing.assert_allclose(got, want, rtol=0, atol=3e-5)


def test_ffdnet_port_checks_the_structure(tmp_path):
    write_simplenn(tmp_path / "ffd.mat", ffdnet_matconvnet(depth=4))
    state = read_reference(tmp_path / "ffd.mat")
    with pytest.raises(WeightsMismatchError, match="FFDNet of depth 15 is SubP, concat, 15 convs"):
        PORTS["ffdnet"](state, zoo.load("ffdnet", weights=None))
    with pytest.raises(WeightsMismatchError, match=r"it has 10 layers \(4 conv, 3 relu, SubP, concat\)"):
        PORTS["dncnn"](state, zoo.load("dncnn", weights=None, batch_norm=False))
    with pytest.raises(WeightsMismatchError, match="reads the authors' MatConvNet file"):
        PORTS["ffdnet"](kair_state_dict(depth=4), zoo.load("ffdnet", weights=None, depth=4))
    bad = ffdnet_matconvnet(depth=4)
    bad[0] = ("SubP", "layer1", [], {"scale": 0.25})
    write_simplenn(tmp_path / "bad.mat", bad)
    with pytest.raises(WeightsMismatchError, match=r"layer1: SubP scale \[0.25\], the network needs scale 0.5 here"):
        PORTS["ffdnet"](read_reference(tmp_path / "bad.mat"), zoo.load("ffdnet", weights=None, depth=4))


DNCNN = ("reference_weights", "cszn__DnCNN", "model")


@pytest.mark.shared
def test_authors_sigma25_file_is_kairs_dncnn_25():
    mat = zoo.load("dncnn", weights=None, batch_norm=False)
    PORTS["dncnn"](read_reference(shared_path(*DNCNN, "specifics", "sigma=25.mat")), mat)
    kair = zoo.load("dncnn", weights=None, batch_norm=False)
    PORTS["dncnn"](read_reference(shared_path("reference_weights", "cszn__KAIR", "model_zoo", "dncnn_25.pth")), kair)
    for a, b in zip(mat.weights, kair.weights, strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b), err_msg=a.path)


# First two Set12 images, zoo.eval_dn.PROTOCOL (seed 0), measured with these ports.
FIRST2 = [(("specifics", "sigma=15.mat"), "dncnn", 15, 33.7995),
          (("GD_Gray_Blind.mat",), "dncnn_b", 15, 33.5383), (("GD_Gray_Blind.mat",), "dncnn_b", 50, 28.5543)]


@pytest.mark.shared
@pytest.mark.parametrize("file, arch, sigma, expected", FIRST2, ids=["dncnn_s15", "dncnn_b_s15", "dncnn_b_s50"])
def test_authors_matconvnet_files_on_two_set12_images(file, arch, sigma, expected):
    from zoo.eval_dn import evaluate_denoiser, model_predict

    shared_path("denoise_set12")
    model = zoo.load(arch, weights=None, batch_norm=False)
    PORTS[arch](read_reference(shared_path(*DNCNN, *file)), model)
    got = evaluate_denoiser(model_predict(model), sigma, limit=2)
    assert got["num_images"] == 2 and abs(got["psnr"] - expected) <= 0.02, got


FFDNET_FIRST2 = {15: 33.7300, 50: 28.6902}  # first two Set12 images, measured with this port


@pytest.mark.shared
@pytest.mark.parametrize("sigma", sorted(FFDNET_FIRST2))
def test_authors_ffdnet_file_on_two_set12_images(tmp_path, sigma):
    from zoo.eval_dn import evaluate_denoiser, model_predict

    shared_path("denoise_set12")
    state = read_reference(shared_path("reference_weights", "cszn__FFDNet", "models", "FFDNet_gray.mat"))
    model = zoo.load("ffdnet", weights=None, sigma=sigma)
    PORTS["ffdnet"](state, model)
    got = evaluate_denoiser(model_predict(model), sigma, limit=2)
    assert got["num_images"] == 2 and abs(got["psnr"] - FFDNET_FIRST2[sigma]) <= 0.02, got
