"""Resizing and channel conversion of uint8 image tensors."""

from __future__ import annotations

import pytest
import torch

from autoenc.core.errors import UserError
from autoenc.data.transforms import conform, convert_channels, resize, to_float


def test_rgb_to_grey_is_bt601_luma() -> None:
    rgb = torch.tensor([[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 255]], dtype=torch.uint8)
    images = rgb.view(4, 3, 1, 1).expand(4, 3, 2, 2)
    grey = convert_channels(images, 1)
    assert grey.shape == (4, 1, 2, 2) and grey.dtype == torch.uint8
    assert grey[:, 0, 0, 0].tolist() == [76, 150, 29, 255]  # round(0.299/0.587/0.114 * 255)


def test_luma_in_chunks_equals_one_pass() -> None:
    images = torch.randint(0, 256, (10, 3, 5, 5), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    assert torch.equal(convert_channels(images, 1, chunk=3), convert_channels(images, 1, chunk=100))


def test_grey_to_rgb_repeats() -> None:
    grey = torch.arange(8, dtype=torch.uint8).view(2, 1, 2, 2)
    rgb = convert_channels(grey, 3)
    assert rgb.shape == (2, 3, 2, 2) and all(torch.equal(rgb[:, c], grey[:, 0]) for c in range(3))


def test_other_channel_counts_are_refused() -> None:
    with pytest.raises(UserError, match=r"cannot convert 1-channel images to 2 channels; use channels 1 or 3"):
        convert_channels(torch.zeros(1, 1, 4, 4, dtype=torch.uint8), 2)


def test_resize_constant_image_stays_constant_and_chunks_agree() -> None:
    images = torch.full((5, 2, 10, 10), 77, dtype=torch.uint8)
    out = resize(images, 4, chunk=2)
    assert out.shape == (5, 2, 4, 4) and out.unique().tolist() == [77]
    noise = torch.randint(0, 256, (5, 1, 10, 10), dtype=torch.uint8, generator=torch.Generator().manual_seed(1))
    assert torch.equal(resize(noise, 6, chunk=2), resize(noise, 6, chunk=64))


def test_resize_centre_crops_non_square_inputs() -> None:
    images = torch.zeros(1, 1, 4, 8, dtype=torch.uint8)
    images[..., 2:6] = 200
    assert resize(images, 4).unique().tolist() == [200]


def test_conform_grey_to_rgb_equals_resize_then_repeat() -> None:
    grey = torch.randint(0, 256, (3, 1, 9, 9), dtype=torch.uint8, generator=torch.Generator().manual_seed(2))
    assert torch.equal(conform(grey, 5, 3), convert_channels(resize(grey, 5), 3))
    assert torch.equal(conform(grey, 5, 3), resize(convert_channels(grey, 3), 5))
    assert conform(grey, None, None) is grey


def test_to_float_range() -> None:
    x = to_float(torch.tensor([0, 51, 255], dtype=torch.uint8))
    assert x.dtype == torch.float32 and torch.allclose(x, torch.tensor([0.0, 0.2, 1.0]))
    y = torch.rand(3)
    assert to_float(y) is y
