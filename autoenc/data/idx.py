"""MNIST-style IDX files (gzipped or raw) and the sources that use them.

torchvision's metadata is used (mirrors and md5 sums: ``_torchvision_resources``), its reader
and downloader are not, for measured reasons (torchvision 0.29, 2026-12-04):
``torchvision.datasets.MNIST`` finds only the uncompressed files in ``root/MNIST/raw``
(``_check_exists`` strips ``.gz``), so a folder of the ``.gz`` files as published (the shared
MNIST test set) reads as missing; its parser rejects a damaged header with a bare
``assert`` (``read_sn3_pascalvincent_tensor``) instead of a message naming the file; and
``download_url`` writes straight to the final name, so an interrupted download leaves a
partial file, where :func:`autoenc.data.files.download` renames only a complete, md5-checked
file into place.
"""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import ClassVar, Literal

import numpy as np
import torch

from autoenc.core.errors import DataError
from autoenc.data.files import DatasetFiles, download, find_file, verify_md5
from autoenc.data.source import ImageArrays, register_source
from autoenc.data.transforms import labelled_arrays

# IDX type codes (http://yann.lecun.com/exdb/mnist/, "THE IDX FILE FORMAT").
_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: str | Path) -> np.ndarray:
    """Read an IDX file (``.gz`` or raw) into an array of its stated shape and type.

    Raises:
        DataError: not an IDX file, or truncated (names the file and the sizes).
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError) as err:
        raise DataError(f"cannot read {str(path)!r}: {err}; download it again") from None
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _IDX_DTYPES:
        raise DataError(f"{str(path)!r} is not an IDX file (bad magic number); download it again")
    dtype = np.dtype(_IDX_DTYPES[data[2]])
    ndim = data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataError(f"{str(path)!r} is truncated (incomplete header); download it again")
    shape = tuple(int(s) for s in np.frombuffer(data, dtype=">i4", count=ndim, offset=4))
    expected = header + int(np.prod(shape)) * dtype.itemsize
    if len(data) != expected:
        raise DataError(
            f"{str(path)!r} is truncated or padded: {len(data)} bytes, the header says "
            f"{expected}; download it again"
        )
    return np.frombuffer(data, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


class IdxImageSource(DatasetFiles):
    """Base of MNIST-format datasets: 28 x 28 grey images with labels 0-9, split into
    ``train`` (60,000) and ``test`` (10,000) in four IDX files, gzipped or not.

    Files are looked for in ``root/<Folder>/raw``, ``root/raw`` and ``root`` (torchvision's
    layout first). md5 sums are checked for the ``.gz`` files torchvision knows.

    Args:
        root: dataset root (default ``$AUTOENC_DATA`` or ``./data``).
        split: ``train``, ``test``, or ``all`` = every split present (at least one).
        download: fetch missing files in ``prepare`` (to ``root/<Folder>/raw``).
        check_md5: verify known checksums.
    """

    mirrors: ClassVar[list[str]] = []
    md5s: ClassVar[dict[str, str]] = {}
    classes: ClassVar[list[str]] = [str(i) for i in range(10)]
    native_shape = (1, 28, 28)
    _FILES: ClassVar[dict[str, tuple[str, str]]] = {
        "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
        "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
    }
    _SIZES: ClassVar[dict[str, int]] = {"train": 60_000, "test": 10_000}

    def __init__(self, *, root: str | None = None, split: Literal["all", "train", "test"] = "all",
                 download: bool = False, check_md5: bool = True) -> None:
        self._set_options(locals())

    def _dirs(self) -> list[Path]:
        root = Path(self.root).expanduser()
        return [root / self.folder / "raw", root / "raw", root]

    def _split_files(self, split: str) -> tuple[Path, Path] | None:
        found = [find_file(self._dirs(), (n + ".gz", n)) for n in self._FILES[split]]
        return (found[0], found[1]) if found[0] and found[1] else None

    def prepare(self) -> None:
        if not self.download:
            return
        raw = self._dirs()[0]
        for split in self._wanted():
            if self._split_files(split) is not None:
                continue
            for name in self._FILES[split]:
                gz = name + ".gz"
                md5 = self.md5s.get(gz) if self.check_md5 else None
                download([m + gz for m in self.mirrors], raw / gz, md5)

    def _present(self) -> list[tuple[str, Path, Path]]:
        present = []
        for split in self._wanted():
            files = self._split_files(split)
            if files is None:
                if self.split != "all":
                    raise self._missing([split])
                continue
            present.append((split, *files))
        if not present:
            raise self._missing(self._wanted())
        return present

    def _missing(self, splits: list[str]) -> DataError:
        names = ", ".join(n + "[.gz]" for s in splits for n in self._FILES[s])
        where = str(self._dirs()[0])
        return DataError(
            f"{self.name} files not found: put {names} in {where!r} (or set root), "
            f"or set download: true"
        )

    def _read(self, path: Path) -> np.ndarray:
        if self.check_md5 and path.suffix == ".gz":
            verify_md5(path, self.md5s.get(path.name))
        return read_idx(path)

    def load(self, image_size: int | None, channels: int | None) -> ImageArrays:
        images, labels, splits = [], [], []
        for split, image_file, label_file in self._present():
            x, y = self._read(image_file), self._read(label_file)
            if x.ndim != 3 or y.ndim != 1 or len(x) != len(y):
                raise DataError(
                    f"{str(image_file)!r} and {str(label_file)!r} do not match: images "
                    f"{x.shape}, labels {y.shape}; download them again"
                )
            images.append(torch.from_numpy(x.astype(np.uint8)).unsqueeze(1))
            labels.append(torch.from_numpy(y.astype(np.int64)))
            splits.append(split)
        return labelled_arrays(images, labels, self.classes, self.name, splits, image_size, channels)

    def estimated_bytes(self, image_size: int | None, channels: int | None) -> int:
        s = image_size or 28
        n = sum(self._SIZES[split] for split in self._wanted())
        return n * (channels or 1) * s * s


def _torchvision_resources(cls_name: str) -> tuple[list[str], dict[str, str]]:
    import torchvision.datasets as tvd

    cls = getattr(tvd, cls_name)
    return list(cls.mirrors), dict(cls.resources)


@register_source
class MNIST(IdxImageSource):
    """MNIST handwritten digits (LeCun, Cortes, Burges), 28 x 28 grey, labels 0-9."""

    name = "mnist"
    folder = "MNIST"
    mirrors, md5s = _torchvision_resources("MNIST")


@register_source
class FashionMNIST(IdxImageSource):
    """Fashion-MNIST (Xiao, Rasul, Vollgraf 2017): 28 x 28 grey clothing, 10 classes."""

    name = "fashion_mnist"
    folder = "FashionMNIST"
    mirrors, md5s = _torchvision_resources("FashionMNIST")
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot"]
