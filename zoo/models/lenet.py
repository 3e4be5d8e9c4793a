"""LeNet-5 (LeCun, Bottou, Bengio, Haffner 1998).

Layout of the paper: 28x28 digits zero-padded to 32x32, C1 6@5x5, S2 2x2
subsampling, C3 16@5x5, S4 2x2 subsampling, C5 120@5x5, F6 84, output 10.
C3 is fully connected to S2 (the paper's sparse connection table was a
compute saving of its time) and S2/S4 are parameter-free average pooling, so
the count is 61,706 instead of the paper's 60,000.

Example::

    import zoo
    model = zoo.load("lenet5")            # trained on MNIST by zoo/recipes/lenet5_mnist.py
    probs = model.predict(digits_28x28x1_in_0_1)
"""

from __future__ import annotations

import keras
from keras import layers

from zoo.registry import InputSpec, WeightTag, register

PAPER = "LeCun et al., Gradient-based learning applied to document recognition, Proc. IEEE 1998"


def build_lenet(
    *,
    keras_module=keras,
    input_shape=(28, 28, 1),
    include_top=True,
    pooling=None,
    classes=10,
    classifier_activation="softmax",
    activation="tanh",
    name="lenet5",
):
    """LeNet-5 for any keras module (Keras 3 or tf_keras, for tfmot)."""
    L = keras_module.layers
    inputs = keras_module.Input(shape=input_shape, name="image")
    x = L.ZeroPadding2D(2, name="pad_to_32")(inputs) if tuple(input_shape[:2]) == (28, 28) else inputs
    x = L.Conv2D(6, 5, activation=activation, name="c1")(x)
    x = L.AveragePooling2D(2, name="s2")(x)
    x = L.Conv2D(16, 5, activation=activation, name="c3")(x)
    x = L.AveragePooling2D(2, name="s4")(x)
    x = L.Conv2D(120, 5, activation=activation, name="c5")(x)
    if include_top:
        x = L.Flatten(name="flatten")(x)
        x = L.Dense(84, activation=activation, name="f6")(x)
        x = L.Dense(classes, activation=classifier_activation, name="predictions")(x)
    elif pooling == "avg":
        x = L.GlobalAveragePooling2D(name="avg_pool")(x)
    elif pooling == "max":
        x = L.GlobalMaxPooling2D(name="max_pool")(x)
    elif pooling is not None:
        raise ValueError(f"pooling must be None, 'avg' or 'max', got {pooling!r}")
    return keras_module.Model(inputs, x, name=name)


@register(
    family="lenet",
    task="classification",
    paper=PAPER,
    input_spec=InputSpec(shape=(28, 28, 1), channels="grey"),
    tags=(
        WeightTag(
            tag="mnist",
            description="MNIST digits, white on black, 28x28 in [0, 1]",
            recipe="lenet5_mnist",
            dataset="mnist",
        ),
    ),
    default_tag="mnist",
    head_layers=("predictions",),
)
def lenet5(
    *,
    input_shape=(28, 28, 1),
    include_top=True,
    pooling=None,
    classes=10,
    classifier_activation="softmax",
    activation="tanh",
):
    """LeNet-5 digit classifier, 61.7K parameters, 28x28 grey input in [0, 1].

    Arguments follow keras.applications: ``include_top``, ``pooling``
    (``None``/``"avg"``/``"max"`` when ``include_top=False``), ``classes``,
    ``classifier_activation``.
    """
    return build_lenet(
        input_shape=input_shape,
        include_top=include_top,
        pooling=pooling,
        classes=classes,
        classifier_activation=classifier_activation,
        activation=activation,
    )
