"""Image grids and PNG files without matplotlib: what training callbacks and reports write."""

from __future__ import annotations

import math
import os

import numpy as np
import torch

from autoenc.core.atomic import atomic_file


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) float in [0, 1] or uint8 -> uint8 on the CPU."""
    images = images.detach().cpu()
    if images.dtype == torch.uint8:
        return images
    return images.float().clamp(0, 1).mul(255).round().to(torch.uint8)


def image_grid(images: torch.Tensor, ncol: int | None = None, pad: int = 2, pad_value: int = 255) -> np.ndarray:
    """Tile (N, C, H, W) images (float in [0, 1] or uint8) row by row into one
    (rows*(H+pad)+pad, cols*(W+pad)+pad, C) uint8 array (C = 1 or 3), cells separated and
    framed by ``pad`` pixels of ``pad_value``; cols = min(ncol, N), ``ncol`` defaulting to
    ceil(sqrt(N)). torchvision's ``make_grid`` lays the cells out."""
    from torchvision.utils import make_grid

    if not isinstance(images, torch.Tensor) or images.ndim != 4:
        shape = tuple(images.shape) if hasattr(images, "shape") else type(images).__name__
        raise ValueError(f"images must be (N, C, H, W), got {shape}")
    x = to_uint8(images)
    ncol = ncol or max(1, math.ceil(math.sqrt(len(x))))
    if len(x) == 1:  # make_grid returns a lone image as it is, without the frame
        grid = torch.nn.functional.pad(x[0], (pad, pad, pad, pad), value=pad_value)
    else:
        grid = make_grid(x, nrow=ncol, padding=pad, pad_value=pad_value)  # (3 or C, H', W'): grey is tripled
    return grid[: x.shape[1]].permute(1, 2, 0).contiguous().numpy()


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
