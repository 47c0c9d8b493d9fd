"""Parameter and multiply-add counts from the project's own modules (autoenc.nets.cost)."""

from __future__ import annotations

import pytest
from torch import nn

from autoenc.core.errors import UserError
from autoenc.nets.cost import bottleneck_vs_plain, count_cost
from autoenc.nets.layers import Bottleneck, UpBottleneck


def test_bottleneck_block_against_two_3x3_convs_at_256_channels() -> None:
    """He et al. 2016, fig. 5: 1x1-3x3-1x1 at 256 -> 64 -> 64 -> 256 against two 3x3 convs."""
    costs = bottleneck_vs_plain(256, 64, 56)
    conv_weights = 256 * 64 + 64 * 64 * 9 + 64 * 256  # 69,632
    norms = 2 * (64 + 64 + 256)  # BatchNorm scale and shift
    assert costs["bottleneck"].params == conv_weights + norms == 70_400
    assert costs["bottleneck"].macs == conv_weights * 56 * 56
    plain_weights = 2 * 256 * 256 * 9  # 1,179,648: the "1.18M" of the textbook
    assert costs["two_3x3"].params == plain_weights + 2 * 2 * 256
    assert costs["two_3x3"].macs == plain_weights * 56 * 56
    assert costs["two_3x3"].macs / costs["bottleneck"].macs == pytest.approx(16.94, abs=0.01)


def test_strides_padding_and_transposed_convs_are_counted_as_they_run() -> None:
    conv = nn.Conv2d(3, 8, 3, stride=2, padding=1)  # 16x16 -> 8x8
    assert count_cost(conv, (3, 16, 16)).macs == 8 * 8 * 8 * 3 * 9
    up = nn.ConvTranspose2d(8, 4, 4, stride=2, padding=1)  # 8x8 -> 16x16: each input pixel -> a 4x4 patch
    assert count_cost(up, (8, 8, 8)).macs == 8 * 8 * 8 * 4 * 16
    linear = nn.Sequential(nn.Flatten(), nn.Linear(12, 5))
    assert count_cost(linear, (3, 2, 2)).macs == 60
    assert count_cost(linear, (3, 2, 2)).params == 65


def test_the_strided_blocks_cost_less_than_the_same_block_at_full_size() -> None:
    down = count_cost(Bottleneck(64, 16, stride=2), (64, 16, 16))
    same = count_cost(Bottleneck(64, 16, stride=1), (64, 16, 16))
    assert down.params == same.params + 64 * 64 + 2 * 64  # the strided block's projection shortcut
    assert down.macs < same.macs
    assert count_cost(UpBottleneck(64, 16, stride=2), (64, 8, 8)).macs > 0


def test_bad_arguments() -> None:
    with pytest.raises(UserError, match="input_shape must be a non-empty list of integers >= 1"):
        count_cost(nn.Linear(2, 2), (0,))
    with pytest.raises(UserError, match="a bottleneck block maps 4 \\* width channels"):
        bottleneck_vs_plain(256, 32)
