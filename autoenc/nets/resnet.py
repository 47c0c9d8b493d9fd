"""ResNet encoder and decoder built from bottleneck blocks (He et al. 2016).

Encoder: a 3x3 stem conv to ``widths[0]`` channels, then one stage per entry of
``widths``: ``blocks_per_stage`` :class:`~autoenc.nets.layers.Bottleneck` blocks of inner
width ``widths[i]`` and ``4 * widths[i]`` output channels, the first block of the stage
strided (2 for the first ``downsamples`` stages, as in :mod:`autoenc.nets.conv`); then
flatten and a linear layer (a spatial code: a 1x1 conv). The feature map is flattened rather than average-pooled: an
autoencoder needs to know *where* things are.

Decoder: the mirror, a linear layer to the last feature map, the stages in reverse of
:class:`~autoenc.nets.layers.UpBottleneck` blocks whose last block doubles H and W where
the encoder halved them (and narrows to the previous stage), and a 3x3 conv to C logits.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

from autoenc.nets.layers import Activation, Bottleneck, Norm, UpBottleneck, conv_block
from autoenc.nets.options import NETS, StagedNetOptions, staged_params
from autoenc.nets.staged import StageBlocks, StagedDecoder, StagedEncoder

EXPANSION = Bottleneck.expansion


class ResNetBlocks(StageBlocks):
    """A 3x3 conv stem and bottleneck blocks; ``blocks_per_stage`` counts every block of a stage."""

    name = "resnet"
    expansion = EXPANSION
    min_blocks = 1

    def stem(self, in_channels: int, width: int) -> nn.Module:
        return conv_block(in_channels, width, 1, self.norm, self.activation)

    def down(self, in_channels: int, width: int, stride: int) -> nn.Module:
        return Bottleneck(in_channels, width, stride=stride, norm=self.norm, activation=self.activation)

    def same(self, width: int) -> nn.Module:
        return Bottleneck(EXPANSION * width, width, norm=self.norm, activation=self.activation)

    def up(self, width: int, target: int, stride: int) -> nn.Module:
        return UpBottleneck(EXPANSION * width, target, stride=stride, norm=self.norm, activation=self.activation)


class ResNetEncoder(StagedEncoder):
    """Stem, bottleneck stages, flatten, linear: (B, C, H, W) -> (B, out_features); with
    ``spatial``, a 1x1 conv to (B, out_features, h, w) instead. Options: :class:`ResNetNet`."""

    blocks = ResNetBlocks


class ResNetDecoder(StagedDecoder):
    """Mirror of :class:`ResNetEncoder`: (B, latent_dim) -> (B, C, H, W) logits (the module
    docstring says how)."""

    blocks = ResNetBlocks


@NETS.register("resnet")
class ResNetNet(StagedNetOptions):
    """The ``resnet`` net: bottleneck stages (:class:`ResNetEncoder`, :class:`ResNetDecoder`).

    Args:
        widths: inner (squeezed) width of each stage's bottleneck blocks; a stage outputs
            4x as many channels.
        blocks_per_stage: bottleneck blocks per stage (an int for all, or one per stage),
            e.g. [3, 4, 6, 3] for the ResNet-50 layout.
        downsamples: how many leading stages halve H and W; None chooses automatically
            (the stride rule of :mod:`autoenc.nets.conv`). Sets h x w of a spatial code.
        norm: "batch" (as in ResNet), "group" or "none".
        activation: nonlinearity inside and after each block.
    """

    name = "resnet"
    min_blocks = 1
    PARAMS = staged_params(min_blocks)

    def __init__(self, widths: Sequence[int] = (16, 32, 64), blocks_per_stage: int | Sequence[int] = 2,
                 downsamples: int | None = None, norm: Norm = "batch", activation: Activation = "relu") -> None:
        super().__init__(widths, blocks_per_stage, downsamples, norm, activation)

    def encoder(self, input_shape: Sequence[int], out_features: int, *, spatial: bool = False) -> ResNetEncoder:
        return ResNetEncoder(input_shape, out_features, self, spatial=spatial)  # type: ignore[arg-type]

    def decoder(self, output_shape: Sequence[int], latent_dim: int, *, spatial: bool = False) -> ResNetDecoder:
        return ResNetDecoder(output_shape, latent_dim, self, spatial=spatial)  # type: ignore[arg-type]
