"""TFLite export: builtin ops for every model, int8 audits, verification, sidecar, bad input."""

import json
import subprocess
import sys

import keras
import numpy as np
import pytest

import zoo
import zoo.export
from conftest import REPO, clean_env
from zoo import registry
from zoo.errors import InvalidInputError, ZooError
from zoo.export import litert as tfl
from zoo.testing import example_input

SPECS = registry.all_specs()
RESTORATION = [s for s in SPECS if s.task != "classification"]


def _smooth(spec, n=6, size=32):
    h, w, c = spec.input_spec.shape
    x = example_input(spec, batch=n)
    return x if h else x[:, :size, :size]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.arch)
def test_every_model_exports_to_float32_builtins(spec, tmp_path):
    model = zoo.load(spec.arch, weights=None)
    size = None if spec.input_spec.shape[0] else (24, 24)  # the size of zoo.testing.example_input
    report = zoo.export.tflite(model, tmp_path / "m.tflite", input_size=size, verification_data=_smooth(spec))
    assert report.verification["passed"]
    assert "FlexDelegate" not in str(report.ops) and not any(op.startswith("FLEX") for op in report.ops)
    meta = json.loads((tmp_path / "m.json").read_text())
    assert meta["input"]["layout"] == "NHWC" and meta["input"]["range"] == [0.0, 1.0]
    if spec.task != "classification":
        assert meta["scale"] == (spec.input_spec.scale or 1)
        assert meta["input"]["shape"] == [1, 24, 24, spec.input_spec.shape[-1]]


# One spec per restoration architecture (the tagged variants share a builder); LIDIA's patch search
# stays float (test below); the untrained 16-block SRResNets exceed the verification tolerance.
INT8_ARCHS = ("xunit_sr_x4", "relu_sr_x4", "xsrcnnf", "srcnn", "dncnn", "xdncnn", "cscnet", "deep_ksvd", "ffdnet")


@pytest.mark.parametrize("spec", [s for s in RESTORATION if s.arch in INT8_ARCHS] +
                         [registry.get_spec("lenet5")], ids=lambda s: s.arch)
def test_int8_export_has_no_float_islands(spec, tmp_path):
    if spec.task == "classification":  # agreement is only meaningful for a trained classifier
        model, data = zoo.load(spec.arch), REPO / "examples" / "digits"
    else:
        model, data = zoo.load(spec.arch, weights=None), _smooth(spec, n=8)
    report = zoo.export.tflite(model, tmp_path / "q.tflite", quantize="int8", representative_data=data,
                               verification_data=data)
    assert report.float_ops == [], report.float_ops
    assert {"QUANTIZE", "DEQUANTIZE"} <= set(report.ops)
    assert report.verification["passed"]


def test_int8_lidia_names_the_float_ops_of_its_patch_search(tmp_path):
    spec = registry.get_spec("lidia_s")
    data = _smooth(spec, n=4)
    with pytest.raises(ZooError, match="float islands: .*MUL"):
        zoo.export.tflite(zoo.load("lidia_s", weights=None), tmp_path / "q.tflite", quantize="int8",
                          representative_data=data, verification_data=data)
    assert not (tmp_path / "q.tflite").exists()


@pytest.mark.parametrize("io_dtype", ["float32", "uint8"])
def test_int8_xunit_sr_x4_stays_within_a_tenth_of_a_db_on_set5(tmp_path, io_dtype):
    """The published net, default calibration data, full Set5 x4 protocol: the issue's quality target."""
    from conftest import shared_path
    from zoo.eval_sr import evaluate_sr, model_predict
    from zoo.runtime import LiteRTModel

    shared_path("sr_set5")
    model = zoo.load("xunit_sr_x4")
    zoo.export.tflite(model, tmp_path / "q.tflite", quantize="int8", io_dtype=io_dtype)
    lite = LiteRTModel(tmp_path / "q.tflite", num_threads=2)
    keras_psnr = evaluate_sr(model_predict(model), "sr_set5", 4)["psnr_y"]
    int8_psnr = evaluate_sr(lambda x: np.asarray(lite(x[None]))[0], "sr_set5", 4)["psnr_y"]
    assert keras_psnr - int8_psnr <= 0.1, (keras_psnr, int8_psnr)


def test_uint8_io_takes_and_returns_pixel_bytes(tmp_path):
    """uint8 I/O: bytes in, bytes out, pinned to scale 1/255 / zero point 0; same int8 graph as float I/O."""
    from zoo.runtime import LiteRTModel

    spec = registry.get_spec("xunit_sr_x4")
    model, data = zoo.load("xunit_sr_x4", weights=None), _smooth(spec, n=8)
    kw = dict(quantize="int8", representative_data=data, verification_data=data)
    report = zoo.export.tflite(model, tmp_path / "u8.tflite", io_dtype="uint8", **kw)
    zoo.export.tflite(model, tmp_path / "f32.tflite", **kw)
    assert report.verification["passed"] and report.float_ops == []
    meta = json.loads((tmp_path / "u8.json").read_text())
    assert meta["input"]["dtype"] == "uint8" and meta["input"]["quantization"] == {"scale": 1 / 255, "zero_point": 0}
    assert meta["output"]["dtype"] == "uint8" and meta["output"]["range"] == [0, 255]
    u8, f32 = LiteRTModel(tmp_path / "u8.tflite"), LiteRTModel(tmp_path / "f32.tflite")
    for detail in (u8._in, u8._out):
        assert detail["dtype"] == np.uint8 and detail["quantization"] == pytest.approx((1 / 255, 0))
    pixels = np.round(data[:1, :24, :20] * 255).astype(np.uint8)
    out_bytes = u8(pixels)
    assert out_bytes.dtype == np.uint8 and out_bytes.shape == (1, 96, 80, 3)
    out_float = u8(pixels.astype(np.float32) / 255)  # the float path quantizes exactly the same bytes
    np.testing.assert_array_equal(out_bytes, np.round(out_float * 255).astype(np.uint8))
    reference = np.clip(np.round(f32(pixels.astype(np.float32) / 255) * 255), 0, 255)
    diff = np.abs(out_bytes.astype(np.int32) - reference)
    assert diff.max() <= 2 and diff.mean() < 0.2, (diff.max(), diff.mean())
    image = data[1]  # tiled restore quantizes each tile the same way as a whole call
    tiled = u8.restore(image, tile=12, out_dtype=np.uint8)
    assert tiled.dtype == np.uint8 and tiled.shape == (4 * image.shape[0], 4 * image.shape[1], 3)
    whole = u8(np.round(image * 255).astype(np.uint8)[None])[0]
    assert np.abs(tiled.astype(np.int32) - whole).max() <= 1
    for bad, model in ((pixels.astype(np.uint16), u8), (pixels, f32)):  # other integers, or bytes to float I/O
        with pytest.raises(InvalidInputError, match=f"got {bad.dtype}; divide by 255"):
            model(bad)


def test_uint8_io_classifier_keeps_its_probability_scale(tmp_path):
    from zoo.runtime import LiteRTModel

    report = zoo.export.tflite("lenet5", tmp_path / "l.tflite", quantize="int8", io_dtype="uint8",
                               representative_data=REPO / "examples" / "digits",
                               verification_data=REPO / "examples" / "digits")
    assert report.verification["passed"]
    meta = json.loads((tmp_path / "l.json").read_text())
    assert meta["input"]["dtype"] == "uint8" and meta["output"]["dtype"] == "uint8"
    assert "range" not in meta["output"] and "probability" in meta["output"]["encoding"]
    probs = LiteRTModel(tmp_path / "l.tflite")(np.zeros((1, 28, 28, 1), np.float32))
    assert probs.dtype == np.float32 and abs(float(probs.sum()) - 1) < 0.05


def test_dynamic_size_is_kept_for_fully_convolutional_models(tmp_path):
    spec = registry.get_spec("xunit_sr_x4")
    zoo.export.tflite(zoo.load("xunit_sr_x4", weights=None), tmp_path / "d.tflite", verification_data=_smooth(spec))
    from ai_edge_litert.interpreter import Interpreter

    sig = Interpreter(model_path=str(tmp_path / "d.tflite")).get_input_details()[0]["shape_signature"]
    assert list(sig) == [1, -1, -1, 3]


def test_padding_and_cropping_sizes_stay_dynamic_in_tflite(tmp_path):
    """FFDNet pads odd sizes to even and crops back with run-time sizes: one export, any H x W."""
    from zoo.runtime import LiteRTModel

    spec = registry.get_spec("ffdnet")
    model = zoo.load("ffdnet", weights=None, depth=4)
    zoo.export.tflite(model, tmp_path / "f.tflite", verification_data=_smooth(spec))
    lite = LiteRTModel(tmp_path / "f.tflite", num_threads=1)
    assert lite.dynamic and lite.align == 2
    for h, w in ((24, 24), (25, 19), (8, 31)):
        x = np.random.default_rng(h).random((1, h, w, 1), dtype=np.float32)
        np.testing.assert_allclose(lite(x), np.asarray(model(x)), atol=1e-5)


def test_runtime_without_tensorflow(tmp_path):
    spec = registry.get_spec("xunit_sr_x4")
    model = zoo.load("xunit_sr_x4", weights=None)
    zoo.export.tflite(model, tmp_path / "sr.tflite", verification_data=_smooth(spec))
    x = np.random.default_rng(0).random((50, 61, 3), dtype=np.float32)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "ref.npy", np.asarray(model(x[None], training=False))[0])
    code = f"""
import sys, numpy as np
from zoo.runtime import LiteRTModel
m = LiteRTModel({str(tmp_path / 'sr.tflite')!r}, num_threads=1)
out = m.restore(np.load({str(tmp_path / 'x.npy')!r}), tile=24)
ref = np.load({str(tmp_path / 'ref.npy')!r})
assert out.shape == ref.shape, out.shape
print(float(np.abs(out - ref).max()))
assert "tensorflow" not in sys.modules and "keras" not in sys.modules, "runtime imported TensorFlow"
"""
    r = subprocess.run([sys.executable, "-c", code], env=clean_env(), capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert float(r.stdout.strip()) < 1e-4


# -- bad input ------------------------------------------------------------------------

def test_unknown_quantize_mode(tmp_path):
    with pytest.raises(ZooError, match="unknown quantize mode 'int4'"):
        zoo.export.tflite(zoo.load("lenet5", weights=None), tmp_path / "m.tflite", quantize="int4")


@pytest.mark.parametrize("quantize, io_dtype, message", [
    (None, "uint8", "needs an int8 model"), ("dynamic", "uint8", "needs an int8 model"),
    ("int8", "int16", "unknown io_dtype 'int16'")])
def test_bad_io_dtype(tmp_path, quantize, io_dtype, message):
    with pytest.raises(ZooError, match=message):
        zoo.export.tflite(zoo.load("lenet5", weights=None), tmp_path / "m.tflite", quantize=quantize,
                          io_dtype=io_dtype)
    assert list(tmp_path.iterdir()) == []


def test_int8_without_representative_data(tmp_path, monkeypatch):
    monkeypatch.setenv("ZOO_DATA_DIR", str(tmp_path / "no-data-here"))
    with pytest.raises(ZooError, match="representative data"):
        zoo.export.tflite(zoo.load("xunit_sr_x4", weights=None), tmp_path / "m.tflite", quantize="int8")
    assert not (tmp_path / "m.tflite").exists()


def test_representative_data_with_wrong_channels(tmp_path):
    with pytest.raises(InvalidInputError, match="3 channels, the model takes 1"):
        zoo.export.tflite(zoo.load("lenet5", weights=None), tmp_path / "m.tflite", quantize="int8",
                          representative_data=np.zeros((4, 28, 28, 3), np.float32))


@keras.saving.register_keras_serializable(package="zoo_tests")
class SpectralMagnitude(keras.layers.Layer):
    """A deliberately phone-unfriendly layer: FFT has no TFLite builtin kernel for this use."""

    def call(self, x):
        import tensorflow as tf

        return tf.math.real(tf.signal.ifft2d(tf.signal.fft2d(tf.cast(x[..., 0], tf.complex64))))[..., None]


def test_model_with_non_builtin_op_names_it(tmp_path):
    inp = keras.Input((8, 8, 1))
    bad = keras.Model(inp, SpectralMagnitude()(inp), name="fft_net")
    with pytest.raises(ZooError, match=r"no builtin kernel.*(FFT|fft)"):
        zoo.export.tflite(bad, tmp_path / "bad.tflite", verify=False)
    assert not (tmp_path / "bad.tflite").exists()


def test_output_path_not_writable(tmp_path):
    (tmp_path / "a_file").write_text("x")
    with pytest.raises(ZooError, match="does not exist"):
        zoo.export.tflite(zoo.load("lenet5", weights=None), tmp_path / "a_file" / "m.tflite")
    with pytest.raises(ZooError, match=r"\.tflite"):
        zoo.export.tflite(zoo.load("lenet5", weights=None), tmp_path / "m.onnx")


def test_verification_failure_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.setitem(tfl.TOLERANCES["restoration"], None, 1000.0)
    spec = registry.get_spec("xunit_sr_x4")
    with pytest.raises(ZooError, match="disagrees with Keras"):
        zoo.export.tflite(zoo.load("xunit_sr_x4", weights=None), tmp_path / "m.tflite", verification_data=_smooth(spec))
    assert list(tmp_path.iterdir()) == []


def test_cli_export_bad_mode_is_one_line():
    r = subprocess.run([sys.executable, "-m", "zoo", "export", "lenet5", "-o", "x.tflite", "--quantize", "int4"],
                       env=clean_env(), capture_output=True, text=True, cwd=REPO, timeout=60)
    assert r.returncode == 2 and "invalid choice" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_cli_export_uint8_io_needs_int8_in_one_line(tmp_path):
    r = subprocess.run([sys.executable, "-m", "zoo", "export", "lenet5", "-o", str(tmp_path / "x.tflite"), "--io",
                        "uint8"], env=clean_env(), capture_output=True, text=True, cwd=REPO, timeout=120)
    assert r.returncode == 2 and "needs an int8 model" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_cli_exports_a_weights_file_at_a_noise_level(tmp_path):
    """zoo export NAME --weights FILE --sigma S: a ported / own weights file, the level in the sidecar."""
    from zoo.runtime import LiteRTModel

    model = zoo.load("ffdnet", weights=None, sigma=40)
    model.save_weights(tmp_path / "f.weights.h5")

    def export(*extra):
        return subprocess.run([sys.executable, "-m", "zoo", "export", "ffdnet", "-o", str(tmp_path / "f.tflite"),
                               *extra], env=clean_env(), capture_output=True, text=True, cwd=REPO, timeout=300)

    ok = export("--weights", str(tmp_path / "f.weights.h5"), "--sigma", "40")
    assert ok.returncode == 0, ok.stderr
    meta = json.loads((tmp_path / "f.json").read_text())
    assert meta["noise_sigma"] == 40.0 and meta["verification"]["passed"]
    x = np.random.default_rng(0).random((1, 30, 26, 1), dtype=np.float32)
    np.testing.assert_allclose(LiteRTModel(tmp_path / "f.tflite")(x), np.asarray(model(x)), atol=1e-5)
    for extra, message in ((["--weights", str(tmp_path / "f.weights.h5"), "--sigma", "90"], "sigma in [0, 75]"),
                           (["--sigma", "30"], "no published weights"),
                           (["--weights", str(tmp_path / "f.weights.h5")], "give sigma (--sigma")):
        (tmp_path / "f.tflite").unlink(missing_ok=True)
        r = export(*extra)
        assert r.returncode == 2 and message in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
        assert not (tmp_path / "f.tflite").exists()
    bad = subprocess.run([sys.executable, "-m", "zoo", "export", "lenet5", "-o", str(tmp_path / "l.tflite"),
                          "--sigma", "30"], env=clean_env(), capture_output=True, text=True, cwd=REPO, timeout=120)
    assert bad.returncode == 2 and "lenet5 has no option 'sigma'" in bad.stderr, bad.stderr
