"""Feature extraction on many devices: ``Trainer.predict`` + a prediction writer.

Every rank encodes its share of the items and writes one shard (dataset indices + features)
into a shared temporary directory; after a barrier, rank 0 merges the shards in dataset order
(dropping the duplicates a padding sampler may add) into the same cache the single-process
path writes, then all ranks open it. Run from a script with a ``__main__`` guard: Lightning's
DDP launcher starts the script again for every extra device.
"""

from __future__ import annotations

import os
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
from lightning.pytorch.callbacks import BasePredictionWriter
from torch.utils.data import DataLoader, Dataset

from autoenc.core.errors import CacheError
from autoenc.data.transforms import to_float
from autoenc.features.cache import FEATURES, fsync_dir, save_targets, write_meta
from autoenc.features.encoders import FrozenEncoder
from autoenc.features.request import ExtractionRequest, finish_meta, progress_bar
from autoenc.features.staging import locked_temp_dir, staged_dir


class IndexedImages(Dataset):
    """Items ``(index, uint8 image)``; a batch is fetched by one tensor index (``__getitems__``),
    so there is no per-item collation."""

    def __init__(self, images: torch.Tensor) -> None:
        self.images = images

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> tuple[int, torch.Tensor]:
        return i, self.images[i]

    def __getitems__(self, indices: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
        idx = torch.as_tensor(indices, dtype=torch.long)
        return idx, self.images[idx]


def keep_batch(batch: Any) -> Any:
    """collate_fn for :class:`IndexedImages`: the batch is already stacked."""
    return batch


class FeatureModule(L.LightningModule):
    """predict_step: ``(indices (B,), uint8 images (B, C, H, W))`` -> ``(indices, (B, D) float32)``."""

    def __init__(self, encoder: FrozenEncoder) -> None:
        super().__init__()
        self.encoder = encoder

    def predict_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> tuple[torch.Tensor, torch.Tensor]:
        indices, images = batch
        return indices, self.encoder(to_float(images))


def merge_shards(shard_dir: Path, n: int) -> np.ndarray:
    """(N, D) float32 from ``shard-*.npz`` files of (indices, features), in dataset order.

    Raises:
        CacheError: an item no shard covered (a rank died or wrote nothing).
    """
    features: np.ndarray | None = None
    seen = np.zeros(n, dtype=bool)
    for file in sorted(shard_dir.glob("shard-*.npz")):
        with np.load(file, allow_pickle=False) as shard:
            idx, feats = shard["indices"], shard["features"]
        if features is None:
            features = np.empty((n, feats.shape[1]), dtype=np.float32)
        features[idx] = feats  # a padded duplicate writes the same row again
        seen[idx] = True
    if features is None or not seen.all():
        missing = int((~seen).sum())
        raise CacheError(f"{missing} of {n} items have no features after the distributed run (a rank failed); "
                         "run again")
    return features


class ShardWriter(BasePredictionWriter):
    """Collects each rank's (indices, features) and writes ``shard-{rank}.npz`` at the end of the
    epoch; rank 0 then merges the shards into the cache at ``path``."""

    def __init__(self, request: ExtractionRequest, path: Path, batch_size: int, progress: bool | None) -> None:
        super().__init__(write_interval="batch")
        self.request = request
        self.path = path
        self.batch_size = batch_size
        self.progress = progress
        self.shard_dir: Path | None = None
        self._shard_lock = ExitStack()  # rank 0: holds the lock on shard_dir; closing removes it
        self._indices: list[np.ndarray] = []
        self._features: list[np.ndarray] = []
        self._bar: Any = None
        self._started = 0.0

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        shard_dir = None
        if trainer.is_global_zero:
            # locked like the cache's own temporary directory: a killed run's shards are stale
            shard_dir = os.fspath(self._shard_lock.enter_context(locked_temp_dir(self.path, "shards-")))
        self.shard_dir = Path(trainer.strategy.broadcast(shard_dir, src=0))
        self._started = time.perf_counter()
        if trainer.is_global_zero:
            self._bar = progress_bar(len(self.request.images), self.progress)

    def write_on_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, prediction: Any,
                           batch_indices: Any, batch: Any, batch_idx: int, dataloader_idx: int) -> None:
        indices, feats = prediction
        self._indices.append(indices.cpu().numpy())
        self._features.append(feats.cpu().numpy())
        if self._bar is not None:
            self._bar.update(len(indices) * trainer.world_size)

    def on_predict_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        assert self.shard_dir is not None  # set in setup
        rank = trainer.global_rank
        if self._features:
            np.savez(self.shard_dir / f"shard-{rank:05d}.npz", indices=np.concatenate(self._indices),
                     features=np.concatenate(self._features))
        self._indices, self._features = [], []
        trainer.strategy.barrier("autoenc-shards-written")
        try:
            if trainer.is_global_zero:
                self._merge(trainer)
        finally:
            trainer.strategy.barrier("autoenc-cache-merged")
            if trainer.is_global_zero:
                self._shard_lock.close()  # removes the shard directory, drops its lock
                if self._bar is not None:
                    self._bar.close()

    def _merge(self, trainer: L.Trainer) -> None:
        n = len(self.request.images)
        features = merge_shards(self.shard_dir, n)
        with staged_dir(self.path, overwrite=self.path.exists()) as tmp:
            np.save(tmp / FEATURES, features, allow_pickle=False)
            save_targets(tmp, self.request.targets)
            build = {"devices": trainer.world_size, "batch_size": self.batch_size,
                     "device": str(trainer.strategy.root_device), "strategy": type(trainer.strategy).__name__,
                     "seconds": round(time.perf_counter() - self._started, 3)}
            write_meta(tmp, finish_meta(self.request, n, features.shape[1], build))
            fsync_dir(tmp)

    def on_exception(self, trainer: L.Trainer, pl_module: L.LightningModule, exception: BaseException) -> None:
        if trainer.is_global_zero:
            self._shard_lock.close()


def build_with_trainer(request: ExtractionRequest, path: Path, *, batch_size: int, devices: int,
                       accelerator: str = "cpu", progress: bool | None = None) -> None:
    """Write the cache for ``request`` at ``path`` with ``Trainer.predict`` on ``devices`` devices
    (DDP when more than one; on CPU it uses gloo)."""
    loader = DataLoader(IndexedImages(request.images), batch_size=batch_size, shuffle=False,
                        collate_fn=keep_batch, num_workers=0)
    writer = ShardWriter(request, path, batch_size, progress)
    trainer = L.Trainer(accelerator=accelerator, devices=devices, strategy="ddp" if devices > 1 else "auto",
                        logger=False, enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False, callbacks=[writer], use_distributed_sampler=True)
    trainer.predict(FeatureModule(request.encoder), dataloaders=loader, return_predictions=False)
