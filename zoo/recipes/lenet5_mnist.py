"""LeNet-5 on MNIST: 55k train / 5k val, +-2 px shifts, Adam with cosine decay, 20 epochs."""

import keras

from zoo.data import mnist
from zoo.recipes import Recipe


def _optimizer(total_steps: int):
    schedule = keras.optimizers.schedules.CosineDecay(2e-3, decay_steps=total_steps, alpha=0.01)
    return keras.optimizers.Adam(schedule)


RECIPE = Recipe(
    name="lenet5_mnist",
    version=1,
    model="lenet5",
    weight_name="lenet5.mnist",
    description=__doc__,
    train_data=lambda batch_size, seed, start_step=0: mnist.train_dataset(batch_size, seed),  # one pass per epoch
    val_data=lambda: mnist.eval_dataset("val"),
    loss=lambda: keras.losses.SparseCategoricalCrossentropy(),
    optimizer=_optimizer,
    metrics=lambda: [keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
    monitor="val_accuracy",
    epochs=20,
    batch_size=128,
    seed=1998,
)
