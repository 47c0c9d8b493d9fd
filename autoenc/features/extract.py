"""Compute an encoder's features of a data split once, into an on-disk cache.

``extract_features(encoder, data, cache_dir)`` reuses a matching cache, refuses a different one,
else encodes the images in batches and writes the cache into a temporary sibling directory
renamed into place only when complete (:mod:`autoenc.features.staging`); ``devices > 1`` runs
the same extraction through ``Trainer.predict`` (:mod:`autoenc.features.distributed`).
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

from autoenc.core.constraints import POSITIVE_INT, check_param
from autoenc.core.errors import UserError
from autoenc.data.module import ImageDataModule, source_spec
from autoenc.data.source import ImageArrays
from autoenc.features.cache import (
    FEATURES,
    FORMAT,
    KIND,
    FeatureCache,
    existing_cache,
    fsync_dir,
    open_cache,
    save_targets,
    write_meta,
)
from autoenc.features.encoders import FrozenEncoder, load_encoder
from autoenc.features.request import ExtractionRequest, finish_meta, progress_bar
from autoenc.features.staging import staged_dir
from autoenc.models.encoding import batched

Split = Literal["train", "val", "all"]
DataLike = ImageDataModule | ImageArrays | str


def items_sha256(images: torch.Tensor, targets: torch.Tensor | None) -> str:
    """sha256 over the uint8 image bytes (and targets) of the sampled items, in order."""
    h = hashlib.sha256()
    h.update(f"{tuple(images.shape)}:{images.dtype};".encode())
    h.update(images.detach().cpu().contiguous().numpy().tobytes())
    if targets is not None:
        t = targets.detach().cpu().contiguous()
        h.update(f"{tuple(t.shape)}:{t.dtype};".encode())
        h.update(t.numpy().tobytes())
    return h.hexdigest()


def _arrays(data: DataLike, split: Split) -> tuple[ImageArrays, dict[str, Any]]:
    """The split's images and a description of where they come from."""
    if isinstance(data, str):
        data = ImageDataModule(source=data)
    if isinstance(data, ImageDataModule):
        arrays = data.arrays(split)
        hp = {k: data.hparams.get(k) for k in ("image_size", "channels", "val_fraction", "seed", "subset")}
        return arrays, {"source": source_spec(data.source), "datamodule": hp, "split": split}
    if isinstance(data, ImageArrays):
        desc = {k: v for k, v in data.description.items() if k != "split"}
        return data, {"source": desc or "arrays", "datamodule": None, "split": data.description.get("split", split)}
    raise UserError(f"data must be an ImageDataModule, ImageArrays or a source name, got {type(data).__name__}")


def build_request(encoder: FrozenEncoder | str | os.PathLike | torch.nn.Module, data: DataLike,
                  split: Split = "val") -> ExtractionRequest:
    """Resolve encoder and data and check they fit together (before anything is written).

    Raises:
        UserError: the encoder cannot take the data's images (both shapes named).
    """
    encoder = load_encoder(encoder)
    if split not in ("train", "val", "all"):
        raise UserError(f"split must be one of train, val, all; got {split!r}")
    arrays, where = _arrays(data, split)
    images = arrays.images.cpu()
    shape = tuple(int(s) for s in images.shape[1:])
    encoder.check_input(shape)
    if len(images) == 0:
        raise UserError(f"the {split} split has no images; choose another split or more data")
    targets = None if arrays.targets is None else arrays.targets.cpu()
    data_fp = {
        **where,
        "n": len(images),
        "image_shape": list(shape),
        "transform": {"scale": "uint8 / 255", **encoder.transform_spec()},
        "items_sha256": items_sha256(images, targets),
    }
    fingerprint = {"format": FORMAT, "kind": KIND, "encoder": encoder.spec(), "data": data_fp}
    return ExtractionRequest(encoder, images, None if targets is None else targets.numpy(),
                             arrays.target_names, fingerprint)


def encode_batches(encoder: FrozenEncoder, images: torch.Tensor, batch_size: int,
                   device: torch.device) -> Iterator[tuple[int, np.ndarray]]:
    """Yield (start, (b, D) float32 features) for consecutive batches of uint8 ``images``
    (:func:`autoenc.models.encoding.batched`, the one batched encode loop)."""
    for start, (feats,) in batched(encoder, images, batch_size, device):
        yield start, feats.cpu().numpy()


def _build_local(request: ExtractionRequest, path: Path, batch_size: int, device: str | torch.device,
                 progress: bool | None) -> None:
    device = torch.device(device)
    encoder = request.encoder.to(device)
    n = len(request.images)
    started = time.perf_counter()
    with staged_dir(path, overwrite=path.exists()) as tmp, progress_bar(n, progress) as bar:
        out = None
        for start, feats in encode_batches(encoder, request.images, batch_size, device):
            if out is None:  # D is known from the first batch
                out = np.lib.format.open_memmap(tmp / FEATURES, mode="w+", dtype=np.float32,
                                                shape=(n, feats.shape[1]))
            out[start : start + len(feats)] = feats
            bar.update(len(feats))
        out.flush()
        dim = out.shape[1]
        del out
        save_targets(tmp, request.targets)
        build = {"devices": 1, "batch_size": batch_size, "device": str(device),
                 "seconds": round(time.perf_counter() - started, 3)}
        write_meta(tmp, finish_meta(request, n, dim, build))
        fsync_dir(tmp)


def check_run_options(batch_size: int, devices: int) -> None:
    """Refuse a batch size or device count below 1 (before any encoder is loaded)."""
    check_param("batch_size", [POSITIVE_INT], batch_size)
    check_param("devices", [POSITIVE_INT], devices)


def extract_features(encoder: FrozenEncoder | str | os.PathLike | torch.nn.Module, data: DataLike,
                     cache_dir: str | os.PathLike, *, split: Split = "val", batch_size: int = 64,
                     overwrite: bool = False, progress: bool | None = None, device: str | torch.device = "cpu",
                     devices: int = 1, accelerator: str = "cpu") -> FeatureCache:
    """Encode ``split`` of ``data`` with the frozen ``encoder`` into the cache ``cache_dir``.

    Args:
        encoder: anything :func:`~autoenc.features.load_encoder` takes.
        data: an ImageDataModule, ImageArrays (images (N, C, H, W) uint8) or a source name.
        split: ``train``, ``val`` or ``all`` (data modules only; ImageArrays are used whole).
        batch_size: images per forward pass; 64 keeps a conv net's activations in cache (256 ran
            up to 2x slower on 64 x 64 images here, see docs/benchmarks.md).
        overwrite: rebuild a cache that exists (a matching one is otherwise reused, a different
            one refused).
        progress: progress bar on stderr (None: only when stderr is a terminal).
        device: where the single-process extraction runs.
        devices, accelerator: more than one device runs ``Trainer.predict`` under DDP (run from a
            script with a ``__main__`` guard: Lightning re-launches it once per extra device).

    Returns:
        the opened cache: ``features`` (N, D) float32 memory-mapped, ``targets``, ``meta``.

    Raises:
        UserError / CacheError: shape mismatch, a stale or damaged cache, a path that is a file.
    """
    check_run_options(batch_size, devices)
    path = Path(cache_dir).expanduser()
    request = build_request(encoder, data, split)
    found = existing_cache(path, request.fingerprint, overwrite)
    if found is not None:
        return found
    request.encoder.output_dim(tuple(request.images.shape[1:]))  # a clear error before any file exists
    if devices == 1 and accelerator == "cpu":
        _build_local(request, path, batch_size, device, progress)
    else:
        from autoenc.features.distributed import build_with_trainer

        build_with_trainer(request, path, batch_size=batch_size, devices=devices, accelerator=accelerator,
                           progress=progress)
    return open_cache(path, verify=False)  # just written and checksummed by this process
