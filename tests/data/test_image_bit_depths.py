"""Every bit depth Pillow reads becomes 8 bits by its range, not clipped (a 16-bit PNG folder
was near-white in preview and training): files written by the test in each mode."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from autoenc.core.errors import DataError
from autoenc.data import ImageFolder
from autoenc.data.image_files import decode_image

#: 16-bit grey levels and their 8-bit values, round(v * 255 / 65535)
LEVELS16 = np.array([[0, 257, 1000, 30000], [32768, 40000, 65278, 65535]], dtype=np.uint16)
LEVELS8 = np.round(LEVELS16.astype(np.float64) * 255 / 65535).astype(np.uint8)


def png16(path: Path, values: np.ndarray) -> Path:
    """A 16-bit PNG written byte by byte (grey, grey+alpha, RGB or RGBA by the last axis)."""
    a = np.asarray(values, dtype=">u2")
    a = a[:, :, None] if a.ndim == 2 else a
    h, w, c = a.shape
    raw = b"".join(b"\x00" + a[y].tobytes() for y in range(h))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", w, h, 16, {1: 0, 2: 4, 3: 2, 4: 6}[c], 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw))
                     + chunk(b"IEND", b""))
    return path


def grey(image: torch.Tensor) -> np.ndarray:
    return image[0].numpy()


def test_16bit_grey_png_is_scaled_not_clipped(tmp_path: Path) -> None:
    path = png16(tmp_path / "g16.png", LEVELS16)
    assert Image.open(path).mode == "I;16"
    one = decode_image(path, None, channels=1)
    assert one.dtype == torch.uint8 and one.shape == (1, 2, 4)
    np.testing.assert_array_equal(grey(one), LEVELS8)
    three = decode_image(path, None, channels=3)
    assert three.shape == (3, 2, 4) and all(np.array_equal(c.numpy(), LEVELS8) for c in three)


@pytest.mark.parametrize("channels", [2, 3, 4])
def test_16bit_colour_pngs_keep_their_levels(tmp_path: Path, channels: int) -> None:
    values = np.repeat(LEVELS16[:, :, None], channels, axis=2)
    if channels in (2, 4):
        values[:, :, -1] = 65535  # opaque alpha
    image = decode_image(png16(tmp_path / "c16.png", values), None, channels=3)
    # Pillow keeps the high byte of 16-bit colour: at most 1 level below the rounded value
    assert np.abs(image[0].numpy().astype(int) - LEVELS8.astype(int)).max() <= 1


def test_tiff_integer_and_float_modes(tmp_path: Path) -> None:
    Image.fromarray(LEVELS16.astype("<u2")).save(tmp_path / "u16.tif")
    Image.fromarray(LEVELS16.astype(np.int32)).save(tmp_path / "i32.tif")
    floats = LEVELS16.astype(np.float32) / 65535
    Image.fromarray(floats).save(tmp_path / "f.tif")
    assert [Image.open(tmp_path / n).mode for n in ("u16.tif", "i32.tif", "f.tif")] == ["I;16", "I", "F"]
    for name in ("u16.tif", "i32.tif", "f.tif"):
        np.testing.assert_array_equal(grey(decode_image(tmp_path / name, None, channels=1)), LEVELS8, err_msg=name)


@pytest.mark.parametrize(("mode", "values"), [("I", np.array([[0, 70000]], dtype=np.int32)),
                                              ("I", np.array([[-5, 10]], dtype=np.int32)),
                                              ("F", np.array([[0.0, 2.5]], dtype=np.float32)),
                                              ("F", np.array([[0.0, np.nan]], dtype=np.float32))])
def test_values_without_a_range_to_scale_from_are_refused(tmp_path: Path, mode: str, values: np.ndarray) -> None:
    path = tmp_path / "odd.tif"
    Image.fromarray(values).save(path)
    assert Image.open(path).mode == mode
    with pytest.raises(DataError, match=r"^image '.*odd\.tif' has .* values in .*; save "):
        decode_image(path, None, channels=1)


@pytest.mark.parametrize("mode", ["1", "L", "LA", "P", "RGB", "RGBA"])
def test_8bit_modes_unchanged(tmp_path: Path, mode: str) -> None:
    rgb = Image.fromarray(np.stack([LEVELS8, LEVELS8, LEVELS8], axis=2))
    image = rgb.convert(mode)
    path = tmp_path / f"m{mode}.png"
    image.save(path)
    expected = np.asarray(image.convert("L"))
    np.testing.assert_array_equal(grey(decode_image(path, None, channels=1)), expected)


def test_a_folder_of_16bit_pngs_is_not_near_white(tmp_path: Path) -> None:
    for i in range(3):
        (tmp_path / "imgs").mkdir(exist_ok=True)
        png16(tmp_path / "imgs" / f"{i}.png", LEVELS16)
    arrays = ImageFolder(root=str(tmp_path / "imgs")).load(image_size=None, channels=1)
    assert arrays.images.dtype == torch.uint8
    np.testing.assert_array_equal(arrays.images[0, 0].numpy(), LEVELS8)
    assert float(arrays.images.float().mean()) < 200  # was 255 almost everywhere when clipped
