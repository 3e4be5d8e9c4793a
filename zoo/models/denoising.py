"""Denoising family: DnCNN, xDnCNN (xUnit) and CSCNet, grey Gaussian denoisers.

Contract: float32 NHWC grey images ``(H, W, 1)`` in [0, 1], any ``H x W`` (fully
convolutional; CSCNet needs at least 23 x 23 for its reflect padding); the output is the
denoised image, same shape, **not** clipped (clip to [0, 1] before saving).  DnCNN and xDnCNN
predict the noise internally and subtract it (``output = input - residual``); CSCNet
reconstructs the clean image directly (``C gamma``).  Parameter counts are trainable parameters
(batch-norm moving statistics excluded), as the papers count them.

Names
-----
Two layers of names, so that the published denoisers are found by what they do:

* **architectures** -- ``dncnn`` (DnCNN-S, 17 layers), ``dncnn_b`` (DnCNN-B, 20 layers, blind),
  ``xdncnn`` (xDnCNN of the xUnit paper), ``ffdnet`` (FFDNet, the noise level a build option),
  ``cscnet`` (CSCNet) and ``deep_ksvd`` (Deep K-SVD).  They carry no weights: use
  them with ``weights=None`` (training, research) or ``weights=PATH`` (e.g. a port of the
  authors' checkpoint made with ``tools/port_weights.py``), and with every builder option.
* **ready-to-use denoisers** -- one registered entry point per noise level, named
  ``<net>_s<sigma>`` (``_blind`` for the blind one): ``xunit_dn_s15``, ``xunit_dn_s25``,
  ``xunit_dn_s50``, ``xunit_dn_blind``, ``cscnet_s15``, ``cscnet_s25``, ``cscnet_s50`` and
  ``dncnn_s25``.  Each builds its architecture with the right options and has exactly one
  weight tag, its default, so ``zoo.load("xunit_dn_s25")`` loads the published weights
  (``xunit_dn_s25.train400``).  The tag names where the weights come from -- ``train400``: zoo
  recipes on the 400 BSD training images of DnCNN (recipe = the entry point's name, e.g.
  ``xunit_dn_s25``), ``kair``: ported from cszn/KAIR (MIT) -- and records ``sigma`` (the noise
  level on the 0-255 scale; ``None`` for the blind net), which ``zoo denoise --sigma`` checks.

Example::

    import zoo
    net = zoo.load("xunit_dn_s25")                 # sigma-25 grey denoiser
    clean = net.predict(noisy_grey_0_1[None, ..., None])[0, ..., 0].clip(0, 1)
    zoo.load("dncnn_s25", weights=None).count_params()   # 555,137 (KAIR's BN-merged DnCNN)
"""

from __future__ import annotations

import keras
from keras import layers

from zoo.layers import BatchNormalization, CropLike, NoiseLevelMap, PadToMultiple, PixelShuffle, PixelUnshuffle, XUnit
from zoo.layers.cscnet import ConvLista
from zoo.registry import InputSpec, WeightTag, register

DNCNN_PAPER = ("Zhang, Zuo, Chen, Meng, Zhang, Beyond a Gaussian Denoiser: Residual Learning of Deep CNN "
               "for Image Denoising, IEEE TIP 2017")
XUNIT_PAPER = ("Kligvasser, Rott Shaham, Michaeli, xUnit: Learning a Spatial Activation Function "
               "for Efficient Image Restoration, CVPR 2018")
CSCNET_PAPER = "Simon, Elad, Rethinking the CSC Model for Natural Images, NeurIPS 2019"
FFDNET_PAPER = ("Zhang, Zuo, Zhang, FFDNet: Toward a Fast and Flexible Solution for CNN-Based Image Denoising, "
                "IEEE TIP 2018")

GREY = InputSpec(shape=(None, None, 1), channels="grey")

#: Noise levels of the zoo's non-blind denoisers (0-255 scale).
SIGMAS = (15, 25, 50)
#: The blind denoiser is trained on sigma drawn uniformly from this range (DnCNN-B's).
BLIND_RANGE = (0, 55)


def _noisy_input():
    return keras.Input((None, None, 1), name="noisy")


# ------------------------------------------------------------------------------------ DnCNN


def build_dncnn(*, depth=17, filters=64, batch_norm=True, bn_epsilon=1e-4, name="dncnn"):
    """DnCNN: conv+ReLU, ``depth - 2`` x [conv+BN+ReLU], conv -> 1 (the noise); out = in - noise.

    As the authors' code (MatConvNet, and their Keras/PyTorch re-implementations): only the first
    convolution has a bias -- the middle ones are followed by batch norm (epsilon 1e-4, their
    value) and the last has none -- which gives DnCNN-S's 556,096 trainable parameters.
    ``batch_norm=False`` is the BN-merged inference form (KAIR's ``model_zoo/dncnn_*.pth``): no
    batch norm, a bias in every convolution (555,137 parameters at depth 17).
    """
    if int(depth) < 3:
        raise ValueError(f"DnCNN needs depth >= 3 (first, middle and last layers), got {depth}")
    inputs = _noisy_input()
    x = layers.Conv2D(filters, 3, padding="same", name="conv1")(inputs)
    x = layers.ReLU(name="relu1")(x)
    for i in range(2, depth):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=not batch_norm, name=f"conv{i}")(x)
        if batch_norm:
            x = BatchNormalization(epsilon=bn_epsilon, momentum=0.9, name=f"bn{i}")(x)
        x = layers.ReLU(name=f"relu{i}")(x)
    noise = layers.Conv2D(1, 3, padding="same", use_bias=not batch_norm, name=f"conv{depth}")(x)
    outputs = layers.Subtract(name="subtract_noise")([inputs, noise])
    return keras.Model(inputs, outputs, name=name)


@register(family="denoising", task="denoising", paper=DNCNN_PAPER, input_spec=GREY)
def dncnn(*, depth=17, batch_norm=True):
    """DnCNN-S: 17 layers, 64 channels, residual (556,096 parameters; 555,137 BN-merged)."""
    return build_dncnn(depth=depth, batch_norm=batch_norm, name="dncnn")


@register(family="denoising", task="denoising", paper=DNCNN_PAPER, input_spec=GREY)
def dncnn_b(*, depth=20, batch_norm=True):
    """DnCNN-B: the 20-layer blind DnCNN (sigma in [0, 55]), 667,072 parameters."""
    return build_dncnn(depth=depth, batch_norm=batch_norm, name="dncnn_b")


@register(family="denoising", task="denoising", paper=DNCNN_PAPER, input_spec=GREY,
          tags=(WeightTag(tag="kair", description="DnCNN-S sigma 25 of cszn/KAIR model_zoo/dncnn_25.pth "
                          "(the authors' MatConvNet model with batch norm merged into the convolutions)",
                          ported_from="https://github.com/cszn/KAIR/blob/fc1732f4a4514e42ce15e5b3a1e18c828af47a1e/"
                          "model_zoo/dncnn_25.pth",
                          builder_kwargs={"batch_norm": False}, dataset="Train400", license="MIT",
                          sigma=25.0),),
          default_tag="kair")
def dncnn_s25(*, batch_norm=False):
    """DnCNN-S for noise sigma 25: the authors' weights via KAIR (BN merged, 555,137 parameters)."""
    return build_dncnn(depth=17, batch_norm=batch_norm, name="dncnn_s25")


# ----------------------------------------------------------------------------------- xDnCNN


def build_xdncnn(*, cells=8, filters=64, kernel_size=3, xunit_kernel=9, name="xdncnn"):
    """xDnCNN (kligvasser/xUnit 2018 ``denoising/models.py``): ``cells`` x [conv -> xUnit], batch
    norm before every cell but the first, a final conv to one channel (the noise); out = in - noise.

    Batch norms use PyTorch's epsilon 1e-5 (the authors' weights port exactly).
    """
    inputs = _noisy_input()
    x = inputs
    for i in range(1, cells + 1):
        if i > 1:
            x = BatchNormalization(epsilon=1e-5, momentum=0.9, name=f"bn{i}")(x)
        x = layers.Conv2D(filters, kernel_size, padding="same", name=f"conv{i}")(x)
        x = XUnit(xunit_kernel, name=f"xunit{i}")(x)
    noise = layers.Conv2D(1, kernel_size, padding="same", name=f"conv{cells + 1}")(x)
    outputs = layers.Subtract(name="subtract_noise")([inputs, noise])
    return keras.Model(inputs, outputs, name=name)


@register(family="denoising", task="denoising", paper=XUNIT_PAPER, input_spec=GREY)
def xdncnn(*, cells=8, filters=64, xunit_kernel=9):
    """xDnCNN: 8 cells of conv 3x3 + xUnit (9x9), residual (304,641 parameters)."""
    return build_xdncnn(cells=cells, filters=filters, xunit_kernel=xunit_kernel, name="xdncnn")


def _train400_tag(sigma, recipe, tag="train400", note=""):
    if sigma is None:
        lo, hi = BLIND_RANGE
        what = f"blind: noise sigma drawn uniformly from [{lo}, {hi}] per patch"
    else:
        what = f"Gaussian noise sigma {sigma:g}"
    return WeightTag(tag=tag, description=f"{what}, 400 BSD training images (DnCNN's Train400), "
                     f"MSE loss{note}", recipe=recipe, dataset="Train400", sigma=sigma,
                     sigma_range=BLIND_RANGE if sigma is None else None)


def _xunit_dn(sigma, name, extra_tags=()):
    return register(family="denoising", task="denoising", paper=XUNIT_PAPER, input_spec=GREY,
                    tags=(_train400_tag(sigma, name), *extra_tags), default_tag="train400")


@_xunit_dn(15.0, "xunit_dn_s15")
def xunit_dn_s15(*, cells=8, filters=64, xunit_kernel=9):
    """xDnCNN grey denoiser for noise sigma 15 (304,641 parameters)."""
    return build_xdncnn(cells=cells, filters=filters, xunit_kernel=xunit_kernel, name="xunit_dn_s15")


@_xunit_dn(25.0, "xunit_dn_s25", extra_tags=(
    _train400_tag(25.0, "xunit_dn_s25_long", tag="train400_long",
                  note="; train400 continued with a second cosine schedule (budget: recipe xunit_dn_s25_long)"),))
def xunit_dn_s25(*, cells=8, filters=64, xunit_kernel=9):
    """xDnCNN grey denoiser for noise sigma 25 (304,641 parameters)."""
    return build_xdncnn(cells=cells, filters=filters, xunit_kernel=xunit_kernel, name="xunit_dn_s25")


@_xunit_dn(50.0, "xunit_dn_s50")
def xunit_dn_s50(*, cells=8, filters=64, xunit_kernel=9):
    """xDnCNN grey denoiser for noise sigma 50 (304,641 parameters)."""
    return build_xdncnn(cells=cells, filters=filters, xunit_kernel=xunit_kernel, name="xunit_dn_s50")


@_xunit_dn(None, "xunit_dn_blind")
def xunit_dn_blind(*, cells=8, filters=64, xunit_kernel=9):
    """xDnCNN blind grey denoiser, noise sigma 0-55 (304,641 parameters)."""
    return build_xdncnn(cells=cells, filters=filters, xunit_kernel=xunit_kernel, name="xunit_dn_blind")


# ----------------------------------------------------------------------------------- FFDNet

#: Noise levels FFDNet (grey) was trained for, on the 0-255 scale.
FFDNET_SIGMA_RANGE = (0.0, 75.0)


def build_ffdnet(*, sigma=25.0, depth=15, filters=64, name="ffdnet"):
    """FFDNet (grey): the image is padded to even size (edge repeated), folded into 4 half-size
    sub-images, a constant noise-level map ``sigma / 255`` is appended, ``depth`` 3x3 convs
    (ReLU between) predict the 4 clean sub-images, which are unfolded and cropped back.

    The network works at half resolution (about 4x cheaper than DnCNN per pixel) and one set of
    weights serves every noise level: ``sigma`` is a build option, not a weight.
    """
    lo, hi = FFDNET_SIGMA_RANGE
    if not lo <= float(sigma) <= hi:
        raise ValueError(f"FFDNet takes a noise level sigma in [{lo:g}, {hi:g}] (0-255 scale), got {sigma}")
    if int(depth) < 2:
        raise ValueError(f"FFDNet needs depth >= 2 (first and last conv), got {depth}")
    inputs = _noisy_input()
    x = PadToMultiple(2, name="pad_even")(inputs)
    x = PixelUnshuffle(2, name="unshuffle")(x)
    x = NoiseLevelMap(sigma, name="noise_map")(x)
    for i in range(1, depth):
        x = layers.Conv2D(filters, 3, padding="same", name=f"conv{i}")(x)
        x = layers.ReLU(name=f"relu{i}")(x)
    x = layers.Conv2D(4, 3, padding="same", name=f"conv{depth}")(x)
    x = PixelShuffle(2, name="shuffle")(x)
    outputs = CropLike(name="crop")([x, inputs])
    return keras.Model(inputs, outputs, name=name)


@register(family="denoising", task="denoising", paper=FFDNET_PAPER, input_spec=GREY)
def ffdnet(*, sigma=25.0, depth=15):
    """FFDNet grey, one network for noise levels 0-75 set by ``sigma`` (485,316 parameters).

    No weights are published (the authors' files carry no licence); port them with
    ``tools/port_weights.py FFDNet_gray.mat --arch ffdnet --out ffdnet.weights.h5``, then
    ``zoo.load("ffdnet", weights="ffdnet.weights.h5", sigma=30)`` gives the sigma-30 denoiser.
    """
    return build_ffdnet(sigma=sigma, depth=depth, name="ffdnet")


# ----------------------------------------------------------------------------------- CSCNet


def build_cscnet(*, filters=175, kernel_size=11, stride=8, unfoldings=12, shift_average=True,
                 name="cscnet"):
    """CSCNet: convolutional LISTA (:class:`zoo.layers.cscnet.ConvLista`) on the noisy image,
    output the reconstruction ``C gamma``, averaged over the ``stride^2`` shifts."""
    inputs = _noisy_input()
    outputs = ConvLista(filters=filters, kernel_size=kernel_size, stride=stride, unfoldings=unfoldings,
                        shift_average=shift_average, name="lista")(inputs)
    return keras.Model(inputs, outputs, name=name)


@register(family="denoising", task="denoising", paper=CSCNET_PAPER, input_spec=GREY)
def cscnet(*, filters=175, kernel_size=11, stride=8, unfoldings=12, shift_average=True):
    """CSCNet: 12 convolutional LISTA unfoldings, 175 atoms 11x11 stride 8 (63,700 parameters)."""
    return build_cscnet(filters=filters, kernel_size=kernel_size, stride=stride, unfoldings=unfoldings,
                        shift_average=shift_average, name="cscnet")


def _cscnet(sigma, name):
    return register(family="denoising", task="denoising", paper=CSCNET_PAPER, input_spec=GREY,
                    tags=(_train400_tag(sigma, name),), default_tag="train400")


@_cscnet(15.0, "cscnet_s15")
def cscnet_s15(*, unfoldings=12, shift_average=True):
    """CSCNet grey denoiser for noise sigma 15 (63,700 parameters)."""
    return build_cscnet(unfoldings=unfoldings, shift_average=shift_average, name="cscnet_s15")


@_cscnet(25.0, "cscnet_s25")
def cscnet_s25(*, unfoldings=12, shift_average=True):
    """CSCNet grey denoiser for noise sigma 25 (63,700 parameters)."""
    return build_cscnet(unfoldings=unfoldings, shift_average=shift_average, name="cscnet_s25")


@_cscnet(50.0, "cscnet_s50")
def cscnet_s50(*, unfoldings=12, shift_average=True):
    """CSCNet grey denoiser for noise sigma 50 (63,700 parameters)."""
    return build_cscnet(unfoldings=unfoldings, shift_average=shift_average, name="cscnet_s50")


# -------------------------------------------------------------------------------- Deep K-SVD

DEEP_KSVD_PAPER = "Scetbon, Elad, Milanfar, Deep K-SVD Denoising, IEEE TIP 2021"


def build_deep_ksvd(*, unfoldings=7, patch_size=8, atoms_per_dim=16, name="deep_ksvd"):
    """Deep K-SVD: :class:`zoo.layers.deep_ksvd.DeepKSVD` on the noisy image (the authors'
    ``DenoisingNet_MLP``); outputs the weighted average of the denoised overlapping patches."""
    from zoo.layers.deep_ksvd import DeepKSVD

    inputs = _noisy_input()
    outputs = DeepKSVD(patch_size=patch_size, atoms_per_dim=atoms_per_dim, unfoldings=unfoldings,
                       name="ksvd")(inputs)
    return keras.Model(inputs, outputs, name=name)


@register(family="denoising", task="denoising", paper=DEEP_KSVD_PAPER, input_spec=GREY)
def deep_ksvd(*, unfoldings=7, patch_size=8, atoms_per_dim=16):
    """Deep K-SVD: 8x8 patches, 256-atom DCT-initialised dictionary, 7 LISTA unfoldings with an
    MLP-predicted threshold, learnt patch-averaging weights (35,138 parameters)."""
    return build_deep_ksvd(unfoldings=unfoldings, patch_size=patch_size, atoms_per_dim=atoms_per_dim,
                           name="deep_ksvd")


# ------------------------------------------------------------------------------------- LIDIA

LIDIA_PAPER = ("Vaksman, Elad, Milanfar, LIDIA: Lightweight Learned Image Denoising with Instance "
               "Adaptation, CVPR Workshops (NTIRE) 2020")
LIDIA_REPO = "https://github.com/grishavak/LIDIA-denoiser/blob/7ec25344dc268cdb6267b5ea68fedef3c13c7815/"


def build_lidia(*, small=False, chunk_size=4096, name="lidia"):
    """LIDIA / LIDIA-S: :class:`zoo.layers.lidia.Lidia` on the noisy image (the authors'
    ``NonLocalDenoiser`` in inference mode: 7x7 patches, 14 nearest neighbours in a 29x29 window
    at two scales, separable FC layers, patch aggregation); outputs the denoised image."""
    from zoo.layers.lidia import Lidia

    inputs = _noisy_input()
    outputs = Lidia(small=small, chunk_size=chunk_size, name="lidia")(inputs)
    return keras.Model(inputs, outputs, name=name)


def _lidia_tags(small):
    what = "LIDIA-S" if small else "LIDIA"
    stem = "model_state_small_sigma" if small else "model_state_sigma"
    return tuple(
        WeightTag(tag=f"s{s}", description=f"{what} grey sigma {s}: the authors' checkpoint models/{stem}_{s}_bw.pt "
                  "(ported to verify the architecture; the repository has no licence, so not published)",
                  ported_from=f"{LIDIA_REPO}models/{stem}_{s}_bw.pt", license="none", sigma=float(s))
        for s in SIGMAS)


@register(family="denoising", task="denoising", paper=LIDIA_PAPER, input_spec=GREY, tags=_lidia_tags(False))
def lidia(*, chunk_size=4096):
    """LIDIA (grey): non-local patch denoiser with separable FC layers, 61,589 parameters; input
    at least 11 x 11 (tags s15/s25/s50: the authors' weights, unpublished, no licence)."""
    return build_lidia(small=False, chunk_size=chunk_size, name="lidia")


@register(family="denoising", task="denoising", paper=LIDIA_PAPER, input_spec=GREY, tags=_lidia_tags(True))
def lidia_s(*, chunk_size=4096):
    """LIDIA-S (grey): the small LIDIA (one separable layer less per stage), 40,226 parameters
    (tags s15/s25/s50: the authors' weights, unpublished, no licence)."""
    return build_lidia(small=True, chunk_size=chunk_size, name="lidia_s")
