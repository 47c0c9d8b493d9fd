"""CIFAR-10 from its python batches, read with a restricted unpickler (arrays and lists only).

torchvision's file lists, URL and md5 sums are used; ``torchvision.datasets.CIFAR10`` itself
is not, for a measured reason (torchvision 0.29, 2026-12-04): it reads the batches with a
plain ``pickle.load`` (``cifar.py``), which runs whatever code a crafted batch file holds;
this reader refuses anything but arrays and builtins (tested). Its download is not atomic
either (``download_url`` writes straight to the final name).
"""

from __future__ import annotations

import io
import pickle
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
import torch

from autoenc.core.errors import DataError
from autoenc.data.files import DatasetFiles, download, extract_archive_atomic, verify_md5
from autoenc.data.source import ImageArrays, register_source
from autoenc.data.transforms import labelled_arrays


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickles the CIFAR batch dicts: numpy arrays and builtins, nothing executable."""

    # _reconstruct/ndarray/dtype: protocols <= 4 (the real files are Python 2 protocol 2);
    # _frombuffer: protocol 5; _codecs.encode: bytes pickled by Python 3 at protocol <= 2.
    # None of them can run code or touch files.
    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.numeric", "_frombuffer"), ("numpy._core.numeric", "_frombuffer"),
        ("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode"),
    }

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in self._ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}")


def read_cifar_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """One CIFAR-10 python batch -> images (N, 3, 32, 32) uint8, labels (N,) int64."""
    try:
        batch = _ArrayUnpickler(io.BytesIO(path.read_bytes()), encoding="latin1").load()
        data = np.asarray(batch["data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
        labels = np.asarray(batch["labels"], dtype=np.int64)
    except (pickle.UnpicklingError, KeyError, ValueError, EOFError, TypeError) as err:
        raise DataError(f"{str(path)!r} is not a readable CIFAR-10 batch ({err}); download it again") from None
    if len(data) != len(labels):
        raise DataError(f"{str(path)!r}: {len(data)} images but {len(labels)} labels; download it again")
    return data, labels


@register_source
class CIFAR10(DatasetFiles):
    """CIFAR-10 (Krizhevsky 2009): 32 x 32 RGB, 10 classes; train 50,000 / test 10,000.

    Reads ``root/cifar-10-batches-py/{data_batch_1..5, test_batch}``.

    Args:
        root: dataset root (default ``$AUTOENC_DATA`` or ``./data``).
        split: ``train``, ``test`` or ``all`` (every split present).
        download: fetch and extract the archive in ``prepare`` when files are missing.
        check_md5: verify torchvision's checksums of the batch files.
    """

    name = "cifar10"
    native_shape = (3, 32, 32)
    classes: ClassVar[list[str]] = ["airplane", "automobile", "bird", "cat", "deer", "dog",
                                    "frog", "horse", "ship", "truck"]
    folder = "cifar-10-batches-py"

    def __init__(self, *, root: str | None = None, split: Literal["all", "train", "test"] = "all",
                 download: bool = False, check_md5: bool = True) -> None:
        self._set_options(locals())

    @staticmethod
    def _lists() -> dict[str, list[list[str]]]:
        import torchvision.datasets as tvd

        return {"train": tvd.CIFAR10.train_list, "test": tvd.CIFAR10.test_list}

    def _present(self) -> list[str]:
        lists = self._lists()
        present = [s for s in self._wanted() if all((self._dir() / f).is_file() for f, _ in lists[s])]
        if not present or (self.split != "all" and present != [self.split]):
            missing = [f for s in self._wanted() for f, _ in lists[s]]
            raise DataError(
                f"cifar10 files not found: put {', '.join(missing)} in {str(self._dir())!r} "
                "(or set root), or set download: true"
            )
        return present

    def prepare(self) -> None:
        if not self.download:
            return
        lists = self._lists()
        if all((self._dir() / f).is_file() for s in self._wanted() for f, _ in lists[s]):
            return
        import torchvision.datasets as tvd

        root = Path(self.root).expanduser()
        archive = root / tvd.CIFAR10.filename
        if not archive.is_file():
            download([tvd.CIFAR10.url], archive, tvd.CIFAR10.tgz_md5 if self.check_md5 else None)
        extract_archive_atomic(archive, root, self.folder)

    def load(self, image_size: int | None, channels: int | None) -> ImageArrays:
        lists = self._lists()
        images, labels, splits = [], [], []
        for split in self._present():
            for fname, md5 in lists[split]:
                path = self._dir() / fname
                if self.check_md5:
                    verify_md5(path, md5)
                x, y = read_cifar_batch(path)
                images.append(torch.from_numpy(x))
                labels.append(torch.from_numpy(y))
            splits.append(split)
        return labelled_arrays(images, labels, self.classes, self.name, splits, image_size, channels)

    def estimated_bytes(self, image_size: int | None, channels: int | None) -> int:
        n = sum({"train": 50_000, "test": 10_000}[s] for s in self._wanted())
        s = image_size or 32
        return n * (channels or 3) * s * s
