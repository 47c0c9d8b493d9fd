"""Convolutional encoder and decoder: stages of 3x3 conv blocks, then a linear layer.

Stage ``i`` of the encoder is a 3x3 conv to ``widths[i]`` channels (stride 2 for the first
``downsamples`` stages, else 1) followed by ``blocks_per_stage`` stride-1 conv blocks.
The flattened last feature map goes through a linear layer to ``out_features``. The
decoder runs the same plan backwards: a linear layer to the encoder's last feature map
shape, stages in reverse with 4x4 stride-2 transposed convs where the encoder halved the
size, and a final 3x3 conv to the image channels (logits).

Stride rule (shared with the ResNet nets): ``downsamples=None`` halves H and W in as many
stages as possible while both stay integers and >= 4 pixels (8x8 -> 4x4, 28x28 -> 7x7,
32x32 -> 4x4, 64x64 -> 8x8 with three stages); an explicit ``downsamples=k`` needs H and W
divisible by ``2**k`` and is refused otherwise with the sizes that work.
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
    Norm,
    conv_block,
    init_weights,
    make_activation,
    up_block,
)
from autoenc.nets.registry import DECODERS, ENCODERS


@ENCODERS.register("conv")
class ConvEncoder(Encoder):
    """Stages of 3x3 conv blocks, flatten, linear: (B, C, H, W) -> (B, out_features).

    Args:
        input_shape: (C, H, W); H and W as the stride rule of this module allows.
        out_features: output size.
        widths: channels of each stage; one stage per entry.
        blocks_per_stage: extra stride-1 conv blocks after each stage's first block (an int
            for all stages or one int per stage).
        downsamples: how many leading stages halve H and W; None chooses automatically.
        norm: "batch", "group" or "none" after each conv.
        activation: nonlinearity after each norm.
    """

    def __init__(
        self,
        input_shape: tuple[int, int, int],
        out_features: int,
        *,
        widths: Sequence[int] = (32, 64, 128),
        blocks_per_stage: int | Sequence[int] = 0,
        downsamples: int | None = None,
        norm: Norm = "batch",
        activation: Activation = "relu",
    ) -> None:
        plan = StagePlan(
            input_shape,
            "input_shape",
            out_features,
            "out_features",
            "conv encoder",
            widths=widths,
            blocks_per_stage=blocks_per_stage,
            downsamples=downsamples,
            norm=norm,
            activation=activation,
            min_blocks=0,
        )
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        channels = plan.shape[0]
        for i, (width, stride, extra) in enumerate(
            zip(plan.widths, plan.strides, plan.blocks, strict=True)
        ):
            blocks = [conv_block(channels, width, stride, plan.norm, plan.activation)]
            blocks += [
                conv_block(width, width, 1, plan.norm, plan.activation) for _ in range(extra)
            ]
            layers[f"stage{i + 1}"] = nn.Sequential(*blocks)
            channels = width
        layers["flatten"] = nn.Flatten()
        layers["fc"] = nn.Linear(math.prod(plan.feature_shape), plan.size)
        super().__init__(
            layers,
            name="conv",
            input_shape=plan.shape,
            out_features=plan.size,
            feature_shape=plan.feature_shape,
        )
        init_weights(self)


@DECODERS.register("conv")
class ConvDecoder(Decoder):
    """Mirror of :class:`ConvEncoder`: (B, latent_dim) -> (B, C, H, W) logits.

    Linear to the encoder's last feature map (widths[-1], H', W'), then the stages in
    reverse: ``blocks_per_stage`` stride-1 blocks, and a block to the previous stage's
    width that doubles H and W (4x4 stride-2 transposed conv) where the encoder halved
    them; a final 3x3 conv maps widths[0] channels to C logits. Same options as the
    encoder.
    """

    def __init__(
        self,
        output_shape: tuple[int, int, int],
        latent_dim: int,
        *,
        widths: Sequence[int] = (32, 64, 128),
        blocks_per_stage: int | Sequence[int] = 0,
        downsamples: int | None = None,
        norm: Norm = "batch",
        activation: Activation = "relu",
    ) -> None:
        plan = StagePlan(
            output_shape,
            "output_shape",
            latent_dim,
            "latent_dim",
            "conv decoder",
            widths=widths,
            blocks_per_stage=blocks_per_stage,
            downsamples=downsamples,
            norm=norm,
            activation=activation,
            min_blocks=0,
        )
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        layers["fc"] = nn.Linear(plan.size, math.prod(plan.feature_shape))
        layers["unflatten"] = nn.Unflatten(1, plan.feature_shape)
        layers["act"] = make_activation(plan.activation)
        n = len(plan.widths)
        for j, i in enumerate(reversed(range(n))):
            width, target = plan.widths[i], plan.widths[max(i - 1, 0)]
            blocks = [
                conv_block(width, width, 1, plan.norm, plan.activation)
                for _ in range(plan.blocks[i])
            ]
            if plan.strides[i] == 2:
                blocks.append(up_block(width, target, plan.norm, plan.activation))
            else:
                blocks.append(conv_block(width, target, 1, plan.norm, plan.activation))
            layers[f"stage{j + 1}"] = nn.Sequential(*blocks)
        layers["out"] = nn.Conv2d(plan.widths[0], plan.shape[0], 3, 1, 1)
        super().__init__(
            layers,
            name="conv",
            output_shape=plan.shape,
            latent_dim=plan.size,
            feature_shape=plan.feature_shape,
        )
        init_weights(self)
        # PyTorch's default (fan-in, small) init keeps the initial logits near 0 instead
        # of the He init's large spread at the linear output.
        self.out.reset_parameters()
