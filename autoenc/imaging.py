"""Image grids and PNG files without matplotlib: what training callbacks and reports write."""

from __future__ import annotations

import math
import os

import numpy as np
import torch

from autoenc.atomic import atomic_file


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) float in [0, 1] or uint8 -> uint8 on the CPU."""
    images = images.detach().cpu()
    if images.dtype == torch.uint8:
        return images
    return images.float().clamp(0, 1).mul(255).round().to(torch.uint8)


def image_grid(images: torch.Tensor, ncol: int | None = None, pad: int = 2, pad_value: int = 255) -> np.ndarray:
    """Tile (N, C, H, W) images (float in [0, 1] or uint8) row by row into one
    (rows*(H+pad)+pad, ncol*(W+pad)+pad, C) uint8 array (C = 1 or 3), cells separated and
    framed by ``pad`` pixels of ``pad_value``. ``ncol`` defaults to ceil(sqrt(N))."""
    if not isinstance(images, torch.Tensor) or images.ndim != 4:
        shape = tuple(images.shape) if hasattr(images, "shape") else type(images).__name__
        raise ValueError(f"images must be (N, C, H, W), got {shape}")
    x = to_uint8(images)
    n, c, h, w = x.shape
    ncol = ncol or max(1, math.ceil(math.sqrt(n)))
    nrow = max(1, math.ceil(n / ncol))
    out = np.full((nrow * (h + pad) + pad, ncol * (w + pad) + pad, c), pad_value, dtype=np.uint8)
    arr = x.permute(0, 2, 3, 1).numpy()
    for i in range(n):
        r, q = divmod(i, ncol)
        top, left = pad + r * (h + pad), pad + q * (w + pad)
        out[top : top + h, left : left + w] = arr[i]
    return out


def save_png(array: np.ndarray, path: str | os.PathLike, scale: int = 1, image_format: str = "PNG") -> None:
    """Write an (H, W, C) uint8 array (C = 1 or 3) atomically (never half-written; a failed
    write leaves no directory it created), upscaled ``scale`` x (nearest); PNG unless
    ``image_format`` names another format Pillow writes."""
    from PIL import Image

    if scale > 1:
        array = array.repeat(scale, axis=0).repeat(scale, axis=1)
    image = Image.fromarray(array[:, :, 0] if array.shape[2] == 1 else array)
    with atomic_file(path) as f:
        image.save(f, format=image_format)


def upscale_for_viewing(height: int, target: int = 256) -> int:
    """An integer nearest-neighbour scale that makes tiny images (8 x 8 digits) visible."""
    return max(1, target // max(1, height))
