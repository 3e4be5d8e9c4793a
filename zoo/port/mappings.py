"""Port functions: assign a zoo model's variables from a third-party (PyTorch) state dict.

``PORTS[arch](state_dict, model)`` fills **every** variable of ``model`` (a ``zoo.load(arch,
weights=None)`` model) from ``state_dict`` (``{name: numpy array}``, e.g. from
:func:`zoo.port.legacy_torch.load_legacy_torch`) and raises
:class:`~zoo.errors.WeightsMismatchError` -- listing every problem -- when a tensor is missing,
a shape differs, a tensor of the file is left unused or a variable of the model is left
unassigned.  A port is all or nothing in meaning, like a zoo weights load.

Layout conversions (PyTorch -> Keras, NCHW -> NHWC):

* ``Conv2d`` weight ``(out, in, kh, kw)`` -> ``Conv2D`` kernel ``(kh, kw, in, out)``;
  PyTorch's conv2d is a cross-correlation like TensorFlow's, so no kernel flip;
  ``padding = k // 2`` with stride 1 and odd ``k`` equals Keras ``padding="same"``.
* depthwise ``Conv2d(groups=C)`` weight ``(C, 1, kh, kw)`` -> ``DepthwiseConv2D`` kernel
  ``(kh, kw, C, 1)``.
* ``BatchNorm2d`` ``weight, bias, running_mean, running_var`` -> ``gamma, beta,
  moving_mean, moving_variance`` (the Keras layer must use PyTorch's ``epsilon=1e-5``);
  ``num_batches_tracked`` has no Keras counterpart and is consumed silently.

Adding an architecture (xDnCNN, DnCNN, CSCNet, ...): write a function that opens a
:class:`Porter` and calls its helpers once per layer, and register it::

    @register_port("dncnn")
    def _dncnn(state_dict, model):
        with Porter(state_dict, model, "DnCNN (cszn/KAIR layout)") as p:
            p.conv("conv0", "model.0")
            ...

The ``with`` block ends with :meth:`Porter.finish`, which does the unused/unassigned check.

Example::

    from zoo.port.legacy_torch import load_legacy_torch
    from zoo.port.mappings import PORTS
    import zoo
    model = zoo.load("xsrcnnf", weights=None)
    PORTS["xsrcnnf"](load_legacy_torch("xsrcnnf_s4_k9k3k5.pkl"), model)
"""

from __future__ import annotations

from typing import Callable, Mapping

import numpy as np

from zoo.errors import WeightsMismatchError

__all__ = ["PORTS", "Porter", "register_port", "port_state_dict"]

#: ``{arch: fn(state_dict, model) -> None}``
PORTS: dict[str, Callable[[Mapping[str, np.ndarray], object], None]] = {}

_MAX_LISTED = 8


def register_port(*archs: str):
    """Decorator: register ``fn(state_dict, model)`` as the port of each of ``archs``."""

    def deco(fn):
        for arch in archs:
            if arch in PORTS:
                raise ValueError(f"a port for {arch!r} is already registered")
            PORTS[arch] = fn
        return fn

    return deco


def port_state_dict(arch: str, state_dict: Mapping[str, np.ndarray], model) -> None:
    """Run the registered port of ``arch`` (a clear :class:`KeyError`-free error if none)."""
    try:
        fn = PORTS[arch]
    except KeyError:
        raise WeightsMismatchError(
            f"no port is registered for {arch!r}; ports exist for: {', '.join(sorted(PORTS))}"
        ) from None
    fn(state_dict, model)


class Porter:
    """Assigns a model's variables from a state dict and checks nothing is left over.

    Every tensor read with :meth:`take` is marked used, every variable written with
    :meth:`assign` is marked assigned; problems (missing tensors, shape mismatches,
    assigning twice) are collected and :meth:`finish` raises them all at once, together with
    the tensors never used and the variables never assigned.

    ``layer`` arguments of the helpers are a Keras layer or the name of a layer of the model.
    """

    def __init__(self, state_dict: Mapping[str, np.ndarray], model, what: str = ""):
        self.state_dict = dict(state_dict)
        self.model = model
        self.what = what or getattr(model, "name", "model")
        self.used: set[str] = set()
        self.assigned: set[str] = set()
        self.problems: list[str] = []

    # -- context manager: finish() on a clean exit ---------------------------------------

    def __enter__(self) -> "Porter":
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.finish()
        return False

    # -- primitives ----------------------------------------------------------------------

    def layer(self, layer):
        """The layer itself, or the model's layer of that name."""
        if not isinstance(layer, str):
            return layer
        try:
            return self.model.get_layer(layer)
        except ValueError:
            raise WeightsMismatchError(
                f"porting into {self.what}: the model has no layer {layer!r} (the port function "
                f"does not match the architecture)"
            ) from None

    def has(self, key: str) -> bool:
        return key in self.state_dict

    def take(self, key: str) -> np.ndarray | None:
        """The tensor ``key`` (marked used), or ``None`` after recording that it is missing."""
        if key not in self.state_dict:
            self.problems.append(f"tensor {key} is missing from the state dict")
            return None
        if key in self.used:
            self.problems.append(f"tensor {key} is used twice")
        self.used.add(key)
        return np.asarray(self.state_dict[key])

    def assign(self, variable, value: np.ndarray | None, source: str = "") -> None:
        """``variable.assign(value)`` after checking the shape (``value=None``: skip)."""
        path = _var_path(variable)
        if value is None:
            return
        want = tuple(variable.shape)
        if tuple(value.shape) != want:
            self.problems.append(
                f"{path}: model shape {want} but {source or 'the tensor'} gives {tuple(value.shape)}"
            )
            return
        if path in self.assigned:
            self.problems.append(f"{path} is assigned twice")
        variable.assign(value.astype(variable.dtype))
        self.assigned.add(path)

    # -- layer helpers -------------------------------------------------------------------

    def conv(self, layer, prefix: str, weight: str = "weight", bias: str = "bias") -> None:
        """``Conv2D`` from a torch ``Conv2d`` (``prefix.weight`` ``(O, I, kh, kw)``, ``prefix.bias``)."""
        layer = self.layer(layer)
        w = self.take(f"{prefix}.{weight}")
        if w is not None:
            if w.ndim != 4:
                self.problems.append(f"tensor {prefix}.{weight} {w.shape} is not a 4-D conv weight")
                w = None
            else:
                w = w.transpose(2, 3, 1, 0)  # (O, I, kh, kw) -> (kh, kw, I, O)
        self.assign(layer.kernel, w, f"{prefix}.{weight} (as Keras (kh, kw, in, out))")
        self._bias(layer, prefix, bias)

    def depthwise(self, layer, prefix: str, weight: str = "weight", bias: str = "bias") -> None:
        """``DepthwiseConv2D`` from a torch ``Conv2d(groups=C)`` (weight ``(C, 1, kh, kw)``)."""
        layer = self.layer(layer)
        w = self.take(f"{prefix}.{weight}")
        if w is not None:
            if w.ndim != 4 or w.shape[1] != 1:
                self.problems.append(
                    f"tensor {prefix}.{weight} {w.shape} is not a depthwise weight (C, 1, kh, kw)"
                )
                w = None
            else:
                w = w.transpose(2, 3, 0, 1)  # (C, 1, kh, kw) -> (kh, kw, C, 1)
        self.assign(layer.kernel, w, f"{prefix}.{weight} (as Keras (kh, kw, C, 1))")
        self._bias(layer, prefix, bias)

    def _bias(self, layer, prefix: str, bias: str) -> None:
        key = f"{prefix}.{bias}"
        model_bias = getattr(layer, "bias", None)
        if model_bias is None:
            if key in self.state_dict:
                self.used.add(key)
                self.problems.append(f"{layer.name} has no bias but the state dict has {key}")
            return
        self.assign(model_bias, self.take(key), key)

    def bn(self, layer, prefix: str) -> None:
        """``BatchNormalization`` from a torch ``BatchNorm2d`` (affine, running statistics)."""
        layer = self.layer(layer)
        eps = getattr(layer, "epsilon", None)
        if eps is not None and abs(eps - 1e-5) > 1e-12:
            self.problems.append(
                f"{layer.name}: Keras epsilon {eps} differs from PyTorch's BatchNorm2d epsilon 1e-5"
            )
        pairs = (("gamma", "weight"), ("beta", "bias"),
                 ("moving_mean", "running_mean"), ("moving_variance", "running_var"))
        for attr, suffix in pairs:
            var = getattr(layer, attr, None)
            if var is None:  # center=False / scale=False
                if f"{prefix}.{suffix}" in self.state_dict:
                    self.used.add(f"{prefix}.{suffix}")
                    self.problems.append(f"{layer.name} has no {attr} but the state dict has {prefix}.{suffix}")
                continue
            self.assign(var, self.take(f"{prefix}.{suffix}"), f"{prefix}.{suffix}")
        if f"{prefix}.num_batches_tracked" in self.state_dict:
            self.used.add(f"{prefix}.num_batches_tracked")  # a training counter, nothing to port

    def xunit(self, layer, prefix: str, bn_in: str = "0", depthwise: str = "2", bn_out: str = "3") -> None:
        """:class:`zoo.layers.XUnit` from a torch gate ``Sequential`` at ``prefix``.

        The defaults are the authors' layout ``(BN, ReLU, depthwise conv, BN, exp(-x^2))``,
        i.e. ``prefix.0`` BN, ``prefix.2`` depthwise conv, ``prefix.3`` BN. An XUnit built with
        ``batch_norm=False`` only takes the depthwise conv.
        """
        layer = self.layer(layer)
        if layer.batch_norm:
            self.bn(layer.bn_in, f"{prefix}.{bn_in}")
        self.depthwise(layer.depthwise, f"{prefix}.{depthwise}")
        if layer.batch_norm:
            self.bn(layer.bn_out, f"{prefix}.{bn_out}")

    # -- the final check -----------------------------------------------------------------

    def finish(self) -> None:
        """Raise :class:`WeightsMismatchError` unless everything matched one for one."""
        problems = list(self.problems)
        for key in sorted(set(self.state_dict) - self.used):
            problems.append(f"tensor {key} {tuple(np.shape(self.state_dict[key]))} is unused")
        for var in self.model.weights:
            path = _var_path(var)
            if path not in self.assigned:
                problems.append(f"model variable {path} {tuple(var.shape)} is unassigned")
        if problems:
            more = f" (+{len(problems) - _MAX_LISTED} more)" if len(problems) > _MAX_LISTED else ""
            raise WeightsMismatchError(
                f"the state dict does not fit {self.what}: " + "; ".join(problems[:_MAX_LISTED]) + more
                + ". Check the --arch and that the file is the architecture's checkpoint"
            )


def _var_path(variable) -> str:
    return getattr(variable, "path", None) or variable.name


# ------------------------------------------------------------------------------- ports


@register_port("xsrcnnf", "xsrcnnc")
def port_xsrcnn(state_dict, model) -> None:
    """kligvasser/xUnit 2018 ``xSRCNNf`` / ``xSRCNNc`` (``super_resolution/models.py``).

    ``mdN.0`` is a ``modulecell``: ``features.0`` the conv, ``module.{0, 2, 3}`` the xUnit gate
    (BN, ReLU, depthwise 9x9 conv, BN, exp(-x^2)); ``joints`` the last conv.
    """
    with Porter(state_dict, model, f"{model.name} (kligvasser/xUnit 2018 layout)") as p:
        for i in (1, 2):
            p.conv(f"conv{i}", f"md{i}.0.features.0")
            p.xunit(f"xunit{i}", f"md{i}.0.module")
        p.conv("conv3", "joints")


@register_port("srcnn")
def port_srcnn(state_dict, model) -> None:
    """SRCNN 9-5-5 in the common PyTorch layout ``conv1``, ``conv2``, ``conv3`` (e.g.
    yjn870/SRCNN-pytorch, ``padding = k // 2``, ReLU after the first two convs)."""
    with Porter(state_dict, model, f"{model.name} (PyTorch conv1/conv2/conv3 layout)") as p:
        for i in (1, 2, 3):
            p.conv(f"conv{i}", f"conv{i}")


# ------------------------------------------------------------------------------- denoisers


@register_port("xdncnn", "xunit_dn_s15", "xunit_dn_s25", "xunit_dn_s50", "xunit_dn_blind")
def port_xdncnn(state_dict, model) -> None:
    """kligvasser/xUnit 2018 ``xDnCNN`` (``denoising/models.py``, checkpoints
    ``xdncnn_res_f64k3k9_s{25,50}.pkl``).

    ``md1.0`` is a ``modulecell`` (``features.0`` conv 1 -> 64, ``module.{0, 2, 3}`` the xUnit
    gate); ``md2`` .. ``md8`` are ``Sequential(BatchNorm2d, modulecell)``: ``mdN.0`` the batch
    norm, ``mdN.1.features.0`` the conv, ``mdN.1.module`` the gate; ``joints`` the conv 64 -> 1
    that predicts the noise (the authors' ``run_net.py`` computes ``clean = noisy - output``).
    """
    cells = sum(1 for layer in model.layers if layer.name.startswith("xunit"))
    with Porter(state_dict, model, f"{model.name} (kligvasser/xUnit 2018 xDnCNN layout)") as p:
        p.conv("conv1", "md1.0.features.0")
        p.xunit("xunit1", "md1.0.module")
        for i in range(2, cells + 1):
            p.bn(f"bn{i}", f"md{i}.0")
            p.conv(f"conv{i}", f"md{i}.1.features.0")
            p.xunit(f"xunit{i}", f"md{i}.1.module")
        p.conv(f"conv{cells + 1}", "joints")


@register_port("dncnn", "dncnn_b", "dncnn_s25")
def port_dncnn(state_dict, model) -> None:
    """cszn/KAIR DnCNN (``models/network_dncnn.py``, ``model_zoo/dncnn_*.pth``), BN merged; or the
    authors' MatConvNet files (same BN-merged weights, see :func:`_port_dncnn_matconvnet`).

    KAIR's ``DnCNN(nb=17, act_mode='R')`` is a ``Sequential`` of conv, ReLU, ..., conv: the
    convolutions are ``model.0``, ``model.2``, ..., ``model.{2 (depth - 1)}``, every one with a
    bias (the authors' batch norms folded into them). The zoo model must be built with
    ``batch_norm=False`` (``dncnn_s25`` is; for ``dncnn``/``dncnn_b`` pass ``--option
    batch_norm=false`` to tools/port_weights.py).
    """
    matconvnet = _is_matconvnet(state_dict)
    source = "cszn/DnCNN MatConvNet" if matconvnet else "cszn/KAIR"
    if any(layer.name.startswith("bn") for layer in model.layers):
        raise WeightsMismatchError(
            f"{source} DnCNN weights have batch norm merged into the convolutions; build "
            f"{model.name} with batch_norm=False (tools/port_weights.py --option batch_norm=false)"
        )
    depth = sum(1 for layer in model.layers if layer.name.startswith("conv"))
    if matconvnet:
        _port_dncnn_matconvnet(state_dict, model, depth)
        return
    with Porter(state_dict, model, f"{model.name} (cszn/KAIR BN-merged DnCNN layout, depth {depth})") as p:
        for i in range(1, depth + 1):
            p.conv(f"conv{i}", f"model.{2 * (i - 1)}")


def _port_dncnn_matconvnet(state_dict, model, depth: int) -> None:
    """cszn/DnCNN ``model/specifics/sigma=*.mat`` / ``model/GD_Gray_Blind.mat`` (read by
    :func:`zoo.port.matconvnet.load_matconvnet`): SimpleNN ``conv, relu, ..., conv``, batch norm
    merged, every conv 3x3 with pad 1, stride 1 and a bias; every ReLU with leak 0."""
    kinds = _matconvnet_layers(state_dict)
    want = ["conv" if i % 2 == 0 else "relu" for i in range(2 * depth - 1)]
    got = [kind for _, kind in kinds]
    if got != want:
        others = sorted(set(got) - {"conv", "relu"})
        raise WeightsMismatchError(
            f"the MatConvNet network does not fit {model.name}: it has {len(got)} layers ({got.count('conv')} conv, "
            f"{got.count('relu')} relu{', ' + ', '.join(others) if others else ''}); DnCNN of depth {depth} is "
            f"{depth} convs with a ReLU between each two. Check the --arch (dncnn_b is the 20-layer blind DnCNN)")
    with Porter(state_dict, model, f"{model.name} (cszn/DnCNN MatConvNet SimpleNN, depth {depth})") as p:
        _walk_simplenn(p, kinds)


def _is_matconvnet(state_dict) -> bool:
    """Whether a state dict was read by :func:`zoo.port.matconvnet.load_matconvnet` (it records layer types)."""
    return any(key.endswith(".type") for key in state_dict)


def _walk_simplenn(p: "Porter", kinds: list[tuple[str, str]], subp_scales: tuple[float, ...] = ()) -> None:
    """Take every layer of a checked SimpleNN layer list: the i-th ``conv`` into zoo layer ``conv{i}``
    (3x3, pad 1, stride 1), ReLUs checked to be plain, the ``SubP`` layers checked against
    ``subp_scales`` in order."""
    convs = iter(range(1, len(kinds) + 1))
    scales = iter(subp_scales)
    for name, kind in kinds:
        p.take(f"{name}.type")
        if kind == "relu":
            _check_relu(p, name)
        elif kind == "conv":
            _check_conv_options(p, name)
            p.conv(f"conv{next(convs)}", name)
        elif kind == "SubP":
            scale = next(scales)
            found = p.take(f"{name}.scale")
            if found is not None and np.any(found != scale):
                p.problems.append(f"{name}: SubP scale {found.tolist()}, the network needs scale {scale:g} here")


def _matconvnet_layers(state_dict) -> list[tuple[str, str]]:
    """``[(layer name, type)]`` of a state dict read by :func:`zoo.port.matconvnet.load_matconvnet`."""
    return [(key[: -len(".type")], str(value)) for key, value in state_dict.items() if key.endswith(".type")]


def _check_conv_options(p: "Porter", name: str) -> None:
    """A MatConvNet 3x3 conv of a DnCNN-family net: pad 1, stride 1, no dilation."""
    for option, value in (("pad", 1), ("stride", 1)):
        found = p.take(f"{name}.{option}")
        if found is not None and np.any(found != value):
            p.problems.append(f"{name}: {option} {found.tolist()}, the 3x3 convs use {option} {value}")
    if p.has(f"{name}.dilate"):
        dilate = p.take(f"{name}.dilate")
        if np.any(dilate != 1):
            p.problems.append(f"{name}: dilation {dilate.tolist()}, the convs are not dilated")


def _check_relu(p: "Porter", name: str) -> None:
    leak = p.take(f"{name}.leak")
    if leak is not None and np.any(leak != 0):
        p.problems.append(f"{name}: ReLU leak {leak.tolist()}, the zoo's nets have plain ReLUs")


#: MatConvNet's SubP folds a 2x2 block in MATLAB's column-major order, (0,0), (1,0), (0,1), (1,1);
#: TensorFlow's space_to_depth / depth_to_space use row-major order, (0,0), (0,1), (1,0), (1,1).
_SUBP_TO_TF = [0, 2, 1, 3]


@register_port("ffdnet")
def port_ffdnet(state_dict, model) -> None:
    """cszn/FFDNet ``models/FFDNet_gray.mat`` (MatConvNet SimpleNN, read by
    :func:`zoo.port.matconvnet.load_matconvnet`): ``SubP(0.5), concat(noise map), conv, relu, ...,
    conv, SubP(2)``.  The first conv's 4 image input channels and the last conv's 4 outputs are
    reordered from MatConvNet's column-major block order to TensorFlow's; the noise-map input
    channel stays last (the authors' concat appends it)."""
    if not _is_matconvnet(state_dict):
        raise WeightsMismatchError("the ffdnet port reads the authors' MatConvNet file (FFDNet_gray.mat); "
                                   "this state dict is not one")
    depth = sum(1 for layer in model.layers if layer.name.startswith("conv"))
    kinds = _matconvnet_layers(state_dict)
    want = ["SubP", "concat"] + ["conv" if i % 2 == 0 else "relu" for i in range(2 * depth - 1)] + ["SubP"]
    got = [kind for _, kind in kinds]
    if got != want:
        raise WeightsMismatchError(
            f"the MatConvNet network does not fit {model.name}: its layers are {len(got)} ({got.count('conv')} conv, "
            f"first {got[:3]}, last {got[-2:]}); FFDNet of depth {depth} is SubP, concat, {depth} convs with "
            f"ReLUs between, SubP. Check the file (FFDNet_gray.mat) and the --arch")
    sd = dict(state_dict)  # reordered copies; a tensor of another shape is left for the Porter to report
    first, last = kinds[2][0], kinds[-2][0]
    if sd.get(f"{first}.weight", np.zeros(0)).ndim == 4 and sd[f"{first}.weight"].shape[1] == 5:
        sd[f"{first}.weight"] = sd[f"{first}.weight"][:, _SUBP_TO_TF + [4]]  # 4 sub-images, then the map
    for key in (f"{last}.weight", f"{last}.bias"):
        if key in sd and sd[key].shape[0] == 4:
            sd[key] = sd[key][_SUBP_TO_TF]
    with Porter(sd, model, f"{model.name} (cszn/FFDNet MatConvNet SimpleNN, depth {depth})") as p:
        _walk_simplenn(p, kinds, subp_scales=(0.5, 2.0))


@register_port("cscnet", "cscnet_s15", "cscnet_s25", "cscnet_s50")
def port_cscnet(state_dict, model) -> None:
    """drorsimon/CSCNet ``ConvLista_T`` (``model/modules.py``, ``trained_models/sigma_*.model``).

    ``apply_B`` is a ``Conv2d(1, F, k, stride)`` (weight ``(F, 1, k, k)`` -> Keras Conv2D kernel
    ``(k, k, 1, F)``); ``apply_A`` and ``apply_C`` are ``ConvTranspose2d(F, 1, k, stride)``
    whose weight ``(in=F, out=1, k, k)`` maps to the Keras Conv2DTranspose kernel ``(k, k, out=1,
    in=F)`` by the same transpose (both frameworks' transposed convolution is the adjoint of
    their cross-correlation, so no flip); ``soft_threshold.threshold (1, F, 1, 1)`` -> ``(F,)``.
    """
    lista = model.get_layer("lista")
    with Porter(state_dict, model, f"{model.name} (drorsimon/CSCNet ConvLista_T layout)") as p:
        p.conv(lista.apply_a, "apply_A")
        p.conv(lista.apply_b, "apply_B")
        p.conv(lista.apply_c, "apply_C")
        t = p.take("soft_threshold.threshold")
        if t is not None and t.size != lista.filters:
            p.problems.append(f"soft_threshold.threshold {t.shape} does not hold {lista.filters} thresholds")
            t = None
        p.assign(lista.threshold, None if t is None else t.reshape(-1), "soft_threshold.threshold")


# ------------------------------------------------------------------------------------ LIDIA


@register_port("lidia", "lidia_s")
def port_lidia(state_dict, model) -> None:
    """grishavak/LIDIA-denoiser ``PatchDenoiseNet`` (``code/modules.py``; checkpoints
    ``models/model_state[_small]_sigma_{15,25,50}_bw.pt``, whose ``'state_dict'`` entry is what
    the authors load into ``nl_denoiser.patch_denoise_net``) into :class:`zoo.layers.lidia.Lidia`.

    * ``VerHorMat`` at ``P``: ``P.ver.weight (out, in)`` -> ``ver (in, out)`` (transposed, a
      torch ``Linear``), ``P.hor.weight`` -> ``hor`` (transposed), ``P.b`` -> ``bias`` as is;
      a ``VerHorBnRe`` at ``P`` is ``P.ver_hor`` plus the ``BatchNorm2d`` ``P.bn`` (over the
      neighbour axis; epsilon 1e-5).
    * ``weights_net{0,1}`` (``FcNet``): ``fc{i}.weight`` -> Dense kernel (transposed),
      ``bn{i}`` -> BatchNormalization, ``fc_out`` -> Dense with bias.
    * scalars ``alpha0``, ``alpha1``, ``beta`` and, in the full net, ``sep_part1_s{0,1}.a`` and
      ``sep_part2.a``, shape ``(1,)``.
    * ``separable_fc_net.agg1.bilinear_conv.weight`` is the fixed (not trained) 3 x 3 blur the
      layer holds as a constant: it is checked, not assigned.
    """
    from zoo.layers.lidia import blur_kernel

    lidia = model.get_layer("lidia")
    net = "separable_fc_net."
    with Porter(state_dict, model, f"{model.name} (grishavak/LIDIA-denoiser PatchDenoiseNet layout)") as p:

        def scalar(var, key):
            p.assign(var, p.take(key), key)

        def transposed(var, key):
            w = p.take(key)
            p.assign(var, None if w is None else w.T, f"{key} (transposed)")

        def ver_hor(layer, prefix):
            transposed(layer.ver, f"{prefix}.ver.weight")
            transposed(layer.hor, f"{prefix}.hor.weight")
            p.assign(layer.bias, p.take(f"{prefix}.b"), f"{prefix}.b")

        def ver_hor_bn_re(layer, prefix):
            ver_hor(layer, f"{prefix}.ver_hor")
            if layer.bn is not None:
                p.bn(layer.bn, f"{prefix}.bn")

        for name in ("alpha0", "alpha1", "beta"):
            scalar(getattr(lidia, name), name)
        for k, wnet in enumerate((lidia.weights_net0, lidia.weights_net1)):
            for i, (fc, bn) in enumerate(zip(wnet.fc, wnet.bn)):
                transposed(fc.kernel, f"weights_net{k}.fc{i}.weight")
                p.bn(bn, f"weights_net{k}.bn{i}")
            transposed(wnet.fc_out.kernel, f"weights_net{k}.fc_out.weight")
            p.assign(wnet.fc_out.bias, p.take(f"weights_net{k}.fc_out.bias"), f"weights_net{k}.fc_out.bias")
        for s, stage in enumerate(lidia.part1):
            ver_hor_bn_re(stage[0], f"{net}sep_part1_s{s}.ver_hor_bn_re0")
            if len(stage) > 1:
                scalar(lidia.a_s0 if s == 0 else lidia.a_s1, f"{net}sep_part1_s{s}.a")
                ver_hor_bn_re(stage[1], f"{net}sep_part1_s{s}.ver_hor_bn_re1")
            ver_hor(lidia.agg_pre[s], f"{net}ver_hor_agg{s}_pre")
            ver_hor_bn_re(lidia.agg_post[s], f"{net}ver_hor_bn_re_agg{s}_post")
        ver_hor_bn_re(lidia.part2[0], f"{net}sep_part2.ver_hor_bn_re2")
        if len(lidia.part2) > 1:
            scalar(lidia.a_part2, f"{net}sep_part2.a")
            ver_hor_bn_re(lidia.part2[1], f"{net}sep_part2.ver_hor_bn_re3")
        ver_hor(lidia.part2_out, f"{net}sep_part2.ver_hor_out")
        blur = p.take(f"{net}agg1.bilinear_conv.weight")
        if blur is not None and (blur.shape != (1, 1, 3, 3) or np.abs(blur[0, 0] - blur_kernel()).max() > 1e-7):
            p.problems.append(f"{net}agg1.bilinear_conv.weight is not the fixed [1, 2, 1]^T [1, 2, 1] / 16 blur "
                              f"the architecture uses (got {np.asarray(blur).reshape(-1).tolist()})")
