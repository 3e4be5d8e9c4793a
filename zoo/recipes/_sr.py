"""Shared recipe for the zoo's RGB super-resolution nets (xunit_sr_x2/x3/x4 and the ReLU twin).

Data: T91 + BSD200 ("291"), each HR image also downscaled by 0.9/0.8/0.7/0.6 for
augmentation; LR made with MATLAB-compatible bicubic on uint8; random aligned
crops with the 8 flips/rotations.  L1 loss, Adam, cosine decay to 1% of the
initial rate.  Validation: Set5 centre crops (monitoring only; the reported
numbers come from tools/evaluate.py with the full-image protocol).
"""

from __future__ import annotations

import keras
import numpy as np

from zoo.recipes import Recipe, cosine_adam
from zoo.train.keras_metrics import psnr_metric

TRAIN_SETS = ("sr_t91", "sr_bsd200")


def val_dataset(scale: int, lr_size: int = 48):
    """Centre crops of the Set5 images (LR lr_size x lr_size) as one batch."""
    import tensorflow as tf

    from zoo.data.sr import eval_pairs

    lrs, hrs = [], []
    for _, lr, hr in eval_pairs("sr_set5", scale):
        if lr.shape[-1] == 1:
            lr, hr = np.repeat(lr, 3, -1), np.repeat(hr, 3, -1)
        y0, x0 = (lr.shape[0] - lr_size) // 2, (lr.shape[1] - lr_size) // 2
        lrs.append(lr[y0:y0 + lr_size, x0:x0 + lr_size])
        hrs.append(hr[y0 * scale:(y0 + lr_size) * scale, x0 * scale:(x0 + lr_size) * scale])
    lr = np.stack(lrs).astype(np.float32) / 255.0
    hr = np.stack(hrs).astype(np.float32) / 255.0
    return tf.data.Dataset.from_tensor_slices((lr, hr)).batch(len(lrs))


def make_sr_recipe(*, name, model, scale, weight_name=None, builder_kwargs=None, epochs=40,
                   steps_per_epoch=1000, batch_size=16, patch_size=32, lr=1e-3, seed=2018, version=1,
                   init_from=None, init_skip=(), description=__doc__):
    from zoo.data.sr import sr_train_dataset

    return Recipe(
        name=name,
        version=version,
        model=model,
        weight_name=weight_name,
        description=description,
        builder_kwargs=dict(builder_kwargs or {}),
        train_data=lambda b, s, start=0: sr_train_dataset(scale=scale, patch_size=patch_size, batch_size=b,
                                                          seed=s, names=TRAIN_SETS, start_step=start),
        val_data=lambda: val_dataset(scale),
        loss=lambda: keras.losses.MeanAbsoluteError(),
        optimizer=lambda total: cosine_adam(lr, total),
        metrics=lambda: [psnr_metric()],
        monitor="val_psnr",
        epochs=epochs,
        steps_per_epoch=steps_per_epoch,
        batch_size=batch_size,
        seed=seed,
        init_from=init_from,
        init_skip=tuple(init_skip),
    )
