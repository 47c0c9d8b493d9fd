"""The staged convolutional encoder/decoder skeleton that the ``conv`` and ``resnet`` nets share.

A staged net is planned by :class:`~autoenc.nets._plan.StagePlan` (one stride per stage,
the last feature map, from checked options) and assembled from an architecture's
:class:`StageBlocks`, which only says how one block looks:

Encoder: ``[stem]``, then per stage ``i`` a strided block ``down(channels, widths[i],
strides[i])`` and ``blocks[i] - min_blocks`` blocks ``same(widths[i])``; flatten; a
linear layer to ``out_features`` (a spatial code: a 1x1 conv ``squeeze`` instead).

Decoder: a linear layer to the encoder's last feature map, unflatten (a spatial code: a 1x1
conv ``expand``), activation; per stage
in reverse ``blocks[i] - min_blocks`` blocks ``up(widths[i], widths[i], 1)`` and one
``up(widths[i], widths[i - 1], strides[i])`` that doubles H and W where the encoder halved
them; a 3x3 conv to the image channels (logits).

Layers are named ``stem``, ``stage1`` ..., ``flatten``, ``fc`` (encoder) and ``fc``,
``unflatten``, ``act``, ``stage1`` ..., ``out`` (decoder), so parameter names (and
checkpoints) do not depend on which architecture built them.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from typing import ClassVar

from torch import nn

from autoenc.nets._plan import StagePlan
from autoenc.nets.layers import init_weights, make_activation
from autoenc.nets.options import StagedNetOptions
from autoenc.nets.stacks import Decoder, Encoder


class StageBlocks:
    """How an architecture builds one block; the staged skeleton does the rest.

    A block of stage width ``w`` outputs ``expansion * w`` channels. Subclasses set
    ``name``, ``expansion`` and ``min_blocks`` (the blocks of a stage that
    ``blocks_per_stage`` counts besides the repeated ``same`` blocks: 0 when it counts
    extra blocks after the strided one, 1 when it counts all of them) and implement
    :meth:`down`, :meth:`same` and :meth:`up`.

    Args:
        norm, activation: the checked names every block uses.
    """

    name: ClassVar[str] = ""
    expansion: ClassVar[int] = 1
    min_blocks: ClassVar[int] = 0

    def __init__(self, norm: str, activation: str) -> None:
        self.norm = norm
        self.activation = activation

    def stem(self, in_channels: int, width: int) -> nn.Module | None:
        """(B, in_channels, H, W) -> (B, width, H, W) before the first stage, or None for none."""
        return None

    def down(self, in_channels: int, width: int, stride: int) -> nn.Module:
        """A stage's first block: (B, in_channels, H, W) -> (B, expansion * width, H / stride, W / stride)."""
        raise NotImplementedError

    def same(self, width: int) -> nn.Module:
        """A repeated encoder block: (B, expansion * width, H, W) -> the same shape."""
        raise NotImplementedError

    def up(self, width: int, target: int, stride: int) -> nn.Module:
        """A decoder block: (B, expansion * width, H, W) -> (B, expansion * target, H * stride,
        W * stride); with ``target == width`` and stride 1 the decoder's repeated block."""
        raise NotImplementedError


class StagedEncoder(Encoder):
    """Images -> codes through the stages of ``blocks``: (B, C, H, W) -> (B, out_features),
    or with ``spatial`` a 1x1 conv to (B, out_features, h, w) maps at the last stage's
    resolution. See the module docstring for the layout.

    Args:
        input_shape: (C, H, W).
        out_features: code size (flat) or code channels (spatial); a VAE asks for twice that.
        options: the net's options (subclasses take their own options class).
        spatial: keep the last feature map's h x w and squeeze its channels with a 1x1 conv.
    """

    blocks: ClassVar[type[StageBlocks]]

    def __init__(self, input_shape: tuple[int, int, int], out_features: int, options: StagedNetOptions,
                 *, spatial: bool = False) -> None:
        plan = StagePlan(input_shape, "input_shape", out_features, "out_features", f"{self.blocks.name} encoder",
                         options, self.blocks.expansion)
        make = self.blocks(plan.norm, plan.activation)
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        channels = plan.shape[0]
        stem = make.stem(channels, plan.widths[0])
        if stem is not None:
            layers["stem"] = stem
            channels = plan.widths[0]
        for i, (width, stride, n) in enumerate(zip(plan.widths, plan.strides, plan.blocks, strict=True)):
            stage = [make.down(channels, width, stride)]
            stage += [make.same(width) for _ in range(n - make.min_blocks)]
            layers[f"stage{i + 1}"] = nn.Sequential(*stage)
            channels = make.expansion * width
        if spatial:
            layers["squeeze"] = nn.Conv2d(channels, plan.size, 1)
            code_shape: tuple[int, ...] = (plan.size, *plan.feature_shape[1:])
        else:
            layers["flatten"] = nn.Flatten()
            layers["fc"] = nn.Linear(math.prod(plan.feature_shape), plan.size)
            code_shape = (plan.size,)
        super().__init__(layers, name=make.name, input_shape=plan.shape, out_features=plan.size,
                         feature_shape=plan.feature_shape, code_shape=code_shape)
        init_weights(self)
        if spatial:
            # PyTorch's default init: the code starts near 0 (a VAE's posterior near the prior).
            self.squeeze.reset_parameters()


class StagedDecoder(Decoder):
    """Mirror of :class:`StagedEncoder`: (B, latent_dim) or with ``spatial`` (B, latent_dim,
    h, w) -> (B, C, H, W) logits; the spatial decoder begins with a 1x1 conv expanding
    ``latent_dim`` channels to the encoder's last feature map."""

    blocks: ClassVar[type[StageBlocks]]

    def __init__(self, output_shape: tuple[int, int, int], latent_dim: int, options: StagedNetOptions,
                 *, spatial: bool = False) -> None:
        plan = StagePlan(output_shape, "output_shape", latent_dim, "latent_dim", f"{self.blocks.name} decoder",
                         options, self.blocks.expansion)
        make = self.blocks(plan.norm, plan.activation)
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        if spatial:
            layers["expand"] = nn.Conv2d(plan.size, plan.feature_shape[0], 1)
            code_shape: tuple[int, ...] = (plan.size, *plan.feature_shape[1:])
        else:
            layers["fc"] = nn.Linear(plan.size, math.prod(plan.feature_shape))
            layers["unflatten"] = nn.Unflatten(1, plan.feature_shape)
            code_shape = (plan.size,)
        layers["act"] = make_activation(plan.activation)
        for j, i in enumerate(reversed(range(len(plan.widths)))):
            width, target = plan.widths[i], plan.widths[max(i - 1, 0)]
            stage = [make.up(width, width, 1) for _ in range(plan.blocks[i] - make.min_blocks)]
            stage.append(make.up(width, target, plan.strides[i]))
            layers[f"stage{j + 1}"] = nn.Sequential(*stage)
        layers["out"] = nn.Conv2d(make.expansion * plan.widths[0], plan.shape[0], 3, 1, 1)
        super().__init__(layers, name=make.name, output_shape=plan.shape, latent_dim=plan.size,
                         feature_shape=plan.feature_shape, code_shape=code_shape)
        init_weights(self)
        # PyTorch's default (fan-in, small) init keeps the initial logits near 0 instead
        # of the He init's large spread at the linear output.
        self.out.reset_parameters()
