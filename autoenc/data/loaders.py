"""Batches by indexing a tensor held in memory: no per-item Python, no collation, no workers."""

from __future__ import annotations

from collections.abc import Iterator

import torch


class TensorBatches:
    """Iterable over ``(images[idx], targets[idx])`` batches for a fixed set of indices.

    Each pass draws a fresh permutation (``seed`` + pass number) when ``shuffle``; in
    data-parallel runs every rank draws the same permutation and takes every
    ``world_size``-th item from ``rank``, truncated so all ranks see the same number of
    batches (DDP would hang otherwise).

    Args:
        images: (N, C, H, W) uint8 on any device; targets: (N, ...) or None.
        indices: (M,) int64 items this loader serves (e.g. the training split).
        batch_size: items per batch; the last batch may be smaller unless ``drop_last``.
    """

    def __init__(self, images: torch.Tensor, targets: torch.Tensor | None, indices: torch.Tensor,
                 batch_size: int, shuffle: bool, seed: int = 0, drop_last: bool = False,
                 rank: int = 0, world_size: int = 1) -> None:
        self.images = images
        self.targets = targets
        self.indices = indices.to(images.device)
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = seed
        self.drop_last = drop_last
        self.rank = rank
        self.world_size = world_size
        self.epoch = 0

    #: Lightning reads these like a DataLoader's; there is no separate batch sampler.
    batch_sampler = None

    @property
    def sampler(self) -> TensorBatches:
        """Lightning calls ``loader.sampler.set_epoch(e)`` before each epoch: so a resumed run
        continues the shuffling sequence instead of replaying epoch 0's order. Unshuffled
        loaders have none (Lightning then treats them as sequential)."""
        if not self.shuffle:
            raise AttributeError("an unshuffled TensorBatches has no sampler")
        return self

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def _per_rank(self) -> int:
        return len(self.indices) // self.world_size if self.world_size > 1 else len(self.indices)

    def __len__(self) -> int:
        n = self._per_rank()
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def _order(self) -> torch.Tensor:
        order = self.indices
        if self.shuffle:
            g = torch.Generator().manual_seed(self.seed + self.epoch)
            order = order[torch.randperm(len(order), generator=g).to(order.device)]
        if self.world_size > 1:
            order = order[self.rank :: self.world_size][: self._per_rank()]
        return order

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor | None]]:
        order = self._order()
        self.epoch += 1
        for b in range(len(self)):
            idx = order[b * self.batch_size : (b + 1) * self.batch_size]
            yield self.images[idx], (self.targets[idx] if self.targets is not None else None)
