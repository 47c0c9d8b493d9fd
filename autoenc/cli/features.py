"""``autoenc features`` (encode a data split once into a feature cache) and ``autoenc probe``
(linear / kNN classifier on a cache).

    autoenc features runs/digits_ae --cache cache/digits-val [--split val] [--data digits --set image_size=8]
    autoenc features torchvision:resnet18 --data cifar10 --cache cache/r18 --devices 2
    autoenc probe cache/digits-train --test-cache cache/digits-val --kind knn

Without ``--data``, a checkpoint's own data (as recorded at training) is used.
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
    p.add_argument("--split", default="val", choices=["train", "val", "all"], help="which split (default val)")
    p.add_argument("--overwrite", action="store_true", help="rebuild an existing cache")
    p.add_argument("--batch-size", type=int, default=64, help="images per forward pass (default 64)")
    p.add_argument("--devices", type=int, default=1,
                   help="devices; more than 1 runs Trainer.predict with DDP (default 1)")
    p.add_argument("--accelerator", default="cpu", help="Lightning accelerator for --devices (default cpu)")
    tv = p.add_argument_group("torchvision encoders")
    tv.add_argument("--weights", help="weights enum name (IMAGENET1K_V1, DEFAULT) or a local file; "
                    "default: random init")
    tv.add_argument("--resize", type=int, help="resize images to this square size before the network")
    tv.add_argument("--pool", default="avg", choices=["avg", "flatten"],
                    help="feature map -> vector: global average or flatten (default avg)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def _datamodule(args: Any) -> Any:
    from autoenc.cli._data import build_datamodule
    from autoenc.features.encoders import source_kind

    if args.data is not None:
        return build_datamodule(args, num_workers=0)
    if args.overrides:
        raise UserError("--set needs --data (the dataset it modifies); add e.g. --data digits")
    if source_kind(args.source) != "checkpoint":
        raise UserError(f"--data is required for {args.source!r} (only checkpoints record their data); "
                        "add e.g. --data digits")
    from autoenc.training.runs import datamodule_from_checkpoint

    return datamodule_from_checkpoint(args.source, num_workers=0)


def features(argv: list[str]) -> int:
    """``autoenc features SOURCE --cache DIR ...``: build (or reuse) a feature cache."""
    args = build_features_parser().parse_args(argv)
    from autoenc.features import extract_features, load_encoder

    encoder = load_encoder(args.source, weights=args.weights, pool=args.pool, image_size=args.resize)
    dm = _datamodule(args)
    existed = args.cache.is_dir() and (args.cache / "meta.json").is_file() and not args.overwrite
    cache = extract_features(encoder, dm, args.cache, split=args.split, batch_size=args.batch_size,
                             overwrite=args.overwrite, progress=False if args.no_progress else None,
                             devices=args.devices, accelerator=args.accelerator)
    if int(os.environ.get("LOCAL_RANK", "0")) == 0:
        action = "reused" if existed else "wrote"
        print(f"{action} {args.cache}: {len(cache)} x {cache.dim} features of the {args.split} split"
              f"{'' if cache.targets is None else ' with targets'}")
    return 0


def build_probe_parser() -> ArgumentParser:
    p = ArgumentParser(prog="autoenc probe",
                       description="Train a linear (logistic regression) or kNN probe on a feature cache and "
                       "report accuracy against chance, per class.")
    p.add_argument("cache", type=Path, help="feature cache directory (from `autoenc features`)")
    p.add_argument("--kind", default="linear", choices=["linear", "knn"], help="probe (default linear)")
    p.add_argument("--test-cache", type=Path, help="score on this cache instead of a split of CACHE")
    p.add_argument("--test-fraction", type=float, default=0.25, help="held-out share without --test-cache")
    p.add_argument("--seed", type=int, default=0, help="split and classifier seed (default 0)")
    p.add_argument("--k", type=int, default=5, help="knn: neighbours (default 5)")
    p.add_argument("--C", type=float, default=1.0, help="linear: inverse L2 strength (default 1.0)")
    p.add_argument("--target-column", type=int, help="which factor, when targets are factor values")
    p.add_argument("--json", type=Path, help="also write the result as JSON to this file")
    return p


def probe(argv: list[str]) -> int:
    """``autoenc probe DIR [--kind linear|knn] [--test-cache DIR]``: print accuracy vs chance."""
    args = build_probe_parser().parse_args(argv)
    from dataclasses import asdict

    from autoenc.atomic import atomic_file
    from autoenc.features import probe as run_probe

    options = {"k": args.k} if args.kind == "knn" else {"C": args.C}
    result = run_probe(args.cache, args.kind, test_cache=args.test_cache, test_fraction=args.test_fraction,
                       seed=args.seed, target_column=args.target_column, **options)
    print(result.summary())
    if args.json is not None:
        with atomic_file(args.json, "w") as f:
            json.dump(asdict(result), f, indent=2)
    sys.stdout.flush()
    return 0
