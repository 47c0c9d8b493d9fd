"""Convolutional encoder and decoder: stages of 3x3 conv blocks, then a linear layer.

Stage ``i`` of the encoder is a 3x3 conv to ``widths[i]`` channels (stride 2 for the first
``downsamples`` stages, else 1) followed by ``blocks_per_stage`` stride-1 conv blocks.
The flattened last feature map goes through a linear layer to ``out_features`` (a spatial
code: a 1x1 conv to ``out_features`` maps at the last stage's resolution). The
decoder runs the same plan backwards: a linear layer to the encoder's last feature map
shape, stages in reverse with 4x4 stride-2 transposed convs where the encoder halved the
size, and a final 3x3 conv to the image channels (logits).

Stride rule (shared with the ResNet nets): ``downsamples=None`` halves H and W in as many
stages as possible while both stay integers and >= 4 pixels (8x8 -> 4x4, 28x28 -> 7x7,
32x32 -> 4x4, 64x64 -> 8x8 with three stages); an explicit ``downsamples=k`` needs H and W
divisible by ``2**k`` and is refused otherwise with the sizes that work.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

from autoenc.nets.layers import Activation, Norm, conv_block, up_block
from autoenc.nets.options import NETS, StagedNetOptions, staged_params
from autoenc.nets.staged import StageBlocks, StagedDecoder, StagedEncoder


class ConvBlocks(StageBlocks):
    """3x3 conv blocks; ``blocks_per_stage`` counts the stride-1 blocks after the first."""

    name = "conv"

    def down(self, in_channels: int, width: int, stride: int) -> nn.Module:
        return conv_block(in_channels, width, stride, self.norm, self.activation)

    def same(self, width: int) -> nn.Module:
        return conv_block(width, width, 1, self.norm, self.activation)

    def up(self, width: int, target: int, stride: int) -> nn.Module:
        if stride == 2:
            return up_block(width, target, self.norm, self.activation)
        return conv_block(width, target, 1, self.norm, self.activation)


class ConvEncoder(StagedEncoder):
    """Stages of 3x3 conv blocks, flatten, linear: (B, C, H, W) -> (B, out_features); with
    ``spatial``, a 1x1 conv to (B, out_features, h, w) instead of flatten and linear.
    Options: :class:`ConvNet`."""

    blocks = ConvBlocks


class ConvDecoder(StagedDecoder):
    """Mirror of :class:`ConvEncoder`: (B, latent_dim) -> (B, C, H, W) logits (the module
    docstring says how)."""

    blocks = ConvBlocks


@NETS.register("conv")
class ConvNet(StagedNetOptions):
    """The ``conv`` net: stages of 3x3 conv blocks (:class:`ConvEncoder`, :class:`ConvDecoder`).

    Args:
        widths: channels of each stage; one stage per entry.
        blocks_per_stage: extra stride-1 conv blocks after each stage's first block (an int
            for all stages or one int per stage).
        downsamples: how many leading stages halve H and W; None chooses automatically
            (the stride rule of this module). Sets h x w of a spatial code.
        norm: "batch", "group" or "none" after each conv.
        activation: nonlinearity after each norm.
    """

    name = "conv"
    min_blocks = 0
    PARAMS = staged_params(min_blocks)

    def __init__(self, widths: Sequence[int] = (32, 64, 128), blocks_per_stage: int | Sequence[int] = 0,
                 downsamples: int | None = None, norm: Norm = "batch", activation: Activation = "relu") -> None:
        super().__init__(widths, blocks_per_stage, downsamples, norm, activation)

    def encoder(self, input_shape: Sequence[int], out_features: int, *, spatial: bool = False) -> ConvEncoder:
        return ConvEncoder(input_shape, out_features, self, spatial=spatial)  # type: ignore[arg-type]

    def decoder(self, output_shape: Sequence[int], latent_dim: int, *, spatial: bool = False) -> ConvDecoder:
        return ConvDecoder(output_shape, latent_dim, self, spatial=spatial)  # type: ignore[arg-type]
