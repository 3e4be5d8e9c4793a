"""Keras metrics used while training restoration nets (the reported numbers come from
:mod:`zoo.evaluation`, with the standard protocols, not from these)."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="zoo")
def psnr_01(y_true, y_pred):
    """Per-image PSNR in dB of images in [0, 1] (RGB, no border shave), prediction clipped."""
    err = ops.mean(ops.square(ops.clip(y_pred, 0.0, 1.0) - y_true), axis=(1, 2, 3))
    return -10.0 * ops.log(ops.maximum(err, 1e-10)) / ops.log(10.0)


def psnr_metric(name="psnr"):
    return keras.metrics.MeanMetricWrapper(psnr_01, name=name)
