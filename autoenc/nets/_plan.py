"""The validated options and derived sizes shared by a convolutional encoder and decoder."""

from __future__ import annotations

from autoenc.nets._checks import (
    check_choice,
    check_int_list,
    check_per_stage,
    check_shape,
    check_size,
    reduced_size,
    stage_strides,
)
from autoenc.nets.layers import ACTIVATIONS, NORMS


class StagePlan:
    """Checks a staged net's arguments and computes its stride plan and feature map.

    Args:
        shape, shape_name: the image shape argument and its name ("input_shape").
        size, size_name: the vector size argument and its name ("out_features").
        net: what to call the net in messages ("conv encoder").
        widths, blocks_per_stage, downsamples, norm, activation: the user's options.
        min_blocks: the fewest blocks a stage may have.
        expansion: output channels of a stage per unit of its width (4 for bottlenecks).

    Attributes:
        shape: (C, H, W); size: int; widths, blocks, strides: one int per stage;
        norm, activation: names; feature_shape: (C', H', W') of the last feature map.
    """

    def __init__(
        self,
        shape: object,
        shape_name: str,
        size: object,
        size_name: str,
        net: str,
        *,
        widths: object,
        blocks_per_stage: object,
        downsamples: object,
        norm: object,
        activation: object,
        min_blocks: int,
        expansion: int = 1,
    ) -> None:
        self.shape = check_shape(shape, shape_name)
        self.size = check_size(size, size_name)
        self.widths = check_int_list(widths, "widths")
        n = len(self.widths)
        self.blocks = check_per_stage(blocks_per_stage, "blocks_per_stage", n, min_blocks)
        self.norm = check_choice(norm, "norm", NORMS.list())
        self.activation = check_choice(activation, "activation", ACTIVATIONS.list())
        _, h, w = self.shape
        self.strides = stage_strides(h, w, n, downsamples, net)
        self.feature_shape = (expansion * self.widths[-1], *reduced_size(h, w, self.strides))
