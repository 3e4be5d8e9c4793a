"""Training recipes: one small versioned file per published weight.

A recipe is data plus a few factories: the model, the data pipelines, the
loss, the optimizer with its schedule, the budget (epochs x steps) and the
seed.  ``zoo train <recipe>`` (see :mod:`zoo.train.runner`) runs it with
checkpoints, resume, CSV logs and curves.  Bump ``version`` whenever a change
would change the weights.

Example::

    from zoo.recipes import get_recipe
    recipe = get_recipe("lenet5_mnist")
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
from typing import Any, Callable

from zoo.errors import ZooError


@dataclasses.dataclass(frozen=True)
class Recipe:
    name: str
    version: int
    model: str  # registered arch
    description: str
    # (batch_size, seed, start_step) -> tf.data.Dataset.  Endless streams (steps_per_epoch set)
    # must start at batch ``start_step`` so a resumed run sees the batches an uninterrupted run
    # would; one-pass datasets (steps_per_epoch None) may ignore it.
    train_data: Callable[[int, int, int], Any]
    loss: Callable[[], Any]
    optimizer: Callable[[int], Any]  # total optimizer steps -> keras optimizer
    epochs: int
    batch_size: int
    seed: int = 0
    steps_per_epoch: int | None = None  # None: one pass over train_data
    val_data: Callable[[], Any] | None = None
    metrics: Callable[[], list] = lambda: []
    monitor: str = "val_loss"
    builder_kwargs: dict = dataclasses.field(default_factory=dict)
    weight_name: str | None = None  # the manifest name the run produces, e.g. "lenet5.mnist"
    # Warm start: a published weight ("xunit_sr_x4.sr291") copied by layer name; layers in
    # ``init_skip`` (e.g. a tail whose shape changes with the scale) keep their fresh init.
    init_from: str | None = None
    init_skip: tuple = ()

    def summary(self) -> dict:
        return {
            "name": self.name,
            "version": self.version,
            "model": self.model,
            "builder_kwargs": self.builder_kwargs,
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "steps_per_epoch": self.steps_per_epoch,
            "seed": self.seed,
            "weight_name": self.weight_name,
            "init_from": self.init_from,
            "init_skip": list(self.init_skip),
        }


def cosine_adam(lr: float, total_steps: int, alpha: float = 0.01, clipnorm: float | None = 1.0):
    """Adam with cosine decay from ``lr`` to ``alpha * lr`` over ``total_steps`` (the recipes' default)."""
    import keras

    schedule = keras.optimizers.schedules.CosineDecay(lr, decay_steps=total_steps, alpha=alpha)
    return keras.optimizers.Adam(schedule, clipnorm=clipnorm)


def list_recipes() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))


def get_recipe(name: str) -> Recipe:
    if name not in list_recipes():
        raise ZooError(f"unknown recipe {name!r}; recipes: {', '.join(list_recipes())}")
    return importlib.import_module(f"zoo.recipes.{name}").RECIPE
