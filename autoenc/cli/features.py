"""``autoenc features`` (encode a data split once into a feature cache) and ``autoenc probe``
(linear / kNN classifier on a cache).

    autoenc features runs/digits_ae --cache cache/digits-val [--split val] [--data digits --set image_size=8]
    autoenc features torchvision:resnet18 --data cifar10 --cache cache/r18 --devices 2
    autoenc probe cache/digits-train --test-cache cache/digits-val --kind knn

Without ``--data``, a checkpoint's own data (as recorded at training) is used; with it, the run's
split (val_fraction, seed) stays the default, so ``val`` still means the run's validation images.
Output that a closed pipe cuts short (``autoenc probe ... | head -1``) ends quietly.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from autoenc.cli._args import ArgumentParser
from autoenc.errors import UserError


def build_features_parser() -> ArgumentParser:
    from autoenc.cli._data import add_data_arguments

    p = ArgumentParser(prog="autoenc features",
                       description="Encode one split of a dataset with a frozen encoder into a feature cache "
                       "(features.npy, targets.npy, meta.json). A matching cache is reused, a different one "
                       "refused. Without --data, a checkpoint's own data is used.")
    p.add_argument("source", help="checkpoint, run directory, export directory, or torchvision:<model>[:<node>]")
    add_data_arguments(p, default=None)
    p.add_argument("--cache", required=True, type=Path, help="cache directory to write (created atomically)")
    p.add_argument("--split", default="val", choices=["train", "val", "all"],
                   help="which split (default val; a run's own val_fraction and seed define it)")
    p.add_argument("--overwrite", action="store_true", help="rebuild an existing cache")
    p.add_argument("--batch-size", type=int, default=64, help="images per forward pass (default 64)")
    p.add_argument("--devices", type=int, default=1,
                   help="devices; more than 1 runs Trainer.predict with DDP (default 1)")
    p.add_argument("--accelerator", default="cpu", help="Lightning accelerator for --devices (default cpu)")
    tv = p.add_argument_group("torchvision encoders")
    tv.add_argument("--weights", help="weights enum name (IMAGENET1K_V1, DEFAULT) or a local file; "
                    "default: random weights drawn from --seed")
    tv.add_argument("--resize", type=int, help="resize images to this square size before the network")
    tv.add_argument("--pool", default="avg", choices=["avg", "flatten"],
                    help="feature map -> vector: global average or flatten (default avg)")
    tv.add_argument("--seed", type=int, help="seed of the random weights when there are no --weights (default 0), "
                    "so a rerun builds the same encoder")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def _run_split(source: str) -> dict[str, Any]:
    """The val_fraction and seed a checkpoint's data module was trained with ({} when not recorded)."""
    from autoenc.training.checkpoints import read_checkpoint

    hp = read_checkpoint(source).get("datamodule_hyper_parameters") or {}
    return {k: hp[k] for k in ("val_fraction", "seed") if k in hp}


def _datamodule(args: Any) -> Any:
    from autoenc.cli._data import build_datamodule
    from autoenc.features.encoders import source_kind

    from_run = source_kind(args.source) == "checkpoint"
    if args.data is not None:
        # --set and a YAML's own values win over the run's split (these are only defaults)
        return build_datamodule(args, num_workers=0, **(_run_split(args.source) if from_run else {}))
    if args.overrides:
        raise UserError("--set needs --data (the dataset it modifies); add e.g. --data digits")
    if not from_run:
        raise UserError(f"--data is required for {args.source!r} (only checkpoints record their data); "
                        "add e.g. --data digits")
    from autoenc.training.runs import datamodule_from_checkpoint

    return datamodule_from_checkpoint(args.source, num_workers=0)


def emit(text: str) -> bool:
    """Print ``text`` to stdout; False (and quiet) when the reader has gone (``| head -1``).

    The broken stdout is pointed at /dev/null so that the interpreter's final flush does not
    print a BrokenPipeError either.
    """
    try:
        print(text, flush=True)
        return True
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
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


def features(argv: list[str]) -> int:
    """``autoenc features SOURCE --cache DIR ...``: build (or reuse) a feature cache."""
    args = build_features_parser().parse_args(argv)
    from autoenc.features import extract_features, load_encoder
    from autoenc.features.extract import check_run_options

    check_run_options(args.batch_size, args.devices)  # before minutes of loading weights and data
    encoder = load_encoder(args.source, weights=args.weights, pool=args.pool, image_size=args.resize, seed=args.seed)
    dm = _datamodule(args)
    existed = args.cache.is_dir() and (args.cache / "meta.json").is_file() and not args.overwrite
    cache = extract_features(encoder, dm, args.cache, split=args.split, batch_size=args.batch_size,
                             overwrite=args.overwrite, progress=False if args.no_progress else None,
                             devices=args.devices, accelerator=args.accelerator)
    if int(os.environ.get("LOCAL_RANK", "0")) == 0:
        emit(f"{'reused' if existed else 'wrote'} {args.cache}: {_describe(cache, args.split)}")
    return 0


def build_probe_parser() -> ArgumentParser:
    p = ArgumentParser(prog="autoenc probe",
                       description="Train a linear (logistic regression) or kNN probe on training items of a "
                       "feature cache and report its accuracy on held-out items (95% Wilson interval) against "
                       "chance (the held-out items' majority-class rate), per class.")
    p.add_argument("cache", type=Path, help="feature cache directory (from `autoenc features`)")
    p.add_argument("--kind", default="linear", choices=["linear", "knn"], help="probe (default linear)")
    p.add_argument("--test-cache", type=Path, help="score on this cache instead of a split of CACHE")
    p.add_argument("--test-fraction", type=float, default=0.25,
                   help="share of CACHE held out for testing, in (0, 1), without --test-cache (default 0.25)")
    p.add_argument("--seed", type=int, default=0, help="split and classifier seed (default 0)")
    p.add_argument("--k", type=int, help="knn: neighbours, 1 <= k <= training items (default 5)")
    p.add_argument("--C", type=float, help="linear: inverse L2 strength, > 0 (default 1.0)")
    p.add_argument("--target-column", type=int, help="which factor, when targets are factor values")
    p.add_argument("--json", type=Path, help="also write the result as JSON to this file")
    return p


def probe(argv: list[str]) -> int:
    """``autoenc probe DIR [--kind linear|knn] [--test-cache DIR]``: print accuracy vs chance."""
    args = build_probe_parser().parse_args(argv)
    from dataclasses import asdict

    from autoenc.atomic import atomic_file
    from autoenc.features import probe as run_probe

    options = {name: value for name, value in (("k", args.k), ("C", args.C)) if value is not None}
    result = run_probe(args.cache, args.kind, test_cache=args.test_cache, test_fraction=args.test_fraction,
                       seed=args.seed, target_column=args.target_column, **options)
    if args.json is not None:
        with atomic_file(args.json, "w") as f:
            json.dump(asdict(result), f, indent=2)
    emit(result.summary())
    return 0
