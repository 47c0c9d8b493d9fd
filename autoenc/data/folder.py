"""Any folder of images, with optional class subfolders."""

from __future__ import annotations

from pathlib import Path

import torch

from autoenc.core.constraints import InstanceOf, Interval, Null, check_params
from autoenc.core.errors import DataError
from autoenc.data.image_files import (
    IMAGE_EXTENSIONS,
    ImageFileDataset,
    decode_image,
)
from autoenc.data.source import ImageArrays, ImageSource, check_channels, register_source


@register_source
class ImageFolder(ImageSource):
    """Images under ``root``. With class subfolders (``root/cat/*.png``, ``root/dog/*.png``)
    targets are the subfolder indices (sorted names); with images directly in ``root``
    there are no targets. Images are resized (shorter side, centre square) to the data
    module's ``image_size`` and converted to its ``channels`` (1 or 3; default 3).

    Args:
        root: the folder.
        crop: centre-crop to this many pixels before resizing (None: no crop).
    """

    name = "image_folder"
    parameter_constraints = {
        "root": [InstanceOf(str, "a folder path")],
        "crop": [Interval(int, 4, None, closed="left", note="pixels"), Null(note="no crop")],
    }

    def __init__(self, *, root: str, crop: int | None = None) -> None:
        check_params(self.parameter_constraints, locals(), owner=self.name)
        self.root = root
        self.crop = crop

    def _scan(self) -> tuple[list[Path], torch.Tensor | None, list[str] | None]:
        root = Path(self.root).expanduser()
        if not root.is_dir():
            raise DataError(f"image folder {str(root)!r} does not exist; set data.source.root to a folder of images")

        def images_in(d: Path) -> list[Path]:
            return sorted(p for p in d.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)

        classes = sorted(d.name for d in root.iterdir() if d.is_dir() and not d.name.startswith("."))
        classes = [c for c in classes if images_in(root / c)]
        if classes:
            files, labels = [], []
            for i, c in enumerate(classes):
                found = images_in(root / c)
                files += found
                labels += [i] * len(found)
            return files, torch.tensor(labels, dtype=torch.int64), classes
        files = images_in(root)
        if not files:
            raise DataError(
                f"no images ({', '.join(e[1:] for e in IMAGE_EXTENSIONS[:4])}, ...) found in "
                f"{str(root)!r} or its subfolders; put images there or point root elsewhere"
            )
        return files, None, None

    def _dataset(self, image_size: int | None, channels: int | None) -> tuple[ImageFileDataset, list[str] | None]:
        """The images as a dataset, and the class names (None without class subfolders)."""
        check_channels(channels)
        files, targets, classes = self._scan()
        return ImageFileDataset(files, targets, image_size, channels or 3, self.crop), classes

    def output_shape(self, image_size: int | None, channels: int | None) -> tuple[int, int, int]:
        check_channels(channels)
        files, _, _ = self._scan()
        first = decode_image(files[0], image_size, channels or 3, self.crop)
        return tuple(first.shape)  # type: ignore[return-value]

    def load(self, image_size: int | None, channels: int | None) -> ImageArrays:
        dataset, classes = self._dataset(image_size, channels)
        return dataset.arrays(classes, {"source": self.name, "root": str(Path(self.root).resolve()),
                                        "files": len(dataset)})

    def stream(self, image_size: int | None, channels: int | None) -> ImageFileDataset:
        return self._dataset(image_size, channels)[0]

    def estimated_bytes(self, image_size: int | None, channels: int | None) -> int | None:
        if image_size is None:
            return None
        return len(self._scan()[0]) * (channels or 3) * image_size * image_size
