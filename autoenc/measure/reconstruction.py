"""Reconstructions of chosen images with each image's reconstruction term in nats."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from autoenc.core.errors import UserError
from autoenc.data.transforms import to_float
from autoenc.measure.codes import DEFAULT_BATCH_SIZE, map_batches
from autoenc.models.autoencoder_module import AutoencoderModule


def choose_indices(n: int, indices: list[int] | None = None, count: int | None = None,
                   seed: int = 0) -> torch.Tensor:
    """Which of ``n`` images to show: the given ``indices`` (checked against ``n``), else
    ``count`` distinct ones drawn with ``seed`` (all of them when count >= n), sorted.

    Returns:
        (K,) int64 indices.
    """
    if n < 1:
        raise UserError("there are no images to choose from; use a split with images in it")
    if indices is not None:
        if not indices:
            raise UserError("indices is empty; give at least one image index")
        bad = [i for i in indices if not 0 <= i < n]
        if bad:
            raise UserError(f"image index {bad[0]} is out of range: the split has {n} images, so use 0..{n - 1}")
        return torch.tensor(indices, dtype=torch.int64)
    count = 16 if count is None else count
    if count < 1:
        raise UserError(f"count must be >= 1, got {count}")
    g = torch.Generator().manual_seed(seed)
    return torch.randperm(n, generator=g)[: min(count, n)].sort().values


@dataclass
class Reconstructions:
    """Images and their reconstructions.

    Attributes:
        originals: (N, C, H, W) float in [0, 1].
        recons: (N, C, H, W) decoder means in [0, 1] (decoded from the posterior mean for a VAE).
        nll: (N,) reconstruction negative log-likelihood of each original, summed over pixels, nats.
        indices: (N,) positions of the images in the split they came from.
    """

    originals: torch.Tensor
    recons: torch.Tensor
    nll: torch.Tensor
    indices: torch.Tensor


def reconstruct(model: AutoencoderModule, images: torch.Tensor, indices: torch.Tensor | None = None,
                batch_size: int = DEFAULT_BATCH_SIZE) -> Reconstructions:
    """Reconstruct ``images`` (N, C, H, W), uint8 or float in [0, 1], through the deterministic
    code (``decode(encode(x))``) and score each with the model's reconstruction term."""

    def run(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        logits = model.decode_logits(model.encode(x))
        return torch.sigmoid(logits), model.reconstruction_nll(logits, x)

    recons, nll = map_batches(model, images, run, batch_size)
    idx = torch.arange(len(images)) if indices is None else indices.cpu()
    return Reconstructions(to_float(images.cpu()), recons, nll, idx)
