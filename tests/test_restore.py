"""Tiled restoration and the upscale helpers: exactness, image modes, bad input."""

import numpy as np
import pytest
from PIL import Image as PILImage

import zoo
from conftest import run_zoo
from zoo.data.image_io import read_image, write_image
from zoo.errors import InvalidInputError, ZooError
from zoo.registry import get_spec
from zoo.restore import TiledRunner, receptive_radius, upscale, upscale_file


@pytest.fixture(scope="module")
def net():
    import keras

    keras.utils.set_random_seed(3)
    return zoo.load("xunit_sr_x4", weights=None)


def test_receptive_radius_of_the_mobile_net(net):
    assert receptive_radius(net) == 1 + 4 * (1 + 1) + 1  # head 3x3, 4 x (3x3 conv + 3x3 xUnit), tail 3x3
    k7 = get_spec("xunit_sr_x4").builder(filters=43, kernel_size=7)  # the xunit_sr_x4.sr291 design
    assert receptive_radius(k7) == 1 + 4 * (1 + 3) + 1


def test_tiles_with_enough_overlap_equal_the_whole_image():
    net = zoo.load("xunit_sr_x4", weights=None)
    tail = net.get_layer("tail_conv")
    tail.set_weights([w * 50 for w in tail.get_weights()])  # make far context matter
    x = np.random.default_rng(0).random((70, 90, 3), dtype=np.float32)
    whole = np.asarray(net(x[None], training=False))[0]
    np.testing.assert_allclose(TiledRunner(net, tile=32)(x), whole, atol=1e-5)
    short = TiledRunner(net, tile=32, overlap=4)(x)
    assert np.abs(short - whole).max() > 1e-4  # the test can tell a too-small overlap


def test_rgb_grey_rgba_modes(net):
    rgb = np.random.default_rng(1).random((40, 44, 3), dtype=np.float32)
    assert upscale(rgb, net).shape == (160, 176, 3)
    grey = rgb[..., :1]
    out = upscale(grey, net)
    assert out.shape == (160, 176, 1)
    np.testing.assert_allclose(out[..., 0], upscale(np.repeat(grey, 3, -1), net).mean(-1), atol=1e-5)
    rgba = np.concatenate([rgb, np.linspace(0, 1, 40 * 44, dtype=np.float32).reshape(40, 44, 1)], -1)
    out = upscale(rgba, net)
    assert out.shape == (160, 176, 4)
    np.testing.assert_allclose(out[..., :3], upscale(rgb, net), atol=1e-5)
    assert 0 <= out[..., 3].min() and out[..., 3].max() <= 1 and out[0, 0, 3] < out[-1, -1, 3]


def test_16bit_png_round_trip(tmp_path, net):
    px = (np.random.default_rng(2).random((40, 40, 3)) * 65535).astype(np.uint16)
    write_image(tmp_path / "in16.png", px, bit_depth=16)
    img = read_image(tmp_path / "in16.png")
    assert img.bit_depth == 16 and img.mode == "rgb"
    np.testing.assert_array_equal(np.round(img.pixels * 65535).astype(np.uint16), px)
    report = upscale_file(tmp_path / "in16.png", tmp_path / "out16.png", net)
    out = read_image(tmp_path / "out16.png")
    assert out.bit_depth == 16 and out.pixels.shape == (160, 160, 3) and report["output_size"] == (160, 160)


def test_file_modes_are_kept(tmp_path, net):
    base = (np.random.default_rng(3).random((40, 48, 4)) * 255).astype(np.uint8)
    for mode, arr in {"L": base[..., 0], "RGB": base[..., :3], "RGBA": base}.items():
        PILImage.fromarray(arr, mode).save(tmp_path / f"{mode}.png")
        upscale_file(tmp_path / f"{mode}.png", tmp_path / f"{mode}_x4.png", net)
        with PILImage.open(tmp_path / f"{mode}_x4.png") as im:
            assert im.mode == mode and im.size == (192, 160)


# -- bad input: one clear error each, nothing written ---------------------------------

def _nothing_written(d):
    return [p.name for p in d.iterdir() if p.name.startswith((".tmp", "out"))] == []


def test_non_image_file(tmp_path, net):
    (tmp_path / "a.png").write_text("this is text")
    with pytest.raises(InvalidInputError, match="not an image"):
        upscale_file(tmp_path / "a.png", tmp_path / "out.png", net)
    assert _nothing_written(tmp_path)


def test_zero_size_image(tmp_path, net):
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(InvalidInputError, match="empty"):
        upscale_file(tmp_path / "empty.png", tmp_path / "out.png", net)
    with pytest.raises(InvalidInputError, match="empty"):
        upscale(np.zeros((0, 5, 3), np.float32), net)
    assert _nothing_written(tmp_path)


def test_image_smaller_than_receptive_field(tmp_path, net):
    PILImage.fromarray(np.zeros((20, 60, 3), np.uint8)).save(tmp_path / "thin.png")
    with pytest.raises(InvalidInputError, match="receptive field"):
        upscale_file(tmp_path / "thin.png", tmp_path / "out.png", net)
    assert _nothing_written(tmp_path)


def test_nan_and_inf(net):
    x = np.random.default_rng(0).random((40, 40, 3)).astype(np.float32)
    x[3, 3, 1] = np.nan
    with pytest.raises(InvalidInputError, match="NaN"):
        upscale(x, net)
    x[3, 3, 1] = np.inf
    with pytest.raises(InvalidInputError, match="NaN or Inf"):
        upscale(x, net)


def test_unsupported_scale(net):
    with pytest.raises(ZooError, match="upsamples by 4, not 3"):
        upscale(np.zeros((40, 40, 3), np.float32), net, scale=3)
    with pytest.raises(ZooError, match="xunit_sr_x4 upsamples by 4, not 2"):
        upscale(np.zeros((40, 40, 3), np.float32), "xunit_sr_x4", scale=2)


def test_output_in_missing_directory(tmp_path, net):
    PILImage.fromarray(np.zeros((40, 40, 3), np.uint8)).save(tmp_path / "ok.png")
    with pytest.raises(ZooError, match="does not exist"):
        upscale_file(tmp_path / "ok.png", tmp_path / "nowhere" / "out.png", net)
    assert not (tmp_path / "nowhere").exists()


def test_cli_upscale_errors_are_one_line(tmp_path):
    (tmp_path / "a.png").write_text("text")
    r = run_zoo("upscale", str(tmp_path / "a.png"), str(tmp_path / "b.png"), "--model", "lenet5")
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    assert "not an image" in r.stderr or "classification model" in r.stderr
    r = run_zoo("upscale", "x.png", "y.png", "--scale", "four")
    assert r.returncode == 2 and "--scale" in r.stderr


@pytest.mark.parametrize("shift_average", [False, True])
def test_long_range_layers_declare_their_context(shift_average):
    """CSCNet's unfolded dictionary layer reaches far; tiles must carry all of it."""
    import keras

    from zoo.layers.cscnet import ConvLista

    keras.utils.set_random_seed(0)
    inp = keras.Input((None, None, 1))
    layer = ConvLista(filters=6, kernel_size=5, stride=2, unfoldings=3, shift_average=shift_average,
                      threshold_init=0.001)
    net = keras.Model(inp, layer(inp))
    runner = TiledRunner(net, tile=32)
    assert runner.radius == layer.receptive_radius == 2 * 4 + 3 * 2 * 2 + 2
    x = np.random.default_rng(0).random((101, 110, 1), dtype=np.float32)
    whole = np.asarray(net(x[None]))[0]
    np.testing.assert_allclose(runner(x), whole, atol=1e-5)
    with pytest.raises(InvalidInputError, match="smaller than the network accepts"):
        runner(np.zeros((9, 40, 1), np.float32))


def test_half_resolution_nets_tile_exactly_on_their_block_grid():
    """FFDNet folds 2x2 blocks: its radius counts convs at double reach, tiles start on even pixels,
    and odd image sizes (edge padding inside the model) tile like the whole image."""
    import keras

    keras.utils.set_random_seed(1)
    net = zoo.load("ffdnet", weights=None, depth=6)
    last = net.get_layer("conv6")
    last.set_weights([w * 30 for w in last.get_weights()])  # make far context matter
    runner = TiledRunner(net, tile=32)
    assert runner.radius == 1 + 6 * 2 and runner.align == 2
    x = np.random.default_rng(2).random((67, 81, 1), dtype=np.float32)
    whole = np.asarray(net(x[None]))[0]
    np.testing.assert_allclose(runner(x), whole, atol=1e-5)
