"""Writers of tiny dataset files in the real formats, so tests never download anything.

Each writer returns what it wrote (arrays, labels, colours) so tests can compare the
reader's output with known answers.
"""

from __future__ import annotations

import gzip
import pickle
from pathlib import Path

import numpy as np

IDX_TYPE_CODES = {np.dtype(np.uint8): 0x08, np.dtype(np.int8): 0x09, np.dtype(">i2"): 0x0B,
                  np.dtype(">i4"): 0x0C, np.dtype(">f4"): 0x0D, np.dtype(">f8"): 0x0E}
MNIST_NAMES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
               "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}


def idx_bytes(array: np.ndarray) -> bytes:
    """IDX encoding of ``array``: magic (0, 0, type, ndim), big-endian int32 dims, big-endian data."""
    dtype = array.dtype.newbyteorder(">") if array.dtype.itemsize > 1 else array.dtype
    header = bytes([0, 0, IDX_TYPE_CODES[dtype], array.ndim])
    dims = np.asarray(array.shape, dtype=">i4").tobytes()
    return header + dims + array.astype(dtype).tobytes()


def write_idx(path: Path, array: np.ndarray) -> Path:
    """Write ``array`` as an IDX file, gzipped when ``path`` ends in ``.gz``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = idx_bytes(array)
    path.write_bytes(gzip.compress(data, mtime=0) if path.suffix == ".gz" else data)
    return path


def write_mnist(raw: Path, n: int = 12, split: str = "test", gz: bool = True,
                seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Write ``n`` random 28 x 28 images and labels 0-9 for ``split`` into folder ``raw``.

    Returns:
        images (n, 28, 28) uint8, labels (n,) uint8.
    """
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = (np.arange(n) % 10).astype(np.uint8)
    suffix = ".gz" if gz else ""
    image_name, label_name = MNIST_NAMES[split]
    write_idx(raw / (image_name + suffix), images)
    write_idx(raw / (label_name + suffix), labels)
    return images, labels


def cifar_batch(n: int, seed: int) -> dict:
    """A CIFAR-10 python batch as the real files hold it: data (n, 3072) uint8 (R plane, G
    plane, B plane, each row-major 32 x 32), labels a list of ints."""
    rng = np.random.default_rng(seed)
    return {"batch_label": f"batch {seed}", "data": rng.integers(0, 256, size=(n, 3072), dtype=np.uint8),
            "labels": [int(v) for v in rng.integers(0, 10, size=n)],
            "filenames": [f"img_{seed}_{i}.png" for i in range(n)]}


def write_cifar(folder: Path, per_batch: int = 3, protocol: int = 4,
                names: tuple[str, ...] = ("data_batch_1", "data_batch_2", "data_batch_3",
                                          "data_batch_4", "data_batch_5", "test_batch"),
                ) -> dict[str, dict]:
    """Write CIFAR-10 batch files named ``names`` into ``folder``; returns name -> batch dict."""
    folder.mkdir(parents=True, exist_ok=True)
    batches = {}
    for i, name in enumerate(names):
        batches[name] = cifar_batch(per_batch, seed=i)
        (folder / name).write_bytes(pickle.dumps(batches[name], protocol=protocol))
    return batches


def write_image(path: Path, colour: tuple[int, int, int] | int, size: tuple[int, int] = (12, 10)) -> Path:
    """A solid-colour image (``size`` = (width, height)); the format follows the suffix."""
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    mode = "L" if isinstance(colour, int) else "RGB"
    Image.new(mode, size, colour).save(path)
    return path


CELEBA_ATTRS = ("Bald", "Smiling", "Young")


def write_celeba(root: Path, partition: tuple[int, ...] = (0, 0, 0, 1, 1, 2),
                 size: tuple[int, int] = (20, 24)) -> tuple[list[tuple[int, int, int]], np.ndarray]:
    """torchvision's CelebA layout under ``root/celeba``: solid-colour JPEGs, an attribute list
    (+1 / -1) and a partition list (0 train, 1 valid, 2 test), one row per image.

    Returns:
        colours [(r, g, b)] per image, attributes (n, 3) in {0, 1}.
    """
    d = root / "celeba"
    n = len(partition)
    colours = [(40 * i, 255 - 40 * i, 128) for i in range(n)]
    attrs = np.array([[(i >> b) & 1 for b in range(len(CELEBA_ATTRS))] for i in range(n)])
    names = [f"{i + 1:06d}.jpg" for i in range(n)]
    for name, colour in zip(names, colours, strict=True):
        write_image(d / "img_align_celeba" / name, colour, size)
    rows = [f"{name} " + " ".join("1" if a else "-1" for a in row) for name, row in zip(names, attrs, strict=True)]
    (d / "list_attr_celeba.txt").write_text("\n".join([str(n), " ".join(CELEBA_ATTRS), *rows]) + "\n")
    (d / "list_eval_partition.txt").write_text(
        "".join(f"{name} {p}\n" for name, p in zip(names, partition, strict=True)))
    return colours, attrs
