"""tf_keras rebuild of the mobile super-resolution nets (``xunit_sr_x2/x3/x4``, ``relu_sr_x4``) for tfmot.

Imported only by the tfmot child process (:mod:`zoo.optimize._worker`).  The Keras 3
``XUnit`` layer is spelled out as the standard layers tfmot knows how to prune and quantize:

    z -> BN -> ReLU -> DepthwiseConv -> BN -> clip(., -c, c) -> d*d -> *(-1) -> exp -> * z

(the custom element-wise layers carry output-only QuantizeConfigs for QAT).

The twin computes the same function as the Keras 3 model (the worker refuses a twin that
differs by more than 1e-4 on real weights; 7e-7 measured).  Sub-layers are named
``<xunit name>_bn_in``, ``_depthwise`` and ``_bn_out`` so weights copy both ways by name.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf
import tf_keras
import tensorflow_model_optimization as tfmot

L = tf_keras.layers
_quantizers = tfmot.quantization.keras.quantizers


class _OutputQuantized(tfmot.quantization.keras.QuantizeConfig):
    """QuantizeConfig for weightless element-wise layers: fake-quantize the output only."""

    def get_weights_and_quantizers(self, layer):
        return []

    def get_activations_and_quantizers(self, layer):
        return []

    def set_quantize_weights(self, layer, quantize_weights):
        pass

    def set_quantize_activations(self, layer, quantize_activations):
        pass

    def get_output_quantizers(self, layer):
        return [_quantizers.MovingAverageQuantizer(num_bits=8, per_axis=False, symmetric=False, narrow_range=False)]

    def get_config(self):
        return {}


class _SameScale(_OutputQuantized):
    """Data-movement layers (depth_to_space): int8 kernels keep the input's scale, add no quantizer."""

    def get_output_quantizers(self, layer):
        return []


class Affine(L.Layer):
    """``x * scale + offset`` with constants: the Keras 3 net's ``Rescaling(1, offset=-0.5)``, and
    ``x * -1`` for the gate (a MUL by a constant is int8 in TFLite, NEG is not)."""

    def __init__(self, scale=1.0, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale, self.offset = float(scale), float(offset)

    def call(self, x):
        y = x * self.scale if self.scale != 1.0 else x
        return y + self.offset if self.offset != 0.0 else y

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "offset": self.offset}


class Clip(L.Layer):
    """``clip(x, -limit, limit)``: the mobile nets' gate clip, applied to ``d`` before squaring as
    in the Keras 3 layer, so int8 quantizes ``d^2`` over ``[0, limit^2]``."""

    def __init__(self, limit, **kwargs):
        super().__init__(**kwargs)
        self.limit = float(limit)

    def call(self, x):
        return tf.clip_by_value(x, -self.limit, self.limit)

    def get_config(self):
        return {**super().get_config(), "limit": self.limit}


class Exp(L.Layer):
    def call(self, x):
        return tf.exp(x)


class DepthToSpace(L.Layer):
    def __init__(self, scale, **kwargs):
        super().__init__(**kwargs)
        self.scale = int(scale)

    def call(self, x):
        return tf.nn.depth_to_space(x, self.scale)

    def get_config(self):
        return {**super().get_config(), "scale": self.scale}


CUSTOM_OBJECTS = {"Affine": Affine, "Clip": Clip, "Exp": Exp, "DepthToSpace": DepthToSpace,
                  "_OutputQuantized": _OutputQuantized, "_SameScale": _SameScale}


def quantize_config_for(layer):
    """tfmot QuantizeConfig of the twin's custom layers (None: tfmot's default registry)."""
    if isinstance(layer, (Affine, Clip, Exp, L.Multiply)):  # tfmot's registry has no Multiply
        return _OutputQuantized()
    if isinstance(layer, DepthToSpace):
        return _SameScale()
    return None


def _xunit(x, name, kernel_size, gate_clip, fold_batch_norm):
    if fold_batch_norm:  # inference-form BN: bn_in a per-channel affine, bn_out inside the depthwise
        a = L.DepthwiseConv2D(1, name=f"{name}_bn_in")(x)
        a = L.ReLU(name=f"{name}_relu")(a)
        d = L.DepthwiseConv2D(kernel_size, padding="same", name=f"{name}_depthwise")(a)
    else:
        a = L.BatchNormalization(epsilon=1e-5, momentum=0.9, name=f"{name}_bn_in")(x)
        a = L.ReLU(name=f"{name}_relu")(a)
        d = L.DepthwiseConv2D(kernel_size, padding="same", name=f"{name}_depthwise")(a)
        d = L.BatchNormalization(epsilon=1e-5, momentum=0.9, name=f"{name}_bn_out")(d)
    if gate_clip is not None:
        d = Clip(gate_clip, name=f"{name}_clip")(d)
    sq = L.Multiply(name=f"{name}_square")([d, d])
    g = Exp(name=f"{name}_exp")(Affine(scale=-1.0, name=f"{name}_neg")(sq))
    return L.Multiply(name=f"{name}_mul")([x, g])


def build_mobile_sr_twin(config: dict, fold_batch_norm: bool = False):
    """tf_keras twin from the Keras 3 model's builder arguments (scale, filters, blocks, ...).

    ``fold_batch_norm`` gives the inference form tfmot's QAT needs (it has no standalone
    batch norm): ``bn_in`` becomes a 1x1 depthwise (per-channel scale + shift) and ``bn_out``
    is folded into the k x k depthwise.
    """
    scale, filters, blocks = int(config["scale"]), int(config["filters"]), int(config["blocks"])
    activation = config.get("activation", "xunit")
    inputs = tf_keras.Input((None, None, 3), name="lr_rgb")
    x = Affine(offset=-0.5, name="center")(inputs)
    x = L.Conv2D(filters, 3, padding="same", name="head_conv")(x)
    for b in range(blocks):
        x = L.Conv2D(filters, 3, padding="same", name=f"body{b}_conv")(x)
        if activation == "xunit":
            if not config.get("batch_norm", True):
                raise ValueError("the tf_keras twin covers xUnits with batch norm only")
            x = _xunit(x, f"body{b}_xunit", int(config["kernel_size"]), config.get("gate_clip"), fold_batch_norm)
        else:
            x = L.ReLU(name=f"body{b}_relu")(x)
    x = L.Conv2D(3 * scale * scale, 3, padding="same", name="tail_conv")(x)
    skip = L.Concatenate(name="skip_copies")([inputs] * (scale * scale)) if scale > 1 else inputs
    x = L.Add(name="add_skip")([x, skip])
    return tf_keras.Model(inputs, DepthToSpace(scale, name="shuffle")(x), name=config.get("name", "sr_twin"))


def _xunit_parts(layer):
    return {"bn_in": layer.bn_in, "depthwise": layer.depthwise, "bn_out": layer.bn_out}


def _bn_affine(bn):
    gamma, beta, mean, var = bn.get_weights()
    scale = gamma / np.sqrt(var + bn.epsilon)
    return scale, beta - mean * scale


def copy_folded(k3, twin) -> None:
    """Keras 3 weights into the ``fold_batch_norm`` twin (one way: folding loses the split)."""
    for layer in k3.layers:
        if not layer.weights:
            continue
        if type(layer).__name__ != "XUnit":
            twin.get_layer(layer.name).set_weights(layer.get_weights())
            continue
        s_in, t_in = _bn_affine(layer.bn_in)
        twin.get_layer(f"{layer.name}_bn_in").set_weights([s_in[None, None, :, None], t_in])
        kernel, bias = layer.depthwise.get_weights()
        s_out, t_out = _bn_affine(layer.bn_out)
        twin.get_layer(f"{layer.name}_depthwise").set_weights(
            [kernel * s_out[None, None, :, None], bias * s_out + t_out])


def copy_weights(src, dst, *, to_twin: bool) -> None:
    """Copy weights between the Keras 3 net and its twin by layer name (XUnit via its sub-layers)."""
    k3, twin = (src, dst) if to_twin else (dst, src)
    twin_layers = {layer.name: layer for layer in twin.layers}
    used = set()
    for layer in k3.layers:
        if not layer.weights:
            continue
        if type(layer).__name__ == "XUnit":
            pairs = [(sub, twin_layers[f"{layer.name}_{part}"]) for part, sub in _xunit_parts(layer).items()]
        else:
            pairs = [(layer, twin_layers[layer.name])]
        for k3_layer, twin_layer in pairs:
            used.add(twin_layer.name)
            if to_twin:
                twin_layer.set_weights(k3_layer.get_weights())
            else:
                k3_layer.set_weights(twin_layer.get_weights())
    missing = [n for n, layer in twin_layers.items() if layer.weights and n not in used]
    if missing:
        raise ValueError(f"twin layers without a Keras 3 counterpart: {missing}")


def config_of(k3_model, name: str) -> dict:
    """Builder arguments of a Keras 3 mobile SR net, read from its layers."""
    scale = k3_model.get_layer("shuffle").scale
    body = [layer for layer in k3_model.layers if layer.name.startswith("body") and layer.name.endswith("_conv")]
    xunits = [layer for layer in k3_model.layers if type(layer).__name__ == "XUnit"]
    cfg = {"scale": scale, "filters": k3_model.get_layer("head_conv").filters, "blocks": len(body), "name": name,
           "activation": "xunit" if xunits else "relu"}
    if xunits:
        cfg.update(kernel_size=xunits[0].kernel_size, gate_clip=xunits[0].gate_clip,
                   batch_norm=xunits[0].batch_norm)
    return cfg


def twin_of(k3_model, name: str, fold_batch_norm: bool = False):
    config = config_of(k3_model, name)
    twin = build_mobile_sr_twin(config, fold_batch_norm=fold_batch_norm and config["activation"] == "xunit")
    if fold_batch_norm and config["activation"] == "xunit":
        copy_folded(k3_model, twin)
    else:
        copy_weights(k3_model, twin, to_twin=True)
    return twin


def max_abs_difference(k3_model, twin, x: np.ndarray) -> float:
    return float(np.max(np.abs(np.asarray(k3_model(x, training=False)) - twin(x, training=False).numpy())))
