"""``autoenc retrain``: a new last layer on a feature cache, kept as a classifier directory
(generated from :func:`retrain_cache`).

    autoenc features runs/digits_ae --cache cache/digits --split all
    autoenc retrain cache/digits --out classifiers/digits [--hidden 64] [--flip true]
    autoenc predict classifiers/digits photo.png folder/

Its own module: ``--help`` answers without importing torch.
"""

from __future__ import annotations

from pathlib import Path

from autoenc.cli._generate import Generated
from autoenc.cli.features import emit
from autoenc.cli.option_checks import FLAG, NAME, OPTIONAL_PATH, PATH
from autoenc.features.retrain_options import DISTORTION_PARAMS, RETRAIN_PARAMS


def retrain_cache(
    cache: Path,
    *,
    out: Path,
    hidden: int | None = None,
    test_fraction: float = 0.2,
    val_fraction: float = 0.1,
    epochs: int = 200,
    patience: int = 10,
    learning_rate: float = 0.03,
    weight_decay: float = 1e-4,
    batch_size: int = 1024,
    seed: int = 0,
    random_crop: float = 0.0,
    random_scale: float = 0.0,
    flip_left_right: bool = False,
    random_brightness: float = 0.0,
    overwrite: bool = False,
    device: str = "cpu",
    json: Path | None = None,
) -> int:
    """Train a new last layer (softmax regression, or one hidden layer) on a feature cache and
    write the classifier directory --out.

    The cache's items are split (seeded, stratified) into train, val (early stopping) and test
    (the reported accuracy, 95% Wilson interval, against the majority-class rate, per class).
    Any random distortion makes each epoch encode distorted training images again instead of
    reading the cache (slower; the command says so).

    Args:
        cache: feature cache directory with class labels (from `autoenc features`).
        out: classifier directory to write (atomically).
        hidden: width of one hidden ReLU layer (default: none, softmax regression).
        test_fraction: share of items held out for the reported accuracy, in (0, 1).
        val_fraction: share held out for early stopping, in (0, 1).
        epochs: most epochs.
        patience: stop after this many epochs without a lower validation loss.
        learning_rate: AdamW learning rate.
        weight_decay: AdamW weight decay.
        batch_size: items per step.
        seed: split, initialisation, batches and distortions.
        random_crop: distortion: random crop margin, a fraction of the image size in [0, 1).
        random_scale: distortion: random enlargement up to this fraction, in [0, 1).
        flip_left_right: distortion: mirror half of the images.
        random_brightness: distortion: multiply brightness by U(1-b, 1+b), b in [0, 1).
        overwrite: replace an existing --out.
        device: torch device of the head (and the encoder when distorting).
        json: also write the measured figures as JSON to this file.
    """
    import json as json_module

    from autoenc.cli.option_checks import check_device
    from autoenc.core.atomic import atomic_file
    from autoenc.features.cache import open_cache
    from autoenc.features.distort import Distortions
    from autoenc.features.retrain import retrain

    check_device(device)
    cache = open_cache(cache)  # a missing or damaged cache is said before what training will do
    distortions = Distortions(crop=random_crop, scale=random_scale, flip=flip_left_right,
                              brightness=random_brightness)
    if distortions.active:
        emit("distortions on: each epoch encodes distorted training images again; the cache gives only the "
             "val/test features")
    else:
        emit("training on the cached features (no distortions)")
    result = retrain(cache, out=out, hidden=hidden, test_fraction=test_fraction, val_fraction=val_fraction,
                     epochs=epochs, patience=patience, learning_rate=learning_rate, weight_decay=weight_decay,
                     batch_size=batch_size, seed=seed, distortions=distortions, overwrite=overwrite, device=device)
    if json is not None:
        with atomic_file(json, "w") as f:
            json_module.dump(result.to_dict(), f, indent=2)
    emit(result.summary())
    emit(f"wrote classifier {out}")
    return 0


retrain_command = Generated(retrain_cache, "autoenc retrain", positional=("cache",), params={
    **RETRAIN_PARAMS, "cache": [PATH], "out": [PATH], "random_crop": DISTORTION_PARAMS["crop"],
    "random_scale": DISTORTION_PARAMS["scale"], "random_brightness": DISTORTION_PARAMS["brightness"],
    "flip_left_right": [FLAG], "overwrite": [FLAG], "device": [NAME], "json": OPTIONAL_PATH})
