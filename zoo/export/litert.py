"""Export to TFLite (LiteRT) for phones: builtin ops only, optional quantization, verified.

Every export runs the ``.tflite`` with the stock LiteRT interpreter on real inputs and
compares it with the Keras model (PSNR for restoration nets, top-1 agreement for
classifiers); a result outside the tolerance is an error unless ``force=True``.  A
sidecar ``.json`` next to the file tells an app developer how to feed the model.

Example::

    import zoo.export
    report = zoo.export.tflite("xunit_sr_x4", "xunit_sr_x4_int8.tflite", quantize="int8",
                               representative_data="photos/")
    print(report.verification)      # {'metric': 'psnr_vs_keras_db', 'value': 41.2, ...}
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import re
import tempfile
import time
from pathlib import Path

import numpy as np

from zoo.errors import InvalidInputError, ZooError

QUANTIZE_MODES = (None, "float16", "dynamic", "int8")
IO_DTYPES = ("float32", "uint8")
PIXEL_SCALE = 1.0 / 255.0  # uint8 I/O: the byte value v stands for v / 255

#: Minimum agreement with the Keras model, per task and quantization.
TOLERANCES = {
    "restoration": {None: 60.0, "float16": 45.0, "dynamic": 32.0, "int8": 30.0},  # PSNR vs Keras, dB
    "classification": {None: 0.999, "float16": 0.995, "dynamic": 0.98, "int8": 0.97},  # top-1 agreement
}
FLOAT_ISLAND_OPS = ("DEQUANTIZE", "QUANTIZE")
VERIFY_SIZE = 96  # side of the restoration crops used for verification


@dataclasses.dataclass
class ExportReport:
    path: str
    sidecar: str
    quantize: str | None
    size_bytes: int
    ops: list
    float_ops: list
    verification: dict
    seconds: float

    def summary(self) -> str:
        v = self.verification
        return (f"{self.path}: {self.size_bytes:,} bytes, {self.quantize or 'float32'}, ops "
                f"{', '.join(self.ops)}; {v['metric']} = {v['value']} (needs {v['comparison']} "
                f"{v['tolerance']}) on {v['num_inputs']} {v['inputs']}")


# ---------------------------------------------------------------------------- inputs


def _resolve(model_or_name):
    import keras

    import zoo
    from zoo.registry import get_spec

    if isinstance(model_or_name, str):
        return zoo.load(model_or_name), get_spec(model_or_name), model_or_name
    if isinstance(model_or_name, keras.Model):
        try:
            spec = get_spec(model_or_name.name)
        except ZooError:
            spec = None
        return model_or_name, spec, model_or_name.name
    raise ZooError(f"export takes a registered model name or a keras.Model, got {type(model_or_name).__name__}")


def _task(model, spec) -> str:
    if spec is not None:
        return "classification" if spec.task == "classification" else "restoration"
    return "classification" if len(model.output_shape) == 2 else "restoration"


def _images_from_folder(folder: Path, channels: int, size: int, limit: int = 64) -> np.ndarray:
    from zoo.data.image_io import read_image

    paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".png", ".jpg", ".jpeg", ".bmp", ".tif"))
    if not paths:
        raise InvalidInputError(f"representative folder {folder} has no images")
    crops = []
    for p in paths[:limit]:
        px = read_image(p).pixels
        px = px[..., :3] if px.shape[-1] == 4 else px
        if px.shape[-1] != channels:
            if channels == 3 and px.shape[-1] == 1:
                px = np.repeat(px, 3, -1)
            elif channels == 1 and px.shape[-1] == 3:
                px = px @ np.array([[0.299], [0.587], [0.114]], dtype=np.float32)
        h, w = px.shape[:2]
        s = min(size, h, w)
        for y0, x0 in ((0, 0), ((h - s) // 2, (w - s) // 2), (h - s, w - s)):
            crops.append(px[y0:y0 + s, x0:x0 + s])
    s = min(c.shape[0] for c in crops)
    return np.stack([c[:s, :s] for c in crops]).astype(np.float32)


def _as_samples(data, model, task: str, size: int) -> np.ndarray:
    """Representative/verification inputs as an NHWC float32 array in [0, 1]."""
    c = model.input_shape[-1]
    if isinstance(data, (str, Path)):
        folder = Path(data)
        if not folder.is_dir():
            raise InvalidInputError(f"representative data {folder} is not a folder of images")
        x = _images_from_folder(folder, c, size)
        if task == "classification":
            from PIL import Image as PILImage

            h, w = model.input_shape[1:3]
            x = np.stack([np.asarray(PILImage.fromarray(im[..., 0] if c == 1 else (im * 255).astype(np.uint8))
                                     .resize((w, h)), dtype=np.float32) for im in x])
            x = x[..., None] if c == 1 else x / 255.0
        return x
    x = np.asarray(data, dtype=np.float32) if not callable(data) else np.stack(list(data()))
    if x.ndim != 4:
        raise InvalidInputError(f"representative data must be NHWC, got shape {x.shape}")
    if x.shape[-1] != c:
        raise InvalidInputError(f"representative data has {x.shape[-1]} channels, the model takes {c}")
    if not np.isfinite(x).all() or x.min() < 0 or x.max() > 1:
        raise InvalidInputError("representative data must be finite values in [0, 1]")
    return x


def default_samples(model, spec, task: str, size: int = VERIFY_SIZE) -> np.ndarray | None:
    """Inputs from the model's own domain (shared dev sets), or None when they are absent."""
    from zoo.data.paths import shared_data_dir

    root = shared_data_dir()
    if task == "classification":
        if spec is not None and spec.arch == "lenet5" and (root / "mnist").is_dir():
            from zoo.data.mnist import load_split

            x, _ = load_split("val")
            return x[:500]
        return None
    channels = spec.input_spec.channels if spec is not None else None
    candidates = ["denoise_set12"] if channels in ("grey", "y") else ["sr_set5", "sr_set14"]
    for name in candidates:
        if (root / name).is_dir():
            return _as_samples(root / name, model, task, size)
    return None


# ---------------------------------------------------------------------------- conversion


def _convert(model, signature, quantize, representative: np.ndarray | None, io_dtype: str = "float32",
             pin_output: bool = True) -> bytes:
    import keras
    import tensorflow as tf

    with tempfile.TemporaryDirectory() as saved:
        archive = keras.export.ExportArchive()
        archive.track(model)
        archive.add_endpoint("serve", functools.partial(model.__call__, training=False), input_signature=[signature])
        archive.write_out(saved, verbose=False)
        converter = tf.lite.TFLiteConverter.from_saved_model(saved)
        builtins = tf.lite.OpsSet.TFLITE_BUILTINS_INT8 if quantize == "int8" else tf.lite.OpsSet.TFLITE_BUILTINS
        converter.target_spec.supported_ops = [builtins]
        if quantize is not None:
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
        if quantize == "float16":
            converter.target_spec.supported_types = [tf.float16]
        if quantize == "int8":
            fixed = signature.shape[1] is not None

            def gen():
                for x in representative:
                    yield [x[None] if not fixed else x[None, : signature.shape[1], : signature.shape[2]]]

            converter.representative_dataset = gen
            if io_dtype == "uint8":
                converter.inference_input_type = tf.uint8
                converter.inference_output_type = tf.uint8
        try:
            content = converter.convert()
        except Exception as e:  # ConverterError and friends carry the op list in the message
            text = str(e)
            ops = sorted(set(re.findall(r"\btf\.([A-Za-z0-9_]+)", text))) or sorted(
                set(re.findall(r"'([A-Za-z0-9_]+)' op", text)))
            if ops or "not supported" in text.lower():
                raise ZooError(
                    f"{model.name} needs ops that TFLite has no builtin kernel for: "
                    f"{', '.join(ops) or 'see converter log'}; phones would need the Flex delegate. "
                    f"Rewrite those layers with builtin ops"
                ) from None
            raise ZooError(f"TFLite conversion of {model.name} failed: {text.splitlines()[0]}") from None
    # outside the try: its own ZooError must not be reworded as a conversion failure
    return _pin_uint8_io(content, pin_output) if io_dtype == "uint8" else content


def _pin_uint8_io(content: bytes, pin_output: bool) -> bytes:
    """Give the uint8 input (and output) of an int8 model the pixel scale: 1/255, zero point 0.

    The converter puts a QUANTIZE op (a requantization) between each uint8 boundary tensor and
    the int8 graph, with the calibrated scale on both sides.  Setting the boundary tensor to
    the pixel scale makes that op map 8-bit pixel values to the graph's int8 range on the way
    in, and the graph's int8 output to rounded, saturated pixel values on the way out -- the
    int8 arithmetic inside is unchanged.
    """
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils

    fb = flatbuffer_utils.read_model_from_bytearray(bytearray(content))
    graph = fb.subgraphs[0]
    codes = [max(c.builtinCode, c.deprecatedBuiltinCode) for c in fb.operatorCodes]
    quantize_op = schema.BuiltinOperator.QUANTIZE
    boundary = [(i, "input", [op for op in graph.operators if i in list(op.inputs)]) for i in graph.inputs]
    if pin_output:
        boundary += [(i, "output", [op for op in graph.operators if i in list(op.outputs)]) for i in graph.outputs]
    for index, role, ops in boundary:
        tensor = graph.tensors[index]
        if tensor.type != schema.TensorType.UINT8 or not ops or any(codes[op.opcodeIndex] != quantize_op for op in ops):
            raise ZooError(f"uint8 I/O: the converter did not put a requantization next to the model {role}; "
                           f"export with io_dtype='float32'")
        tensor.quantization.scale = np.array([PIXEL_SCALE], np.float32)
        tensor.quantization.zeroPoint = np.array([0], np.int64)
    return bytes(flatbuffer_utils.convert_object_to_bytearray(fb))


def _interpreter(content: bytes, num_threads: int = 2):
    from ai_edge_litert.interpreter import Interpreter

    return Interpreter(model_content=content, num_threads=num_threads)


def op_audit(content: bytes) -> tuple[list, list]:
    """(sorted op names, ops computed in float) of a converted model.

    For an int8 model, float work between the input QUANTIZE and output DEQUANTIZE is a
    "float island": every op listed in the second element computes float32 values.  Ops that
    only read a float tensor to produce booleans or integers (a size counted from the input,
    a comparison feeding a SELECT) do no float arithmetic on the data path and are not listed.
    """
    it = _interpreter(content)
    tensors = {t["index"]: t for t in it.get_tensor_details()}
    ops, float_ops = [], []
    for op in it._get_ops_details():
        name = op["op_name"]
        ops.append(name)
        if name in FLOAT_ISLAND_OPS:
            continue
        ins = [tensors[i]["dtype"] for i in op["inputs"] if i >= 0 and i in tensors]
        outs = [tensors[i]["dtype"] for i in op["outputs"] if i >= 0 and i in tensors]
        if ins and ins[0] == np.float32 and (not outs or np.float32 in outs):
            float_ops.append(name)
    return sorted(set(ops)), float_ops


def run_tflite(content: bytes, x: np.ndarray, num_threads: int = 2) -> np.ndarray:
    """Run a converted model on an NHWC float batch in [0, 1], one image at a time (float out)."""
    from zoo.runtime import dequantize_output, quantize_input

    it = _interpreter(content, num_threads)
    inp, out = it.get_input_details()[0], it.get_output_details()[0]
    results = []
    for img in x:
        if list(inp["shape"][1:3]) != list(img.shape[:2]):
            it.resize_tensor_input(inp["index"], [1, *img.shape])
        it.allocate_tensors()
        it.set_tensor(inp["index"], quantize_input(img[None].astype(np.float32), inp))
        it.invoke()
        results.append(dequantize_output(it.get_tensor(out["index"]), out)[0])
    return np.stack(results)


def _verify(model, content, samples, task, quantize) -> dict:
    keras_out = np.asarray(model.predict(samples, verbose=0, batch_size=8))
    lite_out = run_tflite(content, samples)
    tol = TOLERANCES[task][quantize]
    if task == "classification":
        value = float(np.mean(np.argmax(keras_out, -1) == np.argmax(lite_out, -1)))
        return {"metric": "top1_agreement_vs_keras", "value": round(value, 4), "tolerance": tol,
                "comparison": ">=", "passed": bool(value >= tol), "num_inputs": len(samples), "inputs": "images"}
    mse = float(np.mean((np.clip(keras_out, 0, 1) - np.clip(lite_out, 0, 1)) ** 2))
    value = 99.0 if mse == 0 else min(99.0, 10 * np.log10(1.0 / mse))
    return {"metric": "psnr_vs_keras_db", "value": round(float(value), 2), "tolerance": tol, "comparison": ">=",
            "passed": bool(value >= tol), "num_inputs": len(samples), "inputs": f"{samples.shape[1]}x{samples.shape[2]} crops"}


def sidecar(model, spec, name, quantize, signature, verification, content, io_dtype: str = "float32") -> dict:
    from zoo.restore import receptive_radius

    shape = [None if d is None else int(d) for d in signature.shape]
    info = {
        "format": "zoo-tflite-sidecar/1",
        "model": name,
        "quantize": quantize or "float32",
        "input": {"layout": "NHWC", "dtype": "float32", "range": [0.0, 1.0], "shape": shape,
                  "channels": spec.input_spec.channels if spec else None},
        "output": {"layout": "NHWC", "dtype": "float32", "shape": [None if d is None else int(d)
                                                                   for d in model.output_shape]},
        "sha256_tflite": hashlib.sha256(content).hexdigest(),
        "verification": verification,
    }
    if spec is not None and spec.task != "classification":
        scale = spec.input_spec.scale or 1
        info["task"] = spec.task
        info["scale"] = scale
        info["output"]["range"] = [0.0, 1.0]
        info["output"]["note"] = "clip to [0, 1]; the model may overshoot slightly"
        info["receptive_radius"] = receptive_radius(model)
        aligns = [getattr(layer, "tile_alignment", 1) for layer in model.layers]
        info["tile_alignment"] = max(a for a in aligns if isinstance(a, int))
        info["colour_space"] = {"rgb": "sRGB", "grey": "greyscale", "y": "BT.601 luma (Y of YCbCr)"}[
            spec.input_spec.channels]
        if spec.input_spec.channels == "y":
            info["input"]["note"] = "Y channel of the bicubic-upsampled image"
    elif spec is not None:
        info["task"] = "classification"
        info["output"]["meaning"] = "class probabilities (softmax)"
    from zoo.layers.noise_level import NoiseLevelMap  # keras: imported only when a model is exported

    levels = [layer.sigma for layer in model.layers if isinstance(layer, NoiseLevelMap)]
    if levels:  # a noise-conditioned denoiser (one level map): the level is fixed in this file
        info["noise_sigma"] = levels[0]
        info["noise_sigma_note"] = "the noise level (0-255 scale) this file is built for; export again for another"
    if io_dtype == "uint8":
        info["input"].update(dtype="uint8", range=[0, 255], quantization={"scale": PIXEL_SCALE, "zero_point": 0},
                             encoding="8-bit pixel values as they are: value v means v / 255")
        out = _interpreter(content).get_output_details()[0]
        scale, zero = (float(out["quantization"][0]), int(out["quantization"][1]))
        info["output"].update(dtype="uint8", quantization={"scale": scale, "zero_point": zero})
        if _task(model, spec) == "restoration":
            info["output"].update(range=[0, 255], note="8-bit pixel values, rounded and clipped by the model")
        else:
            info["output"]["encoding"] = "probability = scale * (value - zero_point)"
    return info


def tflite(model_or_name, path, quantize: str | None = None, representative_data=None, input_size=None,
           verify: bool = True, force: bool = False, verification_data=None, io_dtype: str = "float32") -> ExportReport:
    """Convert a zoo model to a builtin-ops ``.tflite``, verify it, write a sidecar JSON.

    Args:
        model_or_name: registered name (weights loaded) or a ``keras.Model``.
        path: output ``.tflite`` file; its parent folder must exist.
        quantize: None (float32), "float16", "dynamic" (int8 weights) or "int8" (int8
            weights and activations; needs representative data).
        representative_data: folder of images, NHWC array in [0, 1], or a callable yielding
            HWC arrays; default: the model's own dev data when ``../shared`` is present.
        input_size: (H, W) to fix the input size of a fully convolutional model
            (default: dynamic H x W; classifiers always use their input size).
        verify / force: compare with Keras on real inputs; a failure raises unless ``force``.
        io_dtype: "float32" (default) or, with ``quantize="int8"``, "uint8": the model takes
            8-bit pixel values (scale 1/255, zero point 0) and an image model returns 8-bit
            pixel values, so an app feeds camera bytes with no float conversion on either side.
    """
    import tensorflow as tf

    start = time.time()
    if quantize not in QUANTIZE_MODES:
        raise ZooError(f"unknown quantize mode {quantize!r}; use one of none, float16, dynamic, int8")
    if io_dtype not in IO_DTYPES:
        raise ZooError(f"unknown io_dtype {io_dtype!r}; use float32 or uint8")
    if io_dtype == "uint8" and quantize != "int8":
        raise ZooError(f"io_dtype='uint8' needs an int8 model (quantize='int8'), got quantize={quantize!r}")
    path = Path(path)
    if path.suffix != ".tflite":
        raise ZooError(f"output file {path} must end in .tflite")
    if not path.parent.is_dir():
        raise ZooError(f"output folder {path.parent} does not exist")
    if not os.access(path.parent, os.W_OK):
        raise ZooError(f"output folder {path.parent} is not writable")
    model, spec, name = _resolve(model_or_name)
    task = _task(model, spec)
    c = model.input_shape[-1]
    fixed = model.input_shape[1] is not None
    if fixed:
        h, w = model.input_shape[1:3]
    elif input_size is not None:
        h, w = (int(v) for v in input_size)
    else:
        h = w = None
    signature = tf.TensorSpec([1, h, w, c], tf.float32)

    representative = None
    if representative_data is not None:
        representative = _as_samples(representative_data, model, task, VERIFY_SIZE)
    if quantize == "int8":
        if representative is None:
            representative = default_samples(model, spec, task)
        if representative is None:
            raise ZooError(
                "int8 quantization needs representative data from the model's domain: pass "
                "representative_data=FOLDER_OF_IMAGES (or an NHWC array in [0, 1])"
            )
    content = _convert(model, signature, quantize, representative, io_dtype, pin_output=task != "classification")
    ops, float_ops = op_audit(content)
    if quantize == "int8" and float_ops and not force:
        raise ZooError(
            f"int8 export of {name} keeps float islands: {', '.join(sorted(set(float_ops)))} run in "
            f"float32; rewrite those layers with int8-capable ops or pass force=True"
        )

    verification = {"metric": "none", "value": None, "tolerance": None, "comparison": "", "passed": None,
                    "num_inputs": 0, "inputs": "not verified"}
    if verify:
        samples = verification_data if verification_data is not None else default_samples(model, spec, task)
        if samples is None and representative is not None:
            samples = representative
        if samples is None:
            raise ZooError(
                "no real inputs to verify the export with (../shared data absent): pass "
                "verification_data=FOLDER or ARRAY, or verify=False"
            )
        samples = _as_samples(samples, model, task, VERIFY_SIZE) if not isinstance(samples, np.ndarray) else samples
        if h is not None:
            if samples.shape[1] < h or samples.shape[2] < w:
                raise ZooError(f"verification inputs are {samples.shape[1]}x{samples.shape[2]}, smaller than "
                               f"the fixed input size {h}x{w}; give larger images or another input_size")
            samples = samples[:, :h, :w]
        verification = _verify(model, content, samples[:32], task, quantize)
        if not verification["passed"] and not force:
            raise ZooError(
                f"the {quantize or 'float32'} TFLite model disagrees with Keras: {verification['metric']} = "
                f"{verification['value']}, needs >= {verification['tolerance']}; nothing written "
                f"(pass force=True / --force to keep it anyway)"
            )

    meta = sidecar(model, spec, name, quantize, signature, verification, content, io_dtype)
    meta["ops"] = ops
    meta["float_ops"] = sorted(set(float_ops))
    side = path.with_suffix(".json")
    for target, data in ((path, content), (side, (json.dumps(meta, indent=2) + "\n").encode())):
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=target.suffix)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, target)
    return ExportReport(str(path), str(side), quantize, len(content), ops, sorted(set(float_ops)), verification,
                        round(time.time() - start, 2))
