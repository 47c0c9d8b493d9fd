"""The derived sizes shared by a convolutional encoder and decoder."""

from __future__ import annotations

from autoenc.nets.options import StagedNetOptions
from autoenc.nets.shape_checks import check_shape, check_size, reduced_size, stage_strides


class StagePlan:
    """A staged net's stride plan and last feature map for one image shape.

    Args:
        shape, shape_name: the image shape argument and its name ("input_shape").
        size, size_name: the code size (or channels) argument and its name ("out_features").
        net: what to call the net in messages ("conv encoder").
        options: the net's checked options.
        expansion: output channels of a stage per unit of its width (4 for bottlenecks).

    Attributes:
        shape: (C, H, W); size: int; widths, blocks, strides: one int per stage;
        norm, activation: names; feature_shape: (C', H', W') of the last feature map.
    """

    def __init__(self, shape: object, shape_name: str, size: object, size_name: str, net: str,
                 options: StagedNetOptions, expansion: int = 1) -> None:
        self.shape = check_shape(shape, shape_name)
        self.size = check_size(size, size_name)
        self.widths = options.widths
        self.blocks = options.blocks
        self.norm = options.norm
        self.activation = options.activation
        _, h, w = self.shape
        self.strides = stage_strides(h, w, len(self.widths), options.downsamples, net)
        self.feature_shape = (expansion * self.widths[-1], *reduced_size(h, w, self.strides))
