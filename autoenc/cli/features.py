"""``autoenc features``: encode a data split once into a feature cache (generated from
:func:`features`; ``autoenc probe`` is in :mod:`autoenc.cli.probe`).

    autoenc features runs/digits_ae --cache cache/digits-val [--split val] [--data.image_size 8]
    autoenc features runs/mnist_ae --cache cache/m --data.source.init_args.root ~/datasets
    autoenc features torchvision:resnet18 --data.source cifar10 --cache cache/r18 --devices 2
    autoenc probe cache/digits-train --test_cache cache/digits-val --kind knn

A checkpoint's own data (as recorded at training) is used, and the ``--data.*`` options given
override only what they name (so ``val`` still means the run's validation images). Output that a
closed pipe cuts short (``autoenc probe ... | head -1``) ends quietly.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from autoenc.cli._generate import Generated
from autoenc.cli.main import silence_stdout
from autoenc.cli.option_checks import (
    FLAG,
    NAME,
    OPTIONAL_COUNT,
    PATH,
    SEED,
    SPLIT_OR_ALL,
    check_accelerator,
)
from autoenc.core.constraints import POSITIVE_INT, Null, Options
from autoenc.core.errors import UserError

if TYPE_CHECKING:
    from autoenc.data.module import ImageDataModule


def emit(text: str) -> bool:
    """Print ``text`` to stdout; False (and quiet) when the reader has gone (``| head -1``).

    The broken stdout is pointed at /dev/null so that the interpreter's final flush does not
    print a BrokenPipeError either.
    """
    try:
        print(text, flush=True)
        return True
    except BrokenPipeError:
        silence_stdout()
        return False


def _describe(cache: Any, split: str) -> str:
    """``"N x D features of the val split (val_fraction 0.3, seed 0) with targets; encoder ..."``."""
    dm = cache.meta["data"].get("datamodule") or {}
    where = ""
    if split != "all" and "val_fraction" in dm:
        where = f" (val_fraction {dm['val_fraction']}, seed {dm.get('seed')})"
    weights = str(cache.meta.get("encoder_weights", "unknown"))
    weights = f"random weights{weights[len('random'):]}" if weights.startswith("random") else f"weights {weights}"
    return (f"{len(cache)} x {cache.dim} features of the {split} split{where}"
            f"{'' if cache.targets is None else ' with targets'}; encoder {cache.meta['encoder_source']}, {weights}")


def features(
    source: str,
    *,
    cache: Path,
    data: ImageDataModule | None = None,
    split: Literal["train", "val", "all"] = "val",
    overwrite: bool = False,
    batch_size: int = 64,
    devices: int = 1,
    accelerator: str = "cpu",
    weights: str | None = None,
    resize: int | None = None,
    pool: Literal["avg", "flatten"] | None = None,
    seed: int | None = None,
    progress: bool = True,
) -> int:
    """Encode one split of a dataset with a frozen encoder into a feature cache.

    Writes features.npy, targets.npy and meta.json (atomically). A matching cache is reused, a
    different one refused. A checkpoint's own data is used; --data.* options override it (or,
    for another encoder, say which data to encode).

    Args:
        source: checkpoint, run directory, export directory, or torchvision:<model>[:<node>].
        cache: cache directory to write (created atomically).
        data: the images to encode (default: the checkpoint's own data).
        split: which split (a run's own val_fraction and seed define it).
        overwrite: rebuild an existing cache.
        batch_size: images per forward pass.
        devices: devices; more than 1 runs Trainer.predict with DDP.
        accelerator: Lightning accelerator for --devices.
        weights: torchvision: weights enum name (IMAGENET1K_V1, DEFAULT) or a local file; default:
            random weights drawn from --seed.
        resize: torchvision: resize images to this square size before the network.
        pool: feature map -> vector: avg (one number per channel) or flatten (the whole map);
            default avg for torchvision, flatten for autoenc codes (spatial codes differ).
        seed: torchvision: seed of the random weights when there are no --weights (default 0), so
            a rerun builds the same encoder.
        progress: show a progress bar (on a terminal).
    """
    from autoenc.features import extract_features, load_encoder
    from autoenc.features.extract import check_run_options

    check_run_options(batch_size, devices)  # before minutes of loading weights and data
    check_accelerator(accelerator)
    encoder = load_encoder(source, weights=weights, pool=pool, image_size=resize, seed=seed)
    dm = data if data is not None else _run_data(source)
    existed = cache.is_dir() and (cache / "meta.json").is_file() and not overwrite
    made = extract_features(encoder, dm, cache, split=split, batch_size=batch_size, overwrite=overwrite,
                            progress=None if progress else False, devices=devices, accelerator=accelerator)
    if int(os.environ.get("LOCAL_RANK", "0")) == 0:
        emit(f"{'reused' if existed else 'wrote'} {cache}: {_describe(made, split)}")
    return 0


def _run_data(source: str) -> Any:
    """The data module a checkpoint recorded; other encoders need --data.* options."""
    from autoenc.features.encoders import source_kind

    if source_kind(source) != "checkpoint":
        raise UserError(f"data options are required for {source!r} (only checkpoints record their data); "
                        "add e.g. --data.source digits")
    from autoenc.runs.run import Run

    return Run.open(source, num_workers=0).datamodule


features_command = Generated(
    features, "autoenc features", positional=("source",), run="source", data="optional", data_defaults={"num_workers": 0},
    params={"source": [PATH], "cache": [PATH], "split": SPLIT_OR_ALL, "overwrite": [FLAG], "batch_size": [POSITIVE_INT],
            "devices": [POSITIVE_INT], "accelerator": [NAME], "weights": [NAME, Null()], "resize": OPTIONAL_COUNT,
            "pool": [Options(["avg", "flatten"]), Null()], "seed": [SEED, Null()], "progress": [FLAG]})
