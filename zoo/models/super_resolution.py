"""Super-resolution family: SRCNN, xSRCNN, SRResNet, xSRResNet and the zoo's xunit_sr nets.

Contract: float32 NHWC in [0, 1].  ``srcnn``/``xsrcnnf``/``xsrcnnc`` take the Y
channel (BT.601) of the bicubic-upsampled image and return the restored Y at
the same size; the others take the RGB low-resolution image and return an RGB
image ``scale`` times larger.  Parameter counts below are trainable parameters
(batch-norm moving statistics excluded), as the papers count them.

Example::

    import zoo
    sr = zoo.load("xunit_sr_x4")                       # 4x RGB super-resolution
    hr = sr.predict(lr_rgb_in_0_1[None])[0].clip(0, 1)
"""

from __future__ import annotations

import keras
from keras import layers

from zoo.layers import BatchNormalization, PixelShuffle, XUnit
from zoo.registry import InputSpec, WeightTag, register

SRCNN_PAPER = "Dong, Loy, He, Tang, Image Super-Resolution Using Deep Convolutional Networks, TPAMI 2016"
XUNIT_PAPER = ("Kligvasser, Rott Shaham, Michaeli, xUnit: Learning a Spatial Activation Function "
               "for Efficient Image Restoration, CVPR 2018")
SRRESNET_PAPER = "Ledig et al., Photo-Realistic Single Image Super-Resolution Using a GAN, CVPR 2017"

Y_PRE_UPSAMPLED = InputSpec(shape=(None, None, 1), channels="y")


def _pytorch_bn(name):
    return BatchNormalization(epsilon=1e-5, momentum=0.9, name=name)


def build_srcnn(*, filters=(64, 32), kernels=(9, 5, 5), xunit=False, xunit_kernel=9, name="srcnn"):
    """SRCNN (9-5-5) and its xUnit variants: conv -> act -> conv -> act -> conv on bicubic Y."""
    inputs = keras.Input((None, None, 1), name="y_bicubic")
    x = inputs
    for i, (f, k) in enumerate(zip(filters, kernels[:2]), start=1):
        x = layers.Conv2D(f, k, padding="same", name=f"conv{i}")(x)
        x = XUnit(xunit_kernel, name=f"xunit{i}")(x) if xunit else layers.ReLU(name=f"relu{i}")(x)
    outputs = layers.Conv2D(1, kernels[2], padding="same", name=f"conv{len(filters) + 1}")(x)
    return keras.Model(inputs, outputs, name=name)


@register(family="super_resolution", task="super_resolution", paper=SRCNN_PAPER, input_spec=Y_PRE_UPSAMPLED)
def srcnn(*, filters=(64, 32), kernels=(9, 5, 5)):
    """SRCNN 9-5-5 (57,281 parameters) on the bicubic-upsampled Y channel."""
    return build_srcnn(filters=filters, kernels=kernels, name="srcnn")


@register(family="super_resolution", task="super_resolution", paper=XUNIT_PAPER, input_spec=Y_PRE_UPSAMPLED)
def xsrcnnf(*, xunit_kernel=9):
    """xSRCNNf: SRCNN with xUnits and a 3x3 middle layer (32,769 parameters), bicubic Y input."""
    return build_srcnn(filters=(64, 32), kernels=(9, 3, 5), xunit=True, xunit_kernel=xunit_kernel, name="xsrcnnf")


@register(family="super_resolution", task="super_resolution", paper=XUNIT_PAPER, input_spec=Y_PRE_UPSAMPLED)
def xsrcnnc(*, xunit_kernel=9):
    """xSRCNNc: SRCNN with xUnits and 42 first-layer filters (44,241 parameters), bicubic Y input."""
    return build_srcnn(filters=(42, 32), kernels=(9, 5, 5), xunit=True, xunit_kernel=xunit_kernel, name="xsrcnnc")


def build_srresnet(*, scale=4, blocks=16, filters=64, xunit=False, xunit_kernel=9, name="srresnet"):
    """SRResNet (Ledig et al.) or xSRResNet (conv -> xUnit -> conv -> BN blocks), LR RGB in."""
    if scale not in (2, 4, 8):
        raise ValueError(f"SRResNet upsamples by powers of two (2, 4, 8), got {scale}")
    inputs = keras.Input((None, None, 3), name="lr_rgb")
    x = layers.Conv2D(filters, 9, padding="same", name="head_conv")(inputs)
    x = head = layers.PReLU(shared_axes=[1, 2, 3], name="head_prelu")(x)
    for b in range(blocks):
        y = layers.Conv2D(filters, 3, padding="same", name=f"block{b}_conv1")(x)
        if xunit:
            y = XUnit(xunit_kernel, name=f"block{b}_xunit")(y)
        else:
            y = _pytorch_bn(f"block{b}_bn1")(y)
            y = layers.PReLU(shared_axes=[1, 2, 3], name=f"block{b}_prelu")(y)
        y = layers.Conv2D(filters, 3, padding="same", name=f"block{b}_conv2")(y)
        y = _pytorch_bn(f"block{b}_bn2")(y)
        x = layers.Add(name=f"block{b}_add")([x, y])
    x = layers.Conv2D(filters, 3, padding="same", name="body_conv")(x)
    x = _pytorch_bn("body_bn")(x)
    x = layers.Add(name="body_add")([head, x])
    for u in range(scale.bit_length() - 1):
        x = layers.Conv2D(filters * 4, 3, padding="same", name=f"up{u}_conv")(x)
        x = PixelShuffle(2, name=f"up{u}_shuffle")(x)
        x = layers.PReLU(shared_axes=[1, 2, 3], name=f"up{u}_prelu")(x)
    outputs = layers.Conv2D(3, 9, padding="same", name="tail_conv")(x)
    return keras.Model(inputs, outputs, name=name)


@register(family="super_resolution", task="super_resolution", paper=SRRESNET_PAPER,
          input_spec=InputSpec(shape=(None, None, 3), channels="rgb", scale=4))
def srresnet(*, scale=4, blocks=16):
    """SRResNet x4: 16 residual blocks, PixelShuffle x2 stages (1,549,462 parameters)."""
    return build_srresnet(scale=scale, blocks=blocks, name="srresnet")


@register(family="super_resolution", task="super_resolution", paper=XUNIT_PAPER,
          input_spec=InputSpec(shape=(None, None, 3), channels="rgb", scale=4))
def xsrresnet(*, scale=4, blocks=10, xunit_kernel=9):
    """xSRResNet x4: 10 blocks of conv -> xUnit -> conv -> BN with skips (1,158,534 parameters)."""
    return build_srresnet(scale=scale, blocks=blocks, xunit=True, xunit_kernel=xunit_kernel, name="xsrresnet")


# --- the zoo's mobile SR nets -------------------------------------------------------------
#
# Design chosen by measurement (tools/sr_design_sweep.py -> docs/sr_design_x4.md): at equal short
# budgets the xUnit's batch norms were worth about +0.8 dB on Set5 x4, while width / depth /
# kernel (f44 b4 k7, f40 b4 k9, f36 b5 k7, f32 b6 k5) moved it by less than 0.1 dB. 43 filters
# keep the x4 net under 100,000 parameters with the batch-norm statistics counted. At that short
# budget the ReLU twin was ahead; the full-budget comparison is in the weights' metrics.


#: The mobile nets clip the xUnit gate's ``d`` to +-3 before squaring: the float output moves by
#: < 1.2e-4 per gate (Set5 x4 PSNR unchanged to 1e-4 dB) while int8 TFLite keeps the gate's
#: resolution near 1 -- Set5 x4 int8 loss 0.83 dB -> 0.07 dB for xunit_sr_x4 (see XUnit).
GATE_CLIP = 3.0


def build_xunit_sr(*, scale, filters=43, blocks=4, kernel_size=7, activation="xunit", batch_norm=True,
                   gate_clip=None, name=None):
    """LR-space body with xUnit (or ReLU) activations, one conv to ``3 * scale^2`` channels,
    plus the nearest-upsampled input as a global skip, then depth_to_space.

    Every op has a builtin (and int8) TFLite kernel; any H x W works.
    """
    if activation not in ("xunit", "relu"):
        raise ValueError(f"activation must be 'xunit' or 'relu', got {activation!r}")
    inputs = keras.Input((None, None, 3), name="lr_rgb")
    x = layers.Rescaling(1.0, offset=-0.5, name="center")(inputs)
    x = layers.Conv2D(filters, 3, padding="same", name="head_conv")(x)
    for b in range(blocks):
        x = layers.Conv2D(filters, 3, padding="same", name=f"body{b}_conv")(x)
        if activation == "xunit":
            x = XUnit(kernel_size, batch_norm=batch_norm, gate_clip=gate_clip, name=f"body{b}_xunit")(x)
        else:
            x = layers.ReLU(name=f"body{b}_relu")(x)
    x = layers.Conv2D(3 * scale * scale, 3, padding="same", name="tail_conv")(x)
    # Nearest-neighbour skip done in LR space: s^2 copies of the input shuffled to HR are
    # exactly nearest upsampling, with ops (CONCATENATION, DEPTH_TO_SPACE) that stay int8.
    skip = layers.Concatenate(name="skip_copies")([inputs] * (scale * scale)) if scale > 1 else inputs
    x = layers.Add(name="add_skip")([x, skip])
    outputs = PixelShuffle(scale, name="shuffle")(x)
    return keras.Model(inputs, outputs, name=name or f"{activation}_sr_x{scale}")


def _sr_tag(scale, tag="sr291", design="", builder_kwargs=None):
    return WeightTag(
        tag=tag,
        description=f"x{scale} on T91 + BSD200 (the '291' set), MATLAB bicubic degradation, L1 loss{design}",
        recipe=f"xunit_sr_x{scale}_sr291",
        dataset="T91+BSD200",
        scale=scale,
        builder_kwargs=dict(builder_kwargs or {}),
    )


def _mobile_spec(scale):
    return InputSpec(shape=(None, None, 3), channels="rgb", scale=scale)


@register(family="super_resolution", task="super_resolution", paper=XUNIT_PAPER, input_spec=_mobile_spec(2),
          tags=(_sr_tag(2),), default_tag="sr291")
def xunit_sr_x2(*, filters=43, blocks=4, kernel_size=7, batch_norm=True, gate_clip=GATE_CLIP):
    """zoo's mobile x2 super-resolution net: xUnit LR-space body + depth_to_space, under 100K parameters."""
    return build_xunit_sr(scale=2, filters=filters, blocks=blocks, kernel_size=kernel_size,
                          batch_norm=batch_norm, gate_clip=gate_clip, name="xunit_sr_x2")


@register(family="super_resolution", task="super_resolution", paper=XUNIT_PAPER, input_spec=_mobile_spec(3),
          tags=(_sr_tag(3),), default_tag="sr291")
def xunit_sr_x3(*, filters=43, blocks=4, kernel_size=7, batch_norm=True, gate_clip=GATE_CLIP):
    """zoo's mobile x3 super-resolution net: xUnit LR-space body + depth_to_space, under 100K parameters."""
    return build_xunit_sr(scale=3, filters=filters, blocks=blocks, kernel_size=kernel_size,
                          batch_norm=batch_norm, gate_clip=gate_clip, name="xunit_sr_x3")


_X4_TAGS = (
    _sr_tag(4, "sr291_k3", "; the phone-first design (3x3 xUnit kernels: fast XNNPACK depthwise), recipe version 2"),
    _sr_tag(4, "sr291", "; the first design (7x7 xUnit kernels, recipe version 1), several times slower in int8 "
            "LiteRT (docs/benchmark_xunit_sr_x4.sr291.md)", builder_kwargs={"filters": 43, "kernel_size": 7}),
)


@register(family="super_resolution", task="super_resolution", paper=XUNIT_PAPER, input_spec=_mobile_spec(4),
          tags=_X4_TAGS, default_tag="sr291_k3")
def xunit_sr_x4(*, filters=45, blocks=4, kernel_size=3, batch_norm=True, gate_clip=GATE_CLIP):
    """zoo's mobile x4 super-resolution net: xUnit LR-space body + depth_to_space, under 100K parameters.

    Defaults are the phone-first design (45 filters, 3x3 xUnit kernels, 97,068 parameters):
    LiteRT's XNNPACK has fast depthwise kernels up to 5x5 only (docs/sr_design_x4.md).
    """
    return build_xunit_sr(scale=4, filters=filters, blocks=blocks, kernel_size=kernel_size,
                          batch_norm=batch_norm, gate_clip=gate_clip, name="xunit_sr_x4")


@register(family="super_resolution", task="super_resolution", paper=XUNIT_PAPER, input_spec=_mobile_spec(4),
          tags=(WeightTag(tag="sr291", description="x4 ReLU twin of xunit_sr_x4, same recipe and budget",
                          recipe="relu_sr_x4_sr291", dataset="T91+BSD200", scale=4),),
          default_tag="sr291")
def relu_sr_x4(*, filters=46, blocks=4):
    """Plain-ReLU twin of xunit_sr_x4, widened to the same parameter budget (the xUnit control)."""
    return build_xunit_sr(scale=4, filters=filters, blocks=blocks, activation="relu", batch_norm=False,
                          name="relu_sr_x4")
