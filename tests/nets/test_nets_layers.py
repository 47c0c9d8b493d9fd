"""The building blocks: ResNet bottleneck structure and shortcuts, norms, stride plan."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from autoenc.nets.layers import Bottleneck, UpBottleneck, group_count, make_norm
from autoenc.nets.shape_checks import auto_downsamples, stage_strides


def kernel(conv: nn.Module) -> tuple[int, int]:
    return tuple(conv.kernel_size)  # type: ignore[return-value]


def test_bottleneck_is_1x1_squeeze_3x3_1x1_expand_by_4() -> None:
    block = Bottleneck(32, 8)
    assert (kernel(block.conv1), block.conv1.in_channels, block.conv1.out_channels) == (
        (1, 1),
        32,
        8,
    )
    assert (kernel(block.conv2), block.conv2.in_channels, block.conv2.out_channels) == (
        (3, 3),
        8,
        8,
    )
    assert (kernel(block.conv3), block.conv3.in_channels, block.conv3.out_channels) == (
        (1, 1),
        8,
        32,
    )
    assert all(isinstance(n, nn.BatchNorm2d) for n in (block.norm1, block.norm2, block.norm3))
    assert isinstance(block.shortcut, nn.Identity)
    assert block(torch.randn(2, 32, 6, 6)).shape == (2, 32, 6, 6)


def test_identity_shortcut_passes_input_when_residual_is_silenced() -> None:
    block = Bottleneck(16, 4)
    nn.init.zeros_(block.norm3.weight)  # residual branch -> norm3 bias = 0
    x = torch.randn(2, 16, 5, 5)
    torch.testing.assert_close(block(x), torch.relu(x))


@pytest.mark.parametrize(("in_channels", "stride"), [(8, 1), (16, 2), (8, 2)])
def test_projection_shortcut_when_shape_changes(in_channels: int, stride: int) -> None:
    block = Bottleneck(in_channels, 4, stride=stride)
    projection = block.shortcut[0]
    assert isinstance(projection, nn.Conv2d)
    assert kernel(projection) == (1, 1) and projection.stride == (stride, stride)
    assert (projection.in_channels, projection.out_channels) == (in_channels, 16)
    assert block.conv2.stride == (stride, stride) and block.conv1.stride == (1, 1)
    assert block(torch.randn(2, in_channels, 8, 8)).shape == (2, 16, 8 // stride, 8 // stride)


def test_up_bottleneck_doubles_size_with_transposed_convs() -> None:
    block = UpBottleneck(32, 4, stride=2)
    assert isinstance(block.conv2, nn.ConvTranspose2d)
    assert isinstance(block.shortcut[0], nn.ConvTranspose2d)
    assert block(torch.randn(2, 32, 3, 5)).shape == (2, 16, 6, 10)
    same = UpBottleneck(16, 4)
    assert isinstance(same.shortcut, nn.Identity)
    assert same(torch.randn(2, 16, 3, 5)).shape == (2, 16, 3, 5)


def test_group_norm_groups() -> None:
    assert [group_count(c) for c in (1, 3, 4, 8, 32, 64, 128, 256, 48)] == [
        1,
        1,
        1,
        2,
        8,
        16,
        32,
        32,
        12,
    ]
    norm = make_norm("group", 64)
    assert isinstance(norm, nn.GroupNorm) and norm.num_groups == 16
    assert isinstance(make_norm("none", 8), nn.Identity)


@pytest.mark.parametrize(
    ("height", "width", "stages", "expected"),
    [
        (8, 8, 3, 1),
        (28, 28, 3, 2),
        (32, 32, 3, 3),
        (64, 64, 3, 3),
        (64, 64, 2, 2),
        (30, 30, 3, 1),
        (15, 15, 3, 0),
        (4, 4, 3, 0),
        (12, 20, 3, 1),
        (16, 24, 3, 2),
    ],
)
def test_auto_downsamples_rule(height: int, width: int, stages: int, expected: int) -> None:
    assert auto_downsamples(height, width, stages) == expected


def test_strides_put_downsampling_first() -> None:
    assert stage_strides(28, 28, 3, None, "conv encoder") == (2, 2, 1)
    assert stage_strides(28, 28, 4, 1, "conv encoder") == (2, 1, 1, 1)
    assert stage_strides(8, 8, 3, 3, "conv encoder") == (2, 2, 2)
