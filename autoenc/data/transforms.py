"""Bring uint8 image tensors to a requested size and channel count, in chunks."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from autoenc.core.errors import UserError
from autoenc.data.source import ImageArrays

# ITU-R BT.601 luma, what PIL's convert("L") uses.
_LUMA = torch.tensor([0.299, 0.587, 0.114])


def convert_channels(images: torch.Tensor, channels: int | None, chunk: int = 2048) -> torch.Tensor:
    """(N, C, H, W) uint8 -> (N, channels, H, W) uint8: grey is repeated to RGB, RGB is
    reduced to luma (BT.601) ``chunk`` images at a time (bounded float memory).
    ``channels=None`` keeps C."""
    n, c, h, w = images.shape
    if channels is None or channels == c:
        return images
    if c == 1 and channels == 3:
        return images.expand(-1, 3, -1, -1).contiguous()
    if c == 3 and channels == 1:
        weights = _LUMA.to(images.device).view(1, 3, 1, 1)
        out = torch.empty((n, 1, h, w), dtype=torch.uint8, device=images.device)
        for start in range(0, n, chunk):
            luma = (images[start : start + chunk].float() * weights).sum(1, keepdim=True)
            out[start : start + chunk] = luma.round_().clamp_(0, 255).to(torch.uint8)
        return out
    raise UserError(f"cannot convert {c}-channel images to {channels} channels; use channels 1 or 3")


def resize(images: torch.Tensor, image_size: int | None, chunk: int = 2048) -> torch.Tensor:
    """(N, C, H, W) uint8 -> (N, C, S, S) uint8 with S = ``image_size`` (bilinear, antialiased
    when shrinking). Non-square inputs are centre-cropped to a square first. None keeps size."""
    n, c, h, w = images.shape
    if image_size is None or (h == w == image_size):
        return images
    if h != w:
        side = min(h, w)
        top, left = (h - side) // 2, (w - side) // 2
        images = images[:, :, top : top + side, left : left + side]
    out = torch.empty((n, c, image_size, image_size), dtype=torch.uint8, device=images.device)
    for start in range(0, n, chunk):
        block = images[start : start + chunk].float()
        block = F.interpolate(block, size=(image_size, image_size), mode="bilinear",
                              antialias=True, align_corners=False)
        out[start : start + chunk] = block.round_().clamp_(0, 255).to(torch.uint8)
    return out


def conform(images: torch.Tensor, image_size: int | None, channels: int | None) -> torch.Tensor:
    """Resize to ``image_size`` and convert to ``channels`` (either None = keep)."""
    if channels == 3 and images.shape[1] == 1:
        # Grey -> RGB repeats the channel: resize the single channel first (3x less work,
        # same result since resizing is per channel).
        return convert_channels(resize(images, image_size), channels)
    return resize(convert_channels(images, channels), image_size)


def to_float(images: torch.Tensor) -> torch.Tensor:
    """uint8 in [0, 255] -> float32 in [0, 1]; float input is returned unchanged."""
    if images.dtype == torch.uint8:
        return images.float().div_(255.0)
    return images


def labelled_arrays(images: list[torch.Tensor], labels: list[torch.Tensor], classes: list[str], source: str,
                    splits: list[str], image_size: int | None, channels: int | None) -> ImageArrays:
    """Per-split uint8 image batches (N_i, C, H, W) and int64 labels (N_i,) -> one
    :class:`ImageArrays`, conformed to ``image_size`` / ``channels``."""
    return ImageArrays(
        images=conform(torch.cat(images), image_size, channels),
        targets=torch.cat(labels),
        target_names=list(classes),
        description={"source": source, "splits": splits},
    )
