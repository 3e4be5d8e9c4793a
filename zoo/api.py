"""Public entry points: :func:`load` and :func:`info`."""

from __future__ import annotations

from pathlib import Path

from zoo import hub, registry
from zoo.errors import InvalidOptionError, ZooError
from zoo.manifest import get_entry
from zoo.weights_io import load_strict, parameter_counts, transfer_by_layer_name


def _check_overrides(spec: registry.ModelSpec, overrides: dict) -> None:
    allowed = spec.builder_defaults()
    bad = sorted(set(overrides) - set(allowed))
    if bad:
        raise ZooError(
            f"{spec.arch} has no option {', '.join(map(repr, bad))}; its options are "
            f"{', '.join(sorted(allowed))}"
        )


def _build(spec: registry.ModelSpec, **kwargs):
    """``spec.builder(**kwargs)``; an option value the builder refuses is one :class:`InvalidOptionError`."""
    try:
        return spec.builder(**kwargs)
    except ValueError as e:
        raise InvalidOptionError(f"{spec.arch}: {e}") from None


def load(name: str, weights: str | Path | None = "default", **overrides):
    """Build a registered model and load its weights.

    Args:
        name: ``arch`` or ``arch.tag`` (see :func:`zoo.list_models`).
        weights: ``"default"`` for the published weights of the tag (the
            architecture's default tag when ``name`` has none), ``None`` for
            random initialisation, or a path to a ``.weights.h5`` file.
        **overrides: builder options, e.g. ``classes=5`` to put a new head on
            a pretrained classifier (everything but the head keeps the weights).

    Returns:
        A ``keras.Model``.

    Example::

        import zoo
        model = zoo.load("lenet5")                 # MNIST weights, verified
        head5 = zoo.load("lenet5", classes=5)     # pretrained body, new head
    """
    spec, tag = registry.resolve_name(name)
    _check_overrides(spec, overrides)
    tag_kwargs = dict(tag.builder_kwargs) if tag else {}
    kwargs = {**tag_kwargs, **overrides}
    if weights is None:
        return _build(spec, **kwargs)

    if isinstance(weights, (str, Path)) and str(weights) != "default":
        # The user's own file: it must fit the model built with the options given.
        model = _build(spec, **kwargs)
        # A mismatch is often a builder option of the file's model (batch_norm=False, ...).
        built = ", ".join(f"{k}={v!r}" for k, v in {**spec.builder_defaults(), **kwargs}.items())
        load_strict(model, hub.resolve_user_path(weights), f"{spec.arch} (weights file given by path)",
                    hint=f"this model was built with {built}: give the file's options as "
                         f"zoo.load(..., KEY=VALUE) or --option KEY=VALUE")
        return model
    else:
        if tag is None:
            raise ZooError(
                f"{spec.arch} has no published weights; pass weights=None for random "
                f"initialisation or weights=PATH for your own file (command line: --weights FILE)"
            )
        full = f"{spec.arch}.{tag.tag}"
        if get_entry(full) is None:
            raise ZooError(
                f"{full} is registered but its weights are not published yet; pass "
                f"weights=None or weights=PATH (command line: --weights FILE); published names: "
                f"zoo.list_models(pretrained=True) or zoo list --pretrained"
            )
        path = hub.resolve(full)
        what = full

    canonical = _build(spec, **tag_kwargs)
    load_strict(canonical, path, what)
    if not overrides:
        return canonical
    model = _build(spec, **kwargs)
    transfer_by_layer_name(canonical, model, allow_missing=spec.head_layers)
    return model


def info(name: str) -> dict:
    """Everything known about a model: architecture, input spec, weights, metrics.

    Example::

        import zoo
        zoo.info("lenet5")["num_params"]   # 61706
        zoo.info("xunit_dn_s25")["num_trainable_params"]   # 304641 (307585 with batch-norm statistics)
    """
    spec, tag = registry.resolve_name(name)
    out = {
        "name": f"{spec.arch}.{tag.tag}" if tag else spec.arch,
        "arch": spec.arch,
        "family": spec.family,
        "task": spec.task,
        "description": spec.description,
        "paper": spec.paper,
        "input_spec": spec.input_spec.to_json(),
        "builder_defaults": spec.builder_defaults(),
        "tags": {
            t.tag: {
                "description": t.description,
                "recipe": t.recipe,
                "ported_from": t.ported_from,
                "published": get_entry(f"{spec.arch}.{t.tag}") is not None,
            }
            for t in spec.tags.values()
        },
        "default_tag": spec.default_tag,
    }
    if tag is not None:
        out["builder_kwargs"] = dict(tag.builder_kwargs)
        out["recipe"] = tag.recipe
        out["license"] = tag.license
        entry = get_entry(f"{spec.arch}.{tag.tag}")
        if entry:
            out["weights"] = {
                k: entry[k] for k in ("file", "sha256", "size", "hub", "date", "source", "license")
            }
            out["metrics"] = entry["metrics"]
    # Keras counts batch-norm statistics as parameters; papers (and the descriptions) count what trains.
    out.update(parameter_counts(spec.builder(**(out.get("builder_kwargs") or {}))))
    return out
