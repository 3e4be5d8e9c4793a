"""MNIST from ``shared/data/mnist`` as float32 [0, 1] NHWC arrays and tf.data pipelines."""

from __future__ import annotations

import numpy as np

from zoo.data.paths import dataset_dir

VAL_SIZE = 5000  # last 5,000 training images are held apart for validation


def load_split(split: str) -> tuple[np.ndarray, np.ndarray]:
    """``(images NxHxWx1 float32 in [0,1], labels int64)`` for "train", "val" or "test"."""
    folder = dataset_dir("mnist")
    if split == "test":
        with np.load(folder / "mnist_test.npz") as d:
            x, y = d["x_test"], d["y_test"]
    elif split in ("train", "val", "train_full"):
        with np.load(folder / "mnist_train.npz") as d:
            x, y = d["x_train"], d["y_train"]
        if split == "train":
            x, y = x[:-VAL_SIZE], y[:-VAL_SIZE]
        elif split == "val":
            x, y = x[-VAL_SIZE:], y[-VAL_SIZE:]
    else:
        raise ValueError(f"split must be train, val, train_full or test, got {split!r}")
    return (x.astype(np.float32) / 255.0)[..., None], y.astype(np.int64)


def train_dataset(batch_size: int, seed: int, shift: int = 2):
    """Shuffled, batched training pipeline with random translations of up to ``shift`` px."""
    import tensorflow as tf

    x, y = load_split("train")
    ds = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x), seed=seed)

    def augment(img, label):
        padded = tf.pad(img, [[shift, shift], [shift, shift], [0, 0]])
        return tf.image.random_crop(padded, tf.shape(img)), label

    if shift:
        ds = ds.map(augment, num_parallel_calls=tf.data.AUTOTUNE)
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def eval_dataset(split: str, batch_size: int = 500):
    import tensorflow as tf

    x, y = load_split(split)
    return tf.data.Dataset.from_tensor_slices((x, y)).batch(batch_size)
