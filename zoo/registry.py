"""Model registry: names, listing and specs.

Every family file in ``zoo/models`` registers its architectures with
:func:`register`.  A model is named ``arch`` or ``arch.tag``; the tag says which
weights (``lenet5.mnist``).  Each architecture has an optional default tag,
used when a name has no tag.

Example::

    import zoo
    zoo.list_models("lenet*")            # ['lenet5']
    zoo.list_models(pretrained=True)     # ['lenet5.mnist', ...]
"""

from __future__ import annotations

import dataclasses
import difflib
import fnmatch
import importlib
import inspect
from typing import Any, Callable

from zoo.errors import UnknownModelError

#: Family modules imported (and so registered) on first use of the registry.
FAMILY_MODULES = (
    "zoo.models.lenet",
    "zoo.models.super_resolution",
    "zoo.models.denoising",
)

TASKS = ("classification", "super_resolution", "denoising")


@dataclasses.dataclass(frozen=True)
class InputSpec:
    """What a model expects: NHWC float32 in ``value_range``.

    ``shape`` is (H, W, C) with None for any size (fully convolutional nets).
    ``channels`` is "grey", "rgb" or "y" (luma of YCbCr, BT.601).
    """

    shape: tuple
    channels: str
    value_range: tuple = (0.0, 1.0)
    dtype: str = "float32"
    layout: str = "NHWC"
    scale: int | None = None  # super-resolution factor, output = scale * input size

    def to_json(self) -> dict:
        out = {
            "shape": list(self.shape),
            "channels": self.channels,
            "range": list(self.value_range),
            "dtype": self.dtype,
            "layout": self.layout,
        }
        if self.scale is not None:
            out["scale"] = self.scale
        return out


@dataclasses.dataclass(frozen=True)
class WeightTag:
    """A set of weights an architecture can be loaded with (``arch.tag``).

    ``builder_kwargs`` are the arguments the weights were trained with;
    ``recipe`` names the training recipe in ``zoo/recipes`` that regenerates
    them (None for ported weights, with ``ported_from`` saying from where).
    """

    tag: str
    description: str
    recipe: str | None = None
    ported_from: str | None = None
    builder_kwargs: dict = dataclasses.field(default_factory=dict)
    dataset: str | None = None
    license: str = "Apache-2.0"
    scale: int | None = None  # restoration: the SR factor these weights were trained for
    sigma: float | None = None  # denoising: the noise level (None = blind)
    sigma_range: tuple | None = None  # denoising, blind weights: the noise levels they were trained on


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """Everything the zoo knows about one architecture."""

    arch: str
    builder: Callable[..., Any]
    family: str
    task: str
    paper: str
    input_spec: InputSpec
    description: str
    tags: dict  # tag -> WeightTag
    default_tag: str | None
    head_layers: tuple = ()  # layers replaced when classes/include_top change

    def weight_names(self) -> list[str]:
        return [f"{self.arch}.{t}" for t in self.tags]

    def builder_defaults(self) -> dict:
        sig = inspect.signature(self.builder)
        return {
            k: p.default
            for k, p in sig.parameters.items()
            if p.default is not inspect.Parameter.empty
        }


_REGISTRY: dict[str, ModelSpec] = {}
_families_loaded = False


def register(
    *,
    family: str,
    task: str,
    paper: str,
    input_spec: InputSpec,
    tags: tuple = (),
    default_tag: str | None = None,
    head_layers: tuple = (),
):
    """Decorator that registers a model builder under its function name.

    The builder takes keyword arguments only and returns an unbuilt-weights
    ``keras.Model``; loading weights is the job of :func:`zoo.load`.
    """
    if task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}, got {task!r}")

    def decorator(fn):
        arch = fn.__name__
        if arch in _REGISTRY:
            raise ValueError(f"model {arch!r} is registered twice")
        tag_map = {t.tag: t for t in tags}
        if default_tag is not None and default_tag not in tag_map:
            raise ValueError(f"default tag {default_tag!r} of {arch} is not among its tags")
        doc = inspect.getdoc(fn) or ""
        _REGISTRY[arch] = ModelSpec(
            arch=arch,
            builder=fn,
            family=family,
            task=task,
            paper=paper,
            input_spec=input_spec,
            description=doc.split("\n\n")[0].replace("\n", " "),
            tags=tag_map,
            default_tag=default_tag,
            head_layers=tuple(head_layers),
        )
        return fn

    return decorator


def _ensure_families() -> None:
    global _families_loaded
    if not _families_loaded:
        _families_loaded = True
        for module in FAMILY_MODULES:
            importlib.import_module(module)


def _all_names() -> list[str]:
    names = []
    for spec in _REGISTRY.values():
        names.append(spec.arch)
        names.extend(spec.weight_names())
    return names


def _unknown(name: str, what: str = "model") -> UnknownModelError:
    close = difflib.get_close_matches(name, _all_names(), n=5, cutoff=0.5)
    hint = f" Closest names: {', '.join(close)}." if close else ""
    return UnknownModelError(
        f"unknown {what} {name!r}.{hint} Run `zoo list` (or zoo.list_models()) to see all names."
    )


def split_name(name: str) -> tuple[str, str | None]:
    """``'lenet5.mnist'`` -> ``('lenet5', 'mnist')``; ``'lenet5'`` -> ``('lenet5', None)``."""
    if not isinstance(name, str) or not name:
        raise UnknownModelError(f"a model name must be a non-empty string, got {name!r}")
    arch, _, tag = name.partition(".")
    return arch, (tag or None)


def get_spec(name: str) -> ModelSpec:
    """Spec of an architecture, from ``arch`` or ``arch.tag``."""
    _ensure_families()
    arch, _ = split_name(name)
    if arch not in _REGISTRY:
        raise _unknown(name)
    return _REGISTRY[arch]


def resolve_name(name: str) -> tuple[ModelSpec, WeightTag | None]:
    """Spec and weight tag of a name; the default tag when the name has none."""
    spec = get_spec(name)
    _, tag = split_name(name)
    if tag is None:
        tag = spec.default_tag
        return spec, (spec.tags[tag] if tag else None)
    if tag not in spec.tags:
        known = ", ".join(spec.weight_names()) or "none"
        raise UnknownModelError(
            f"unknown tag {tag!r} for {spec.arch!r}; weights available: {known}."
        )
    return spec, spec.tags[tag]


def list_models(pattern: str = "*", pretrained: bool | None = None) -> list[str]:
    """Sorted model names matching an fnmatch ``pattern``.

    ``pretrained=None`` lists architectures, ``True`` lists ``arch.tag`` names
    whose weights are published in the manifest, ``False`` lists architectures
    without any published weights.

    Example::

        >>> import zoo
        >>> "lenet5" in zoo.list_models("lenet*")
        True
    """
    from zoo.manifest import load_manifest

    _ensure_families()
    manifest = load_manifest()
    if pretrained is True:
        names = [n for s in _REGISTRY.values() for n in s.weight_names() if n in manifest]
    elif pretrained is False:
        names = [
            s.arch
            for s in _REGISTRY.values()
            if not any(n in manifest for n in s.weight_names())
        ]
    else:
        names = list(_REGISTRY)
    return sorted(n for n in names if fnmatch.fnmatchcase(n, pattern))


def all_specs() -> list[ModelSpec]:
    """Every registered architecture, sorted by name."""
    _ensure_families()
    return [_REGISTRY[k] for k in sorted(_REGISTRY)]
