"""Fine-tuning a pretrained restoration net on a folder of your own images.

The folder's images are split (deterministically, by sorted name) into a
training part and a held-apart validation part; training uses the model's own
recipe pipeline (aligned LR/HR crops, flips/rotations), starts from the
published weights, stops early when the validation PSNR stops improving and
keeps the best weights.  Progress, ``history.csv`` and ``curves.png`` are the
training runner's.

Example::

    from zoo.train.finetune import finetune
    result = finetune("xunit_sr_x4", "my_photos/", "runs/ft_photos", epochs=10)
    model = zoo.load("xunit_sr_x4", weights=result["weights"])
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from zoo.errors import ZooError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")


def split_folder(folder: str | Path, val_fraction: float = 0.2, min_val: int = 1):
    """Sorted image paths of ``folder`` split into (train, val); every k-th image goes to val."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ZooError(f"{folder} is not a folder of images")
    paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if len(paths) < 2:
        raise ZooError(f"{folder} has {len(paths)} image(s); fine-tuning needs at least 2 (train + validation)")
    n_val = max(min_val, int(round(len(paths) * val_fraction)))
    step = len(paths) / n_val
    val_idx = {int(i * step + step / 2) for i in range(n_val)}
    val = [p for i, p in enumerate(paths) if i in val_idx]
    train = [p for i, p in enumerate(paths) if i not in val_idx]
    return train, val


def _load_rgb_uint8(paths) -> list[np.ndarray]:
    from zoo.data.image_io import read_image

    out = []
    for p in paths:
        img = read_image(p)
        px = img.pixels[..., :3] if img.mode == "rgba" else img.pixels
        if px.shape[-1] == 1:
            px = np.repeat(px, 3, -1)
        out.append(np.round(px * 255).astype(np.uint8))
    return out


def val_crops(hr_images, scale: int, lr_size: int = 48):
    """Centre crops (LR ``lr_size``) of held-apart images as one tf.data batch."""
    import tensorflow as tf

    from zoo.data.sr import make_lr

    lrs, hrs = [], []
    for hr in hr_images:
        hr, lr = make_lr(hr, scale)
        size = min(lr_size, lr.shape[0], lr.shape[1])
        y0, x0 = (lr.shape[0] - size) // 2, (lr.shape[1] - size) // 2
        lrs.append(lr[y0:y0 + size, x0:x0 + size])
        hrs.append(hr[y0 * scale:(y0 + size) * scale, x0 * scale:(x0 + size) * scale])
    size = min(x.shape[0] for x in lrs)
    lr = np.stack([x[:size, :size] for x in lrs]).astype(np.float32) / 255.0
    hr = np.stack([x[:size * scale, :size * scale] for x in hrs]).astype(np.float32) / 255.0
    return tf.data.Dataset.from_tensor_slices((lr, hr)).batch(len(lrs))


def finetune_recipe(name: str, train_images, val_images, *, epochs=10, steps_per_epoch=200, lr=1e-4,
                    patch_size=None, batch_size=None, seed=0):
    """A recipe that adapts ``name`` (a super-resolution arch or arch.tag) to the given images."""
    import keras

    from zoo.data.sr import build_pair_bank, sr_train_dataset
    from zoo.recipes import get_recipe
    from zoo.registry import resolve_name

    spec, tag = resolve_name(name)
    if spec.task != "super_resolution" or spec.input_spec.channels != "rgb":
        raise ZooError(f"finetune supports the RGB super-resolution models, not {spec.arch} ({spec.task})")
    if tag is None or tag.recipe is None:
        raise ZooError(f"{name} has no training recipe to start from")
    base = get_recipe(tag.recipe)
    scale = spec.input_spec.scale
    patch = patch_size or 32
    usable = [im for im in train_images if min(im.shape[:2]) >= patch * scale]
    if not usable:
        raise ZooError(f"no training image is at least {patch * scale} pixels on its short side")
    bank = build_pair_bank(usable, scale, (1.0, 0.8))
    schedule = keras.optimizers.schedules.CosineDecay(lr, decay_steps=epochs * steps_per_epoch, alpha=0.1)
    return dataclasses.replace(
        base,
        name=f"finetune-{spec.arch}",
        train_data=lambda b, s, start=0: sr_train_dataset(scale=scale, patch_size=patch, batch_size=b, seed=s,
                                                          bank=bank, start_step=start),
        val_data=lambda: val_crops(val_images, scale),
        optimizer=lambda total: keras.optimizers.Adam(schedule, clipnorm=1.0),
        epochs=epochs,
        steps_per_epoch=steps_per_epoch,
        batch_size=batch_size or base.batch_size,
        builder_kwargs=dict(tag.builder_kwargs),
        seed=seed,
        weight_name=None,
    )


def finetune(name: str, data_dir, out_dir, *, epochs=10, steps_per_epoch=200, lr=1e-4, patience=3,
             val_fraction=0.2, from_scratch=False, seed=0, verbose=None) -> dict:
    """Fine-tune ``name`` on the images of ``data_dir``; returns the run summary.

    ``from_scratch=True`` trains the same architecture from random weights with the same
    budget (the control that shows what the pretrained start is worth).
    """
    import keras

    from zoo import hub
    from zoo.registry import resolve_name
    from zoo.train.runner import train

    spec, tag = resolve_name(name)
    train_paths, val_paths = split_folder(data_dir, val_fraction)
    recipe = finetune_recipe(name, _load_rgb_uint8(train_paths), _load_rgb_uint8(val_paths), epochs=epochs,
                             steps_per_epoch=steps_per_epoch, lr=lr, seed=seed)
    initial = None if from_scratch else hub.resolve(f"{spec.arch}.{tag.tag}")
    stop = keras.callbacks.EarlyStopping(monitor="val_psnr", mode="max", patience=patience,
                                         restore_best_weights=True)
    summary = train(recipe, out_dir, initial_weights=initial, extra_callbacks=(stop,), verbose=verbose)
    summary["train_images"] = [str(p) for p in train_paths]
    summary["val_images"] = [str(p) for p in val_paths]
    return summary


def evaluate_on_images(predict_fn, paths, scale: int) -> dict:
    """Mean Y-PSNR (SR protocol) of ``predict_fn`` on held-apart image files."""
    from zoo.data.sr import make_lr
    from zoo.eval_sr import quantize
    from zoo.metrics import sr_psnr_y

    values = []
    for hr8 in _load_rgb_uint8(paths):
        hr8, lr8 = make_lr(hr8, scale)
        sr = quantize(predict_fn(lr8.astype(np.float32) / 255.0)).astype(np.float64) / 255.0
        values.append(sr_psnr_y(sr, hr8.astype(np.float64) / 255.0, scale))
    return {"psnr_y": round(float(np.mean(values)), 4), "num_images": len(values)}
