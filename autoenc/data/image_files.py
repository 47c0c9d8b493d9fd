"""Datasets of image files: decoding with PIL, resizing, and loading them into memory."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from autoenc.core.errors import DataError
from autoenc.data.source import ImageArrays

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
            im = to_8bit(im, path).convert("L" if channels == 1 else "RGB")
            if crop is not None:
                im = _centre_square(im, min(crop, *im.size))
            if image_size is not None:
                w, h = im.size
                scale = image_size / min(w, h)
                nw, nh = max(image_size, round(w * scale)), max(image_size, round(h * scale))
                im = _centre_square(im.resize((nw, nh), Image.Resampling.BILINEAR, reducing_gap=None), image_size)
            array = np.asarray(im, dtype=np.uint8)
    except DataError:
        raise
    except (OSError, UnidentifiedImageError, SyntaxError, ValueError) as err:
        raise DataError(f"cannot read image {str(path)!r} ({err}); remove or replace the file") from None
    if array.ndim == 2:
        array = array[:, :, None]
    return torch.from_numpy(array.copy()).permute(2, 0, 1)


def _centre_square(im, side: int):
    """The ``side`` x ``side`` pixels at the centre of PIL image ``im``."""
    w, h = im.size
    left, top = (w - side) // 2, (h - side) // 2
    return im.crop((left, top, left + side, top + side))


def to_8bit(im, path: Path):
    """A PIL image with 8 bits per channel, its values scaled from the mode's range.

    Pillow's own ``convert`` clips the integer and float modes to 0..255 (a 16-bit PNG
    became near-white), so they are scaled here: ``I;16*`` and ``I`` (16-bit grey, as
    Pillow opens 16-bit PNG and TIFF) from 0..65535 (``round(v * 255 / 65535)``), ``F``
    (32-bit float) from 0..1. The other modes (``1``, ``L``, ``LA``, ``P``, ``RGB``,
    ``RGBA``, ``CMYK``, 16-bit colour PNG, which Pillow opens as 8-bit ``RGB(A)``) are
    returned as they are: ``convert`` handles them.

    Raises:
        DataError: an ``I`` image with values outside 0..65535 (32-bit data), or an ``F``
            image with values outside [0, 1] or not finite: no range to scale from.
    """
    from PIL import Image

    mode = im.mode
    if mode == "I" or mode.startswith("I;16"):
        values = np.asarray(im).astype(np.int64)
        if values.size and (values.min() < 0 or values.max() > 65535):
            raise DataError(f"image {str(path)!r} has {mode} values in {values.min()}..{values.max()}, outside the "
                            "16-bit range 0..65535; save it with 8 or 16 bits per channel")
        return Image.fromarray(((values * 255 + 32767) // 65535).astype(np.uint8))
    if mode == "F":
        values = np.asarray(im, dtype=np.float64)
        if values.size and not (np.isfinite(values).all() and values.min() >= 0 and values.max() <= 1):
            raise DataError(f"image {str(path)!r} has float values in {np.nanmin(values):g}..{np.nanmax(values):g}, "
                            "outside [0, 1]; save floats in [0, 1] or 8/16-bit integers")
        return Image.fromarray(np.round(values * 255).astype(np.uint8))
    return im


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

    def arrays(self, target_names: list[str] | None, description: dict[str, Any]) -> ImageArrays:
        """Every image decoded into memory (:func:`load_into_memory`) with the targets."""
        return ImageArrays(load_into_memory(self), self.targets, target_names, description)


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
