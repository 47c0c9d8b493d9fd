"""Datasets of image files: decoding with PIL, resizing, and loading them into memory."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from autoenc.errors import DataError

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm", ".pgm")


def decode_image(path: Path, image_size: int | None, channels: int, crop: int | None = None):
    """Read one image file -> uint8 (channels, S, S) tensor.

    The image is centre-cropped to ``crop`` x ``crop`` when given, then its shorter side is
    resized to ``image_size`` and the centre square kept (None: keep the size, no square crop).

    Raises:
        DataError: unreadable or truncated file (names it).
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            im = im.convert("L" if channels == 1 else "RGB")
            if crop is not None:
                w, h = im.size
                c = min(crop, w, h)
                left, top = (w - c) // 2, (h - c) // 2
                im = im.crop((left, top, left + c, top + c))
            if image_size is not None:
                w, h = im.size
                scale = image_size / min(w, h)
                nw, nh = max(image_size, round(w * scale)), max(image_size, round(h * scale))
                im = im.resize((nw, nh), Image.Resampling.BILINEAR, reducing_gap=None)
                left, top = (nw - image_size) // 2, (nh - image_size) // 2
                im = im.crop((left, top, left + image_size, top + image_size))
            array = np.asarray(im, dtype=np.uint8)
    except (OSError, UnidentifiedImageError, SyntaxError, ValueError) as err:
        raise DataError(f"cannot read image {str(path)!r} ({err}); remove or replace the file") from None
    if array.ndim == 2:
        array = array[:, :, None]
    return torch.from_numpy(array.copy()).permute(2, 0, 1)


class ImageFileDataset(Dataset):
    """Map-style dataset over image files: item i -> (uint8 (C, S, S), target_i)."""

    def __init__(self, files: Sequence[Path], targets: torch.Tensor | None, image_size: int | None,
                 channels: int, crop: int | None = None) -> None:
        self.files = list(files)
        self.targets = targets
        self.image_size = image_size
        self.channels = channels
        self.crop = crop

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, i: int):
        image = decode_image(self.files[i], self.image_size, self.channels, self.crop)
        target = self.targets[i] if self.targets is not None else torch.tensor(-1)
        return image, target


def load_into_memory(dataset: ImageFileDataset, workers: int = 2, batch_size: int = 256):
    """Decode every image of ``dataset`` into one uint8 (N, C, S, S) tensor (parallel decoding
    with ``workers`` processes for large sets). All images must share one size.

    Raises:
        DataError: an unreadable file (named, also when decoded in a worker process), or
            images of different sizes.
    """
    n = len(dataset)
    if n == 0:
        raise DataError("no images to load")
    first, _ = dataset[0]
    out = torch.empty((n, *first.shape), dtype=torch.uint8)
    workers = workers if n >= 2_000 else 0
    loader = DataLoader(_ErrorsAsItems(dataset), batch_size=batch_size, num_workers=workers,
                        collate_fn=_stack_or_error)
    start = 0
    for images in loader:
        if isinstance(images, DataError):
            # Re-raised here rather than in the worker: DataLoader would wrap a worker's error
            # in a multi-line message whose first line no longer names the file.
            raise type(images)(str(images)) from None
        if images.shape[1:] != first.shape:
            raise DataError(
                f"images have different sizes ({tuple(first.shape)} for item 0, "
                f"{tuple(images.shape[1:])} for item {start}); set data.image_size to resize them"
            )
        out[start : start + len(images)] = images
        start += len(images)
    return out


class _ErrorsAsItems(Dataset):
    """Wraps a dataset so a DataError becomes the item instead of escaping a worker."""

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)  # type: ignore[arg-type]

    def __getitem__(self, i: int):
        try:
            return self.dataset[i]
        except DataError as err:
            return err, None


def _stack_or_error(items):
    """Collate (image, target) items into (B, C, H, W), or return the first DataError."""
    for image, _ in items:
        if isinstance(image, DataError):
            return image
    images = [im for im, _ in items]
    shapes = {tuple(im.shape) for im in images}
    if len(shapes) > 1:
        return DataError(
            f"images have different sizes {sorted(shapes)[:3]}; set data.image_size to resize them"
        )
    return torch.stack(images)
