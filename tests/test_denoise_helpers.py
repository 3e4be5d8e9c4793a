"""zoo.restore.denoise: dtypes in and out, grey vs colour, NaN, tiling (with a tiny grey net)."""

import keras
import numpy as np
import pytest

from zoo.errors import InvalidInputError
from zoo.restore import denoise, denoise_file, to_unit_float


@pytest.fixture(scope="module")
def grey_net():
    """A fixed 3x3 box blur: a stand-in denoiser with a known output."""
    inp = keras.Input((None, None, 1))
    conv = keras.layers.Conv2D(1, 3, padding="same", use_bias=False, name="blur")
    model = keras.Model(inp, conv(inp), name="blur_net")
    conv.set_weights([np.full((3, 3, 1, 1), 1 / 9, np.float32)])
    return model


def test_dtypes_round_trip(grey_net):
    rng = np.random.default_rng(0)
    u8 = rng.integers(0, 256, (40, 50), dtype=np.uint8)
    out8 = denoise(u8, grey_net)
    assert out8.dtype == np.uint8 and out8.shape == u8.shape
    u16 = (u8.astype(np.uint16) * 257)
    out16 = denoise(u16, grey_net)
    assert out16.dtype == np.uint16
    np.testing.assert_allclose(out16 / 65535.0, out8 / 255.0, atol=2 / 255)
    f = u8.astype(np.float32) / 255.0
    outf = denoise(f[..., None], grey_net)
    assert outf.dtype == np.float32 and outf.shape == (40, 50, 1)
    np.testing.assert_allclose(outf[..., 0], out8 / 255.0, atol=1 / 255)


def test_float_out_of_range_and_other_dtypes_are_refused(grey_net):
    with pytest.raises(InvalidInputError, match="divide 8-bit values by 255"):
        denoise(np.full((40, 40), 200.0, np.float32), grey_net)
    with pytest.raises(InvalidInputError, match="unsupported image dtype int32"):
        denoise(np.zeros((40, 40), np.int32), grey_net)
    with pytest.raises(InvalidInputError, match="NaN"):
        denoise(np.full((40, 40, 1), np.nan, np.float32), grey_net)


def test_colour_image_needs_per_channel(grey_net):
    rgb = np.random.default_rng(1).random((40, 40, 3)).astype(np.float32)
    with pytest.raises(InvalidInputError, match="per_channel=True"):
        denoise(rgb, grey_net)
    out = denoise(rgb, grey_net, per_channel=True)
    assert out.shape == (40, 40, 3)
    np.testing.assert_allclose(out[..., 1], denoise(rgb[..., 1:2], grey_net)[..., 0], atol=1e-6)


def test_to_unit_float():
    x, dtype = to_unit_float(np.array([[0, 255]], np.uint8))
    assert dtype == np.uint8 and x.tolist() == [[0.0, 1.0]]


def test_file_keeps_16_bit(tmp_path, grey_net):
    from zoo.data.image_io import read_image, write_image

    px = (np.random.default_rng(2).random((40, 40, 1)) * 65535).astype(np.uint16)
    write_image(tmp_path / "n.png", px, bit_depth=16)
    denoise_file(tmp_path / "n.png", tmp_path / "c.png", grey_net)
    out = read_image(tmp_path / "c.png")
    assert out.bit_depth == 16 and out.mode == "grey"


def test_sigma_far_from_the_training_level_is_refused_before_any_work():
    from zoo.errors import ZooError
    from zoo.restore import SIGMA_TOLERANCE, _check_sigma

    noisy = np.zeros((40, 40, 1), np.uint8)
    with pytest.raises(ZooError, match="trained for noise sigma 25 .* has sigma 50"):
        denoise(noisy, "xunit_dn_s25", sigma=50)
    with pytest.raises(ZooError, match="trained for noise sigma 15.*published ones for that level: .*dncnn_s25.kair"):
        denoise_file("missing.png", "out.png", model="cscnet_s15", sigma=25)  # checked before reading
    with pytest.raises(ZooError, match="no published denoiser is trained for that level"):
        denoise(noisy, "cscnet_s15", sigma=70)
    _check_sigma("xunit_dn_s25", 25 + SIGMA_TOLERANCE)  # within tolerance: accepted
    _check_sigma("xunit_dn_blind", 50)  # blind nets take the levels they were trained on (0-55) ...
    _check_sigma("xunit_dn_blind", 55 + SIGMA_TOLERANCE)
    with pytest.raises(ZooError, match=r"xunit_dn_blind was trained for noise sigmas 0-55 \(blind\).* has sigma 70"):
        _check_sigma("xunit_dn_blind", 70)  # ... and no others
    _check_sigma("xunit_dn_s25", None)  # unknown level: nothing to check


def test_default_denoiser_has_published_weights():
    """`zoo denoise IN OUT` and `denoise(image)` without a model must work out of the box."""
    from zoo import manifest, registry
    from zoo.restore import DEFAULT_DENOISER

    spec, tag = registry.resolve_name(DEFAULT_DENOISER)
    assert spec.task == "denoising" and tag is not None
    assert manifest.get_entry(f"{spec.arch}.{tag.tag}") is not None, f"{DEFAULT_DENOISER} has no published weights"


def test_default_denoiser_is_the_best_published_at_sigma_25():
    """The default is chosen by measurement: the highest Set12 sigma-25 PSNR the evaluate tool wrote
    into the manifest among the published denoisers (not the newest or the zoo's own)."""
    from zoo import manifest, registry
    from zoo.restore import DEFAULT_DENOISER

    set12_s25 = {}
    for name, entry in manifest.load_manifest().items():
        for metric in entry.get("metrics", []):
            if metric["dataset"] == "set12-s25":
                set12_s25[name] = metric["values"]["psnr"]
    assert len(set12_s25) >= 2, set12_s25
    spec, tag = registry.resolve_name(DEFAULT_DENOISER)
    best = max(set12_s25, key=set12_s25.get)
    assert f"{spec.arch}.{tag.tag}" == best, set12_s25


def test_noise_conditioned_net_takes_sigma_and_a_weights_file(tmp_path):
    """FFDNet by name: --weights FILE (e.g. a port) and --sigma as the network's input, in Python
    and on the command line; a missing or out-of-range sigma is one clear error."""
    from conftest import run_zoo

    import zoo
    from zoo.data.image_io import read_image, write_image
    from zoo.errors import ZooError

    net = zoo.load("ffdnet", weights=None, sigma=30)
    net.save_weights(tmp_path / "f.weights.h5")
    noisy = (np.random.default_rng(4).random((67, 71, 1)) * 255).astype(np.uint8)
    got = denoise(noisy, "ffdnet", sigma=30, weights=tmp_path / "f.weights.h5", tile=64)
    want = np.round(np.clip(np.asarray(net(noisy[None].astype(np.float32) / 255))[0], 0, 1) * 255)
    assert got.dtype == np.uint8 and np.abs(got.astype(int) - want).max() <= 1
    with pytest.raises(ZooError, match="give sigma"):
        denoise(noisy, "ffdnet", weights=tmp_path / "f.weights.h5")
    with pytest.raises(ZooError, match=r"ffdnet: FFDNet takes a noise level sigma in \[0, 75\]"):
        denoise(noisy, "ffdnet", sigma=90, weights=tmp_path / "f.weights.h5")
    with pytest.raises(ZooError, match="apply to a model name"):
        denoise(noisy, net, weights=tmp_path / "f.weights.h5")

    write_image(tmp_path / "n.png", noisy, bit_depth=8)
    ok = run_zoo("denoise", str(tmp_path / "n.png"), str(tmp_path / "c.png"), "--model", "ffdnet",
                 "--weights", str(tmp_path / "f.weights.h5"), "--sigma", "30")
    assert ok.returncode == 0, ok.stderr
    np.testing.assert_array_equal(read_image(tmp_path / "c.png").pixels.shape, (67, 71, 1))
    for extra, message in ((["--weights", str(tmp_path / "f.weights.h5")], "give sigma"),
                           (["--weights", str(tmp_path / "f.weights.h5"), "--sigma", "80"], "sigma in [0, 75]"),
                           (["--sigma", "30"], "no published weights")):
        r = run_zoo("denoise", str(tmp_path / "n.png"), str(tmp_path / "d.png"), "--model", "ffdnet", *extra)
        assert r.returncode == 2 and message in r.stderr, r.stderr
        assert len(r.stderr.strip().splitlines()) == 1 and not (tmp_path / "d.png").exists()


@pytest.mark.shared
def test_a_bn_merged_port_loads_by_name_with_its_builder_option(tmp_path):
    """The authors' DnCNN-B file ports BN-merged; by name it needs --option batch_norm=false, and
    without it the one-line error says which options the model was built with and how to give them."""
    from conftest import run_zoo, shared_path

    import zoo
    from zoo.data.image_io import write_image
    from zoo.errors import WeightsMismatchError
    from zoo.port import read_reference
    from zoo.port.mappings import PORTS

    model = zoo.load("dncnn_b", weights=None, batch_norm=False)
    PORTS["dncnn_b"](read_reference(shared_path("reference_weights", "cszn__DnCNN", "model", "GD_Gray_Blind.mat")),
                     model)
    model.save_weights(tmp_path / "b.weights.h5")
    noisy = (np.random.default_rng(5).random((64, 64, 1)) * 255).astype(np.uint8)
    got = denoise(noisy, "dncnn_b", weights=tmp_path / "b.weights.h5", options={"batch_norm": False})
    assert got.shape == noisy.shape and np.abs(got.astype(int) - noisy).mean() > 5
    with pytest.raises(WeightsMismatchError, match="built with depth=20, batch_norm=True.*--option KEY=VALUE"):
        denoise(noisy, "dncnn_b", weights=tmp_path / "b.weights.h5")
    write_image(tmp_path / "n.png", noisy, bit_depth=8)
    base = ("denoise", str(tmp_path / "n.png"), str(tmp_path / "c.png"), "--model", "dncnn_b",
            "--weights", str(tmp_path / "b.weights.h5"))
    ok = run_zoo(*base, "--option", "batch_norm=false")
    assert ok.returncode == 0 and (tmp_path / "c.png").exists(), ok.stderr
    (tmp_path / "c.png").unlink()
    for extra, message in (([], "--option KEY=VALUE"), (["--option", "batch_norm"], "--option takes KEY=VALUE"),
                           (["--option", "colour=1"], "dncnn_b has no option 'colour'")):
        r = run_zoo(*base, *extra)
        assert r.returncode == 2 and message in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
        assert not (tmp_path / "c.png").exists()
