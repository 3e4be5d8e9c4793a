"""Porting LIDIA / LIDIA-S (grishavak/LIDIA-denoiser, ``models/model_state_*_bw.pt``).

(a) a numpy re-implementation of the authors' PyTorch inference (``code/modules.py``:
    ``NonLocalDenoiser.forward(train=False)`` -- torch-layout state dict, ``unfold`` / ``fold``,
    the four polyphase scale-1 searches of ``find_nn`` with their index arithmetic, NCHW) gives
    the same image as the Keras model ported from the same state dict: synthetic weights (no
    ../shared needed) for both variants, and the authors' sigma-25 weights on a noisy crop;
(b) the port consumes every tensor (strict both ways) and refuses the wrong variant;
(c) with ../shared: the authors' sigma-25 LIDIA on a crop of a Set12 image with the noise and
    scoring of zoo.eval_dn.PROTOCOL gives the PSNR measured with this port.

One deliberate difference from a literal transcription: the reference sums the 7 x 7 distance box
and the 3 x 3 blur in mirror-symmetric order, as the layer does.  The reflect padding makes
exactly equidistant candidate pairs (mirror images about the image border), whose order torch
leaves to float rounding noise; with symmetric sums they tie exactly in float64 and float32 alike
and both take the lower candidate number, so the comparison is deterministic.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import shared_path

import zoo
from zoo.errors import WeightsMismatchError
from zoo.port.mappings import PORTS

LIDIA_DIR = ("reference_weights", "grishavak__LIDIA-denoiser", "models")
WINDOW = 29  # 2 * 14 + 1 search offsets per axis
BLUR = np.outer([0.25, 0.5, 0.25], [0.25, 0.5, 0.25])

# --------------------------------------------------------------- the authors' forward pass, numpy


def unfold(img, k=7, dil=1):
    """torch ``unfold`` of one channel: ``(H, W) -> (k*k, L)``, L row-major positions."""
    span = dil * (k - 1) + 1
    ph, pw = img.shape[0] - span + 1, img.shape[1] - span + 1
    return np.stack([img[a * dil:a * dil + ph, b * dil:b * dil + pw].reshape(-1)
                     for a in range(k) for b in range(k)])


def fold(cols, h, w, k=7, dil=1):
    """torch ``fold`` of one channel: ``(k*k, L) -> (h, w)``, overlapping values summed."""
    span = dil * (k - 1) + 1
    ph, pw = h - span + 1, w - span + 1
    out = np.zeros((h, w))
    for a in range(k):
        for b in range(k):
            out[a * dil:a * dil + ph, b * dil:b * dil + pw] += cols[a * k + b].reshape(ph, pw)
    return out


def symmetric_sum(taps):
    """``sum(taps)`` added in the mirror-symmetric order ``mid + (t0 + tn) + (t1 + tn-1) + ..``:
    mirror-image windows give bitwise equal sums (see the module docstring)."""
    n = len(taps)
    total = taps[n // 2] if n % 2 else 0.0
    for k in range(n // 2):
        total = total + (taps[k] + taps[n - 1 - k])
    return total


def conv_valid(img, kernel):
    """"Valid" 2-D cross-correlation with a separable symmetric kernel (the 7 x 7 box, the 3 x 3
    blur), rows then columns, each 1-D pass summed symmetrically."""
    kh, kw = kernel.shape
    col, row = kernel[:, kw // 2] / kernel[kh // 2, kw // 2], kernel[kh // 2]
    assert np.allclose(np.outer(col, row), kernel)
    h, w = img.shape[0] - kh + 1, img.shape[1] - kw + 1
    v = symmetric_sum([col[a] * img[a:a + h] for a in range(kh)])
    return symmetric_sum([row[b] * v[:, b:b + w] for b in range(kw)])


def image_params(shape, patch_w, neigh_pad):
    """The authors' ``get_image_params`` (one image)."""
    pixels_h, pixels_w = shape[0] - 2 * neigh_pad, shape[1] - 2 * neigh_pad
    return {"pixels_h": pixels_h, "pixels_w": pixels_w, "patches_h": pixels_h - (patch_w - 1),
            "patches_w": pixels_w - (patch_w - 1), "pad_patches_w": shape[1] - (patch_w - 1)}


def find_nn(image_pad, prm, pad_patches_w_full, scale=0, case=None):
    """The authors' ``find_nn``: all 29 x 29 distances, the 14 smallest (ties: lower index)."""
    ph, pw = prm["pixels_h"], prm["pixels_w"]
    y = image_pad[14:14 + ph, 14:14 + pw]
    dist = np.empty((prm["patches_h"], prm["patches_w"], WINDOW * WINDOW))
    for row in range(WINDOW):
        for col in range(WINDOW):
            shifted = image_pad[row:row + ph, col:col + pw]
            dist[..., row * WINDOW + col] = conv_valid((shifted - y) ** 2, np.ones((7, 7)))
    order = np.argsort(dist, axis=-1, kind="stable")[..., :14]
    top = np.take_along_axis(dist, order, -1)
    rows, cols = order // WINDOW, order % WINDOW
    r = np.arange(prm["patches_h"])[:, None, None]
    c = np.arange(prm["patches_w"])[None, :, None]
    if scale == 0:
        rows, cols = rows + r, cols + c
    else:
        dr, dc = {"00": (0, 0), "10": (1, 0), "01": (0, 1), "11": (1, 1)}[case]
        rows, cols = rows * 2 + dr + r * 2, cols * 2 + dc + c * 2
    return top, rows * pad_patches_w_full + cols


def lidia_reference(sd, image01, small=False):
    """``NonLocalDenoiser(pad_offs, ArchitectureOptions(rgb=False, small_network=small))`` with
    ``patch_denoise_net.load_state_dict(sd)``, ``forward(image, train=False)`` on one grey image
    in [0, 1] (mapped to the authors' [-1, 1] and back); float64, not clipped."""
    sd = {k: np.asarray(v, np.float64) for k, v in sd.items()}
    net = "separable_fc_net."
    x = image01.astype(np.float64) * 2 - 1
    mean = x.mean()
    x = x - mean

    # scale 0: pad_crop0, find_nn, unfold + gather, patch variance
    n0 = np.pad(np.pad(x, 6, mode="reflect"), 14, constant_values=-1.0)
    p0 = image_params(n0.shape, 7, 14)
    d0, i0 = find_nn(n0, p0, p0["pad_patches_w"])
    pn0 = unfold(n0).T[i0.reshape(-1)].reshape(-1, 14, 49)
    f0 = np.concatenate([d0.reshape(-1, 14)[:, 1:], pn0[:, 0].std(-1, ddof=1)[:, None] ** 2 * 49], -1)

    # scale 1: pad_crop1 reflect, bilinear conv, pad_crop1 constant, four polyphase searches
    n1 = np.pad(conv_valid(np.pad(x, 10, mode="reflect"), sd[net + "agg1.bilinear_conv.weight"][0, 0]),
                28, constant_values=-1.0)
    p1 = image_params(n1.shape, 13, 28)
    d1 = np.full((p1["patches_h"], p1["patches_w"], 14), np.nan)
    i1 = np.zeros(d1.shape, np.int64)
    for case, (a, b) in (("00", (0, 0)), ("10", (1, 0)), ("01", (0, 1)), ("11", (1, 1))):
        sub = n1[a::2, b::2]
        d, i = find_nn(sub, image_params(sub.shape, 7, 14), p1["pad_patches_w"], scale=1, case=case)
        d1[a::2, b::2], i1[a::2, b::2] = d, i
    assert not np.isnan(d1).any()
    pn1 = unfold(n1, dil=2).T[i1.reshape(-1)].reshape(-1, 14, 49)
    f1 = np.concatenate([d1.reshape(-1, 14)[:, 1:], pn1[:, 0].std(-1, ddof=1)[:, None] ** 2 * 49], -1)

    def bn(v, prefix, axis):
        shape = [1] * v.ndim
        shape[axis] = -1
        g, b, m, var = (sd[f"{prefix}.{k}"].reshape(shape) for k in ("weight", "bias", "running_mean", "running_var"))
        return (v - m) / np.sqrt(var + 1e-5) * g + b

    def ver_hor(v, prefix):
        v = v @ sd[prefix + ".ver.weight"].T
        v = (v.swapaxes(-1, -2) @ sd[prefix + ".hor.weight"].T).swapaxes(-1, -2)
        return v + sd[prefix + ".b"]

    def ver_hor_bn_re(v, prefix, with_bn):
        v = ver_hor(v, prefix + ".ver_hor")
        if with_bn:
            v = bn(v, prefix + ".bn", -2)
        return np.maximum(v, 0)

    def fc_net(v, prefix):
        for layer in range(6):
            v = np.maximum(bn(v @ sd[f"{prefix}.fc{layer}.weight"].T, f"{prefix}.bn{layer}", -1), 0)
        return v @ sd[prefix + ".fc_out.weight"].T + sd[prefix + ".fc_out.bias"]

    def part1(v, s):
        prefix = f"{net}sep_part1_s{s}"
        v = ver_hor_bn_re(v, prefix + ".ver_hor_bn_re0", False)
        if not small:
            a = sd[prefix + ".a"]
            v = a * v + (1 - a) * ver_hor_bn_re(v, prefix + ".ver_hor_bn_re1", True)
        return v

    w0 = fc_net(np.exp(-np.abs(sd["alpha0"]) * f0), "weights_net0")[..., None]
    w1 = fc_net(np.exp(-np.abs(sd["alpha1"]) * f1), "weights_net1")[..., None]
    w1_first = w1[:, 0:1, :]
    x0, x1 = part1(pn0 * w0, 0), part1(pn1 * w1, 1)

    y0 = ver_hor(x0, net + "ver_hor_agg0_pre")[:, 0].T  # Aggregation0
    y0 = fold(y0, p0["pixels_h"], p0["pixels_w"]) / fold(np.ones_like(y0), p0["pixels_h"], p0["pixels_w"])
    y0 = ver_hor_bn_re(unfold(y0).T[:, None, :], net + "ver_hor_bn_re_agg0_post", False)
    y1 = (ver_hor(x1, net + "ver_hor_agg1_pre") / w1_first)[:, 0].T  # Aggregation1
    y1 = fold(y1, p1["pixels_h"], p1["pixels_w"], dil=2) / fold(np.ones_like(y1), p1["pixels_h"], p1["pixels_w"], dil=2)
    y1 = conv_valid(np.pad(y1, 1, mode="reflect"), sd[net + "agg1.bilinear_conv.weight"][0, 0])
    y1 = ver_hor_bn_re(w1_first * unfold(y1, dil=2).T[:, None, :], net + "ver_hor_bn_re_agg1_post", False)

    v = ver_hor_bn_re(np.concatenate([x0, x1, y0, y1], axis=-2), net + "sep_part2.ver_hor_bn_re2", True)
    if not small:
        a = sd[net + "sep_part2.a"]
        v = a * v + (1 - a) * ver_hor_bn_re(v, net + "sep_part2.ver_hor_bn_re3", True)
    noise = ver_hor(v, net + "sep_part2.ver_hor_out")[:, 0]
    patches = pn0[:, 0] - noise
    weights = np.exp(-np.abs(sd["beta"]) * ((patches - patches.mean(-1, keepdims=True)) ** 2).mean(-1, keepdims=True))
    num = fold((patches * weights).T, p0["pixels_h"], p0["pixels_w"])
    den = fold((weights * np.ones((1, 49))).T, p0["pixels_h"], p0["pixels_w"])
    out = num[6:-6, 6:-6] / den[6:-6, 6:-6] + mean
    return (out + 1) / 2


# ----------------------------------------------------------------------- synthetic state dicts


def lidia_state_dict(small=False, seed=0):
    """A state dict in the authors' layout (names and torch shapes of ``PatchDenoiseNet``) with
    random weights of a sensible scale (the outputs stay near the image)."""
    rng = np.random.default_rng(seed)
    sd = {}

    def f32(a):
        return np.asarray(a, np.float32)

    def ver_hor(prefix, ver_in, ver_out, hor_in, hor_out):
        sd[prefix + ".ver.weight"] = f32(rng.normal(0, 1 / np.sqrt(ver_in), (ver_out, ver_in)))
        sd[prefix + ".hor.weight"] = f32(rng.normal(0, 1 / np.sqrt(hor_in), (hor_out, hor_in)))
        sd[prefix + ".b"] = f32(rng.normal(0, 0.05, (hor_out, ver_out)))

    def bn(prefix, c):
        sd[prefix + ".weight"] = f32(rng.uniform(0.5, 1.5, c))
        sd[prefix + ".bias"] = f32(rng.normal(0, 0.1, c))
        sd[prefix + ".running_mean"] = f32(rng.normal(0, 0.1, c))
        sd[prefix + ".running_var"] = f32(rng.uniform(0.5, 2.0, c))
        sd[prefix + ".num_batches_tracked"] = np.array(1000, np.int64)

    def vhbr(prefix, ver_in, ver_out, hor_in, hor_out, with_bn):
        ver_hor(prefix + ".ver_hor", ver_in, ver_out, hor_in, hor_out)
        if with_bn:
            bn(prefix + ".bn", hor_out)

    sd["alpha0"], sd["beta"], sd["alpha1"] = f32([0.3]), f32([-40.0]), f32([0.2])  # |beta| is used
    net = "separable_fc_net."
    for s in (0, 1):
        vhbr(f"{net}sep_part1_s{s}.ver_hor_bn_re0", 49, 64, 14, 14, False)
        if not small:
            sd[f"{net}sep_part1_s{s}.a"] = f32([rng.uniform(0.2, 0.8)])
            vhbr(f"{net}sep_part1_s{s}.ver_hor_bn_re1", 64, 64, 14, 14, True)
        ver_hor(f"{net}ver_hor_agg{s}_pre", 64, 49, 14, 1)
        vhbr(f"{net}ver_hor_bn_re_agg{s}_post", 49, 64, 1, 14, False)
    sd[net + "agg1.bilinear_conv.weight"] = f32(BLUR[None, None])
    vhbr(net + "sep_part2.ver_hor_bn_re2", 64, 64, 56, 56, True)
    if not small:
        sd[net + "sep_part2.a"] = f32([rng.uniform(0.2, 0.8)])
        vhbr(net + "sep_part2.ver_hor_bn_re3", 64, 64, 56, 56, True)
    ver_hor(net + "sep_part2.ver_hor_out", 64, 49, 56, 1)
    sd[net + "sep_part2.ver_hor_out.ver.weight"] *= 6.0  # a visible noise estimate
    for k in (0, 1):
        for layer in range(6):
            sd[f"weights_net{k}.fc{layer}.weight"] = f32(rng.normal(0, 1 / np.sqrt(14), (14, 14)))
            bn(f"weights_net{k}.bn{layer}", 14)
        sd[f"weights_net{k}.fc_out.weight"] = f32(rng.normal(0, 1 / np.sqrt(14), (14, 14)))
        sd[f"weights_net{k}.fc_out.bias"] = f32(rng.uniform(0.5, 1.5, 14))
    return sd


def _ported(arch, sd, **kwargs):
    model = zoo.load(arch, weights=None, **kwargs)
    PORTS[arch](sd, model)
    return model


def _image(h, w, seed, sigma=25):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    clean = 0.5 + 0.3 * np.sin(xx / 3.0) * np.cos(yy / 4.0) + 0.1 * (xx > w // 2)
    return (clean + sigma / 255 * rng.standard_normal((h, w))).astype(np.float32)


# ------------------------------------------------------------------------------------ tests


@pytest.mark.parametrize("arch, small, h, w", [("lidia", False, 13, 16), ("lidia_s", True, 12, 11)])
def test_port_matches_the_authors_forward_pass(arch, small, h, w):
    """Odd / unequal sizes, the smallest the authors' padding allows (11), chunked network."""
    sd = lidia_state_dict(small=small, seed=1)
    model = _ported(arch, sd, chunk_size=100)  # several chunks, a short last one
    y = _image(h, w, seed=2)
    want = lidia_reference(sd, y, small=small)
    got = np.asarray(model(y[None, ..., None], training=False), np.float64)[0, ..., 0]
    assert np.abs(want - y).mean() > 0.01  # the net does something
    np.testing.assert_allclose(got, want, rtol=0, atol=2e-5)


def test_port_is_strict():
    sd = lidia_state_dict()
    with pytest.raises(WeightsMismatchError, match=r"sep_part1_s0.a \(1,\) is unused"):
        _ported("lidia_s", sd)
    with pytest.raises(WeightsMismatchError, match="sep_part1_s0.a is missing"):
        _ported("lidia", lidia_state_dict(small=True))
    missing = {k: v for k, v in sd.items() if k != "weights_net1.bn3.running_var"}
    with pytest.raises(WeightsMismatchError, match="weights_net1.bn3.running_var is missing"):
        _ported("lidia", missing)
    wrong_blur = {**sd, "separable_fc_net.agg1.bilinear_conv.weight": np.ones((1, 1, 3, 3), np.float32)}
    with pytest.raises(WeightsMismatchError, match="bilinear_conv.weight is not"):
        _ported("lidia", wrong_blur)


def _reference_sd(name):
    from zoo.port.legacy_torch import load_legacy_torch

    return load_legacy_torch(shared_path(*LIDIA_DIR, name))


@pytest.mark.shared
@pytest.mark.parametrize("arch, name", [("lidia", "model_state_sigma_25_bw.pt"),
                                        ("lidia_s", "model_state_small_sigma_25_bw.pt")])
def test_authors_weights_port_and_match_the_reference(arch, name):
    sd = _reference_sd(name)
    model = _ported(arch, sd)  # every tensor used, every variable assigned
    y = _image(20, 23, seed=3)
    want = lidia_reference(sd, y, small=arch == "lidia_s")
    got = np.asarray(model(y[None, ..., None], training=False), np.float64)[0, ..., 0]
    np.testing.assert_allclose(got, want, rtol=0, atol=2e-5)


# Set12 01.png, its central 128 x 128 crop, with the protocol's noise (zoo.eval_dn, seed 0) and
# scoring (clipped, rounded to uint8), measured with this port; the whole 01.png gives 29.9029 dB.
# Full Set12, same protocol (tools/port_report.py, docs/ports.md): LIDIA 32.82 / 30.34 / 27.12 dB
# and LIDIA-S 32.79 / 30.35 / 27.15 dB at sigma 15 / 25 / 50.  The paper reports grey BSD68 only
# (not in ../shared); for scale, DnCNN-S with this protocol: Set12 30.45 dB at sigma 25.
SET12_CROP = {25: 28.6516}  # the noisy crop: 21.05 dB


@pytest.mark.shared
def test_authors_sigma25_weights_on_a_set12_crop():
    from zoo.eval_dn import noisy_images, quantize
    from zoo.metrics import psnr

    shared_path("denoise_set12")
    model = _ported("lidia", _reference_sd("model_state_sigma_25_bw.pt"))
    name, clean8, noisy = noisy_images(25, limit=1)[0]
    assert name == "01.png" and clean8.shape == (256, 256, 1)
    crop = (slice(64, 192), slice(64, 192))
    out = np.asarray(model(noisy[crop][None], training=False))[0]
    got = psnr(quantize(out)[..., 0].astype(np.float64), clean8[crop][..., 0].astype(np.float64), data_range=255.0)
    noisy_psnr = psnr(quantize(noisy[crop])[..., 0].astype(np.float64), clean8[crop][..., 0].astype(np.float64),
                      data_range=255.0)
    assert abs(got - SET12_CROP[25]) <= 0.01, (got, noisy_psnr)
