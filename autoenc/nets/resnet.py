"""ResNet encoder and decoder built from bottleneck blocks (He et al. 2016).

Encoder: a 3x3 stem conv to ``widths[0]`` channels, then one stage per entry of
``widths``: ``blocks_per_stage`` :class:`~autoenc.nets.layers.Bottleneck` blocks of inner
width ``widths[i]`` and ``4 * widths[i]`` output channels, the first block of the stage
strided (2 for the first ``downsamples`` stages, as in :mod:`autoenc.nets.conv`); then
flatten and a linear layer. The feature map is flattened rather than average-pooled: an
autoencoder needs to know *where* things are.

Decoder: the mirror, a linear layer to the last feature map, the stages in reverse of
:class:`~autoenc.nets.layers.UpBottleneck` blocks whose last block doubles H and W where
the encoder halved them (and narrows to the previous stage), and a 3x3 conv to C logits.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Sequence

from torch import nn

from autoenc.nets._plan import StagePlan
from autoenc.nets.base import Decoder, Encoder
from autoenc.nets.layers import (
    Activation,
    Bottleneck,
    Norm,
    UpBottleneck,
    conv_block,
    init_weights,
    make_activation,
)
from autoenc.nets.registry import DECODERS, ENCODERS

EXPANSION = Bottleneck.expansion


@ENCODERS.register("resnet")
class ResNetEncoder(Encoder):
    """Stem, bottleneck stages, flatten, linear: (B, C, H, W) -> (B, out_features).

    Args:
        input_shape: (C, H, W); H and W as the stride rule of :mod:`autoenc.nets.conv` allows.
        out_features: output size.
        widths: inner (squeezed) width of each stage's bottleneck blocks; a stage outputs
            4x as many channels.
        blocks_per_stage: bottleneck blocks per stage (an int for all, or one per stage),
            e.g. [3, 4, 6, 3] for the ResNet-50 layout.
        downsamples: how many leading stages halve H and W; None chooses automatically.
        norm: "batch" (as in ResNet), "group" or "none".
        activation: nonlinearity inside and after each block.
    """

    def __init__(
        self,
        input_shape: tuple[int, int, int],
        out_features: int,
        *,
        widths: Sequence[int] = (16, 32, 64),
        blocks_per_stage: int | Sequence[int] = 2,
        downsamples: int | None = None,
        norm: Norm = "batch",
        activation: Activation = "relu",
    ) -> None:
        plan = StagePlan(
            input_shape,
            "input_shape",
            out_features,
            "out_features",
            "resnet encoder",
            widths=widths,
            blocks_per_stage=blocks_per_stage,
            downsamples=downsamples,
            norm=norm,
            activation=activation,
            min_blocks=1,
            expansion=EXPANSION,
        )
        kw = {"norm": plan.norm, "activation": plan.activation}
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        layers["stem"] = conv_block(plan.shape[0], plan.widths[0], 1, **kw)
        channels = plan.widths[0]
        for i, (width, stride, n) in enumerate(
            zip(plan.widths, plan.strides, plan.blocks, strict=True)
        ):
            blocks = [Bottleneck(channels, width, stride=stride, **kw)]
            blocks += [Bottleneck(EXPANSION * width, width, **kw) for _ in range(n - 1)]
            layers[f"stage{i + 1}"] = nn.Sequential(*blocks)
            channels = EXPANSION * width
        layers["flatten"] = nn.Flatten()
        layers["fc"] = nn.Linear(math.prod(plan.feature_shape), plan.size)
        super().__init__(
            layers,
            name="resnet",
            input_shape=plan.shape,
            out_features=plan.size,
            feature_shape=plan.feature_shape,
        )
        init_weights(self)


@DECODERS.register("resnet")
class ResNetDecoder(Decoder):
    """Mirror of :class:`ResNetEncoder`: (B, latent_dim) -> (B, C, H, W) logits.

    Linear to (4 * widths[-1], H', W'); for each stage in reverse, ``blocks_per_stage - 1``
    stride-1 :class:`~autoenc.nets.layers.UpBottleneck` blocks and one that narrows to
    the previous stage (4 * widths[i - 1] channels) and doubles H and W where the encoder
    halved them; a 3x3 conv from 4 * widths[0] channels to C logits. Same options as the
    encoder.
    """

    def __init__(
        self,
        output_shape: tuple[int, int, int],
        latent_dim: int,
        *,
        widths: Sequence[int] = (16, 32, 64),
        blocks_per_stage: int | Sequence[int] = 2,
        downsamples: int | None = None,
        norm: Norm = "batch",
        activation: Activation = "relu",
    ) -> None:
        plan = StagePlan(
            output_shape,
            "output_shape",
            latent_dim,
            "latent_dim",
            "resnet decoder",
            widths=widths,
            blocks_per_stage=blocks_per_stage,
            downsamples=downsamples,
            norm=norm,
            activation=activation,
            min_blocks=1,
            expansion=EXPANSION,
        )
        kw = {"norm": plan.norm, "activation": plan.activation}
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        layers["fc"] = nn.Linear(plan.size, math.prod(plan.feature_shape))
        layers["unflatten"] = nn.Unflatten(1, plan.feature_shape)
        layers["act"] = make_activation(plan.activation)
        for j, i in enumerate(reversed(range(len(plan.widths)))):
            width, target = plan.widths[i], plan.widths[max(i - 1, 0)]
            blocks = [
                UpBottleneck(EXPANSION * width, width, **kw) for _ in range(plan.blocks[i] - 1)
            ]
            blocks.append(UpBottleneck(EXPANSION * width, target, stride=plan.strides[i], **kw))
            layers[f"stage{j + 1}"] = nn.Sequential(*blocks)
        layers["out"] = nn.Conv2d(EXPANSION * plan.widths[0], plan.shape[0], 3, 1, 1)
        super().__init__(
            layers,
            name="resnet",
            output_shape=plan.shape,
            latent_dim=plan.size,
            feature_shape=plan.feature_shape,
        )
        init_weights(self)
        # PyTorch's default (fan-in, small) init keeps the initial logits near 0.
        self.out.reset_parameters()
