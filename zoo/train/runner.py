"""The training runner every recipe goes through.

It checkpoints at the end of every epoch and resumes from the last one when
started again with the same output folder (a session may stop at any time),
shows a progress bar (one line per epoch when the output is not a terminal),
logs metrics to ``history.csv``, redraws ``curves.png`` after every epoch and
writes ``final.weights.h5`` and ``summary.json`` at the end.

Example::

    from zoo.recipes import get_recipe
    from zoo.train.runner import train
    result = train(get_recipe("lenet5_mnist"), "runs/lenet5_mnist")
"""

from __future__ import annotations

import csv
import json
import math
import sys
import time
from pathlib import Path

from zoo.errors import ZooError

STRATEGIES = ("default", "mirrored", "multiworker")


def make_strategy(name: str):
    import tensorflow as tf

    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multiworker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise ZooError(f"unknown strategy {name!r}; use one of {', '.join(STRATEGIES)}")


def _csv_float(value) -> float:
    """A CSVLogger cell as a float ("NA" -- a metric that epoch did not log -- is NaN)."""
    return float(value) if value not in (None, "", "NA") else math.nan


def plot_curves(csv_path: Path, png_path: Path) -> None:
    """Draw every logged metric against the epoch (train and val on one panel)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with open(csv_path) as f:
        rows = list(csv.DictReader(f))
    if not rows:
        return
    keys = [k for k in rows[0] if k != "epoch" and not k.startswith("val_") and k != "learning_rate"]
    fig, axes = plt.subplots(1, len(keys), figsize=(4.5 * len(keys), 3.5), squeeze=False)
    epochs = [int(r["epoch"]) + 1 for r in rows]

    def values(key):
        return [_csv_float(r.get(key)) for r in rows]

    for ax, key in zip(axes[0], keys):
        ax.plot(epochs, values(key), label="train")
        if f"val_{key}" in rows[0]:
            ax.plot(epochs, values(f"val_{key}"), label="val")
        ax.set_title(key)
        ax.set_xlabel("epoch")
        ax.legend()
        ax.grid(alpha=0.3)
    fig.tight_layout()
    tmp = png_path.with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=80)
    plt.close(fig)
    tmp.replace(png_path)


def _steps_per_epoch(recipe, dataset) -> int:
    if recipe.steps_per_epoch:
        return recipe.steps_per_epoch
    import tensorflow as tf

    n = int(dataset.cardinality())
    if n in (tf.data.INFINITE_CARDINALITY, tf.data.UNKNOWN_CARDINALITY) or n <= 0:
        raise ZooError(f"recipe {recipe.name} has an unsized dataset: set steps_per_epoch")
    return n


def _checkpointed_epochs(checkpoint_dir: Path) -> int:
    """Epochs finished by an interrupted run (0 for a fresh run), from BackupAndRestore's metadata."""
    meta = checkpoint_dir / "training_metadata.json"
    if not meta.exists():
        return 0
    return int(json.loads(meta.read_text()).get("epoch", 0))


def _warm_start(model, recipe) -> dict:
    """Copy the published ``recipe.init_from`` weights into ``model`` by layer name."""
    from zoo.api import load
    from zoo.manifest import get_entry
    from zoo.weights_io import transfer_by_layer_name

    source = load(recipe.init_from)
    copied = transfer_by_layer_name(source, model, allow_missing=tuple(recipe.init_skip))
    fresh = [layer.name for layer in model.layers if layer.weights and layer.name not in copied]
    print(f"warm start from {recipe.init_from}: {len(copied)} layers copied, fresh: {', '.join(fresh) or 'none'}",
          flush=True)
    entry = get_entry(recipe.init_from) or {}  # load() verified the file against this sha256
    return {"from": recipe.init_from, "sha256": entry.get("sha256"),
            "copied": copied, "fresh": fresh}


def train(
    recipe,
    out_dir: str | Path,
    *,
    epochs: int | None = None,
    steps_per_epoch: int | None = None,
    batch_size: int | None = None,
    strategy: str = "default",
    verbose: int | None = None,
    extra_callbacks: tuple = (),
    initial_weights: str | Path | None = None,
) -> dict:
    """Run (or resume) ``recipe`` into ``out_dir``; returns the summary dict.

    ``epochs``/``steps_per_epoch``/``batch_size`` override the recipe's budget
    (for smoke runs); the summary records what was actually run.
    ``initial_weights`` starts from a ``.weights.h5`` (fine-tuning).
    """
    import dataclasses

    import keras

    from zoo import registry
    from zoo.provenance import git_commit
    from zoo.weights_io import load_strict, parameter_counts, save_atomic

    overrides = {
        k: v
        for k, v in dict(epochs=epochs, steps_per_epoch=steps_per_epoch, batch_size=batch_size).items()
        if v is not None
    }
    recipe = dataclasses.replace(recipe, **overrides)
    if initial_weights and recipe.init_from:
        raise ZooError(f"recipe {recipe.name} starts from {recipe.init_from}; do not pass initial weights too")
    warm_started = None
    commit = git_commit()  # the code that runs, recorded before anything can change it
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(recipe.seed)
    dist = make_strategy(strategy)
    global_batch = recipe.batch_size

    done_epochs = _checkpointed_epochs(out / "checkpoint")
    start_step = done_epochs * recipe.steps_per_epoch if recipe.steps_per_epoch else 0
    train_ds = recipe.train_data(global_batch, recipe.seed, start_step)
    spe = _steps_per_epoch(recipe, train_ds)
    if recipe.steps_per_epoch:
        train_ds = train_ds.repeat()
    val_ds = recipe.val_data() if recipe.val_data else None
    total_steps = spe * recipe.epochs

    spec = registry.get_spec(recipe.model)
    with dist.scope():
        model = spec.builder(**recipe.builder_kwargs)
        if initial_weights:
            load_strict(model, initial_weights, f"{recipe.model} (initial weights)")
        elif recipe.init_from:
            warm_started = _warm_start(model, recipe)
        model.compile(
            optimizer=recipe.optimizer(total_steps),
            loss=recipe.loss(),
            metrics=recipe.metrics(),
        )

    csv_path, png_path = out / "history.csv", out / "curves.png"

    class Curves(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if csv_path.exists():
                plot_curves(csv_path, png_path)

    callbacks = [
        keras.callbacks.BackupAndRestore(str(out / "checkpoint"), delete_checkpoint=False),
        keras.callbacks.CSVLogger(str(csv_path), append=True),
        Curves(),
        keras.callbacks.TerminateOnNaN(),
        *extra_callbacks,
    ]
    if verbose is None:
        verbose = 1 if sys.stdout.isatty() else 2
    (out / "recipe.json").write_text(json.dumps(recipe.summary(), indent=2))
    start = time.time()
    history = model.fit(
        train_ds,
        validation_data=val_ds,
        epochs=recipe.epochs,
        steps_per_epoch=spe,
        callbacks=callbacks,
        verbose=verbose,
        shuffle=False,  # recipes shuffle in their tf.data pipelines
    )
    if any(not math.isfinite(v) for vs in history.history.values() for v in vs):
        raise ZooError(f"training {recipe.name} diverged (NaN loss); see {csv_path}")
    # Published weights hold the model only: a fresh, uncompiled twin has no optimizer state.
    clean = spec.builder(**recipe.builder_kwargs)
    clean.set_weights(model.get_weights())
    final = save_atomic(clean, out / "final.weights.h5")
    with open(csv_path) as f:
        rows = list(csv.DictReader(f))
    summary = {
        "recipe": recipe.summary(),
        "recipe_file": f"zoo/recipes/{recipe.name}.py",
        "commit": commit,
        "strategy": strategy,
        "replicas": dist.num_replicas_in_sync,
        "epochs_logged": len(rows),
        "last_epoch": {k: (None if math.isnan(x) else x) for k, x in ((k, _csv_float(v)) for k, v in rows[-1].items())}
        if rows else {},
        "seconds_this_run": round(time.time() - start, 1),
        **parameter_counts(model),
        "weights": str(final),
        "initial_weights": str(initial_weights) if initial_weights else None,
        "warm_start": warm_started,
        "resumed_at_step": start_step,
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    return summary
