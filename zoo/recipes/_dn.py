"""Shared recipe for the zoo's Gaussian denoisers (xunit_dn_*, cscnet_*).

Data: Train400 (DnCNN's 400 grey BSD images), random 40x40 crops (CSCNet: 64x64, its codes
sit on a stride-8 grid) with the 8 flips/rotations, white Gaussian noise of the model's sigma
(blind: uniform in [0, 55] per patch), not clipped.  MSE loss on the clean image, Adam with
cosine decay to 1% of the initial rate.  Validation: Set12 centre crops with seeded noise
(monitoring only; the reported numbers come from tools/evaluate.py with the Set12 protocol).
"""

from __future__ import annotations

import keras

from zoo.recipes import Recipe, cosine_adam
from zoo.train.keras_metrics import psnr_metric


def make_dn_recipe(*, name, model, sigma, epochs, steps_per_epoch, batch_size, patch_size=40, lr=1e-3,
                   seed=2017, version=1, builder_kwargs=None, init_from=None, tag="train400",
                   description=__doc__):
    from zoo.data.denoise import denoise_train_dataset, val_dataset
    from zoo.models.denoising import BLIND_RANGE  # the range the blind weights' tag declares

    return Recipe(
        name=name,
        version=version,
        model=model,
        weight_name=f"{model}.{tag}",
        description=description,
        builder_kwargs=dict(builder_kwargs or {}),
        train_data=lambda b, s, start=0: denoise_train_dataset(patch_size=patch_size, batch_size=b, seed=s,
                                                               sigma=sigma, sigma_range=BLIND_RANGE,
                                                               start_step=start),
        val_data=lambda: val_dataset(sigma),
        loss=lambda: keras.losses.MeanSquaredError(),
        optimizer=lambda total: cosine_adam(lr, total),
        metrics=lambda: [psnr_metric()],
        monitor="val_psnr",
        epochs=epochs,
        steps_per_epoch=steps_per_epoch,
        batch_size=batch_size,
        seed=seed,
        init_from=init_from,
    )
