"""CelebA (Liu et al. 2015): aligned face photos with 40 binary attributes.

Not ``torchvision.datasets.CelebA``, for measured reasons (torchvision 0.29, 2026-12-04): its
integrity check requires torchvision's md5 of every list file, so a subset or a rebuilt
attribute list (and the tests' small files in the same layout) reads as "not found or
corrupted"; it decodes one JPEG per item on access, where training holds the decoded uint8
images in memory (:func:`autoenc.data.image_files.load_into_memory`, parallel decoding); its
download goes through Google Drive and ``gdown``, which the dataset's quota often refuses.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

import torch

from autoenc.core.constraints import (
    BOOL,
    Constraint,
    Interval,
    Null,
    Options,
)
from autoenc.core.errors import DataError, first_line
from autoenc.data.files import DatasetFiles, verify_md5
from autoenc.data.image_files import ImageFileDataset
from autoenc.data.source import ImageArrays, check_channels, register_source

_SPLIT_CODES = {"train": 0, "valid": 1, "test": 2}


def read_attributes(path: Path) -> tuple[list[str], list[str], torch.Tensor]:
    """``list_attr_celeba.txt`` -> (file names, attribute names, (N, 40) int64 in {0, 1})."""
    try:
        lines = path.read_text().splitlines()
        count, names = int(lines[0]), lines[1].split()
        files, rows = [], []
        for line in lines[2 : 2 + count]:
            parts = line.split()
            files.append(parts[0])
            rows.append([int(v) > 0 for v in parts[1:]])
        attrs = torch.tensor(rows, dtype=torch.int64)
    except (OSError, ValueError, IndexError) as err:
        raise DataError(f"cannot parse {str(path)!r} ({err}); download it again") from None
    if len(files) != count or attrs.shape[1:] != (len(names),):
        raise DataError(f"{str(path)!r} is truncated: header says {count} rows; download it again")
    return files, names, attrs


def read_partition(path: Path) -> dict[str, int]:
    """``list_eval_partition.txt`` -> file name -> 0 (train), 1 (valid), 2 (test)."""
    try:
        return {f: int(c) for f, c in (line.split() for line in path.read_text().splitlines() if line.strip())}
    except (OSError, ValueError) as err:
        raise DataError(f"cannot parse {str(path)!r} ({err}); download it again") from None


@register_source
class CelebA(DatasetFiles):
    """CelebA aligned faces (178 x 218 JPEG), targets = 40 binary attributes.

    Reads torchvision's layout: ``root/celeba/{img_align_celeba/, list_attr_celeba.txt,
    list_eval_partition.txt}``. Faces are centre-cropped to ``crop`` pixels (148, as is usual
    for VAEs on CelebA) and resized to the data module's ``image_size`` (default 64).
    202,599 images: held in memory when they fit the data module's budget, else streamed.

    Args:
        root: dataset root; split: train / valid / test / all; download: via torchvision
        (Google Drive) in ``prepare``; check_md5: verify torchvision's checksums of the lists.
    """

    name = "celeba"
    native_shape = (3, 64, 64)
    folder = "celeba"
    parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "root": DatasetFiles.parameter_constraints["root"], "split": [Options(("all", *_SPLIT_CODES))],
        "crop": [Interval(int, 4, None, closed="left", note="pixels"), Null(note="no crop")],
        "download": [BOOL], "check_md5": [BOOL],
    }

    def __init__(self, *, root: str | None = None, split: Literal["all", "train", "valid", "test"] = "all",
                 crop: int | None = 148, download: bool = False, check_md5: bool = True) -> None:
        self._set_options(locals())

    def prepare(self) -> None:
        if self.download and not (self._dir() / "list_attr_celeba.txt").is_file():
            import torchvision.datasets as tvd

            try:
                tvd.CelebA(str(Path(self.root).expanduser()), split="all", download=True)
            except (RuntimeError, OSError, ValueError) as err:  # no gdown, quota, network
                reason = first_line(err)
                raise DataError(
                    f"could not download celeba with torchvision ({reason}); download "
                    f"img_align_celeba.zip (unzipped), list_attr_celeba.txt and "
                    f"list_eval_partition.txt yourself into {str(self._dir())!r}"
                ) from None

    def _md5(self, name: str) -> str | None:
        import torchvision.datasets as tvd

        return {fname: md5 for _, md5, fname in tvd.CelebA.file_list}.get(name) if self.check_md5 else None

    def _index(self) -> tuple[list[Path], torch.Tensor, list[str]]:
        d = self._dir()
        needed = [d / "list_attr_celeba.txt", d / "img_align_celeba"]
        if self.split != "all":
            needed.append(d / "list_eval_partition.txt")
        missing = [p.name for p in needed if not p.exists()]
        if missing:
            raise DataError(
                f"celeba files not found: put {', '.join(missing)} in {str(d)!r} (or set root), "
                "or set download: true"
            )
        verify_md5(d / "list_attr_celeba.txt", self._md5("list_attr_celeba.txt"))
        files, names, attrs = read_attributes(d / "list_attr_celeba.txt")
        if self.split != "all":
            verify_md5(d / "list_eval_partition.txt", self._md5("list_eval_partition.txt"))
            part = read_partition(d / "list_eval_partition.txt")
            keep = [i for i, f in enumerate(files) if part.get(f) == _SPLIT_CODES[self.split]]
            files, attrs = [files[i] for i in keep], attrs[keep]
        if not files:
            raise DataError(f"celeba split {self.split!r} is empty in {str(d)!r}")
        return [d / "img_align_celeba" / f for f in files], attrs, names

    def _dataset_and_names(self, image_size: int | None, channels: int | None) -> tuple[ImageFileDataset, list[str]]:
        check_channels(channels)
        files, attrs, names = self._index()  # parses the 26 MB attribute list: once per load
        return ImageFileDataset(files, attrs, image_size or 64, channels or 3, self.crop), names

    def load(self, image_size: int | None, channels: int | None) -> ImageArrays:
        dataset, names = self._dataset_and_names(image_size, channels)
        return dataset.arrays(names, {"source": self.name, "split": self.split, "crop": self.crop})

    def stream(self, image_size: int | None, channels: int | None) -> ImageFileDataset:
        return self._dataset_and_names(image_size, channels)[0]

    def estimated_bytes(self, image_size: int | None, channels: int | None) -> int:
        n = {"all": 202_599, "train": 162_770, "valid": 19_867, "test": 19_962}[self.split]
        s = image_size or 64
        return n * (channels or 3) * s * s
