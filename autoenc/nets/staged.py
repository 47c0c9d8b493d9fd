"""The staged convolutional encoder/decoder skeleton that the ``conv`` and ``resnet`` nets share.

A staged net is planned by :class:`~autoenc.nets._plan.StagePlan` (checked options, one
stride per stage, the last feature map) and assembled from an architecture's
:class:`StageBlocks`, which only says how one block looks:

Encoder: ``[stem]``, then per stage ``i`` a strided block ``down(channels, widths[i],
strides[i])`` and ``blocks[i] - min_blocks`` blocks ``same(widths[i])``; flatten; a
linear layer to ``out_features``.

Decoder: a linear layer to the encoder's last feature map, unflatten, activation; per stage
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
from typing import Any, ClassVar

from torch import nn

from autoenc.nets._plan import StagePlan
from autoenc.nets.base import Decoder, Encoder
from autoenc.nets.layers import init_weights, make_activation


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


def _plan(
    blocks: type[StageBlocks],
    shape: object,
    size: object,
    names: tuple[str, str],
    role: str,
    options: dict[str, Any],
) -> StagePlan:
    return StagePlan(
        shape,
        names[0],
        size,
        names[1],
        f"{blocks.name} {role}",
        min_blocks=blocks.min_blocks,
        expansion=blocks.expansion,
        **options,
    )


class StagedEncoder(Encoder):
    """Images -> vectors through the stages of ``blocks``: (B, C, H, W) -> (B, out_features).

    Subclasses set :attr:`blocks` and declare the options (and their defaults) in their
    own typed signature (the config and ``--help``); see the module docstring for the layout.
    """

    blocks: ClassVar[type[StageBlocks]]

    def __init__(self, input_shape: tuple[int, int, int], out_features: int, **options: Any) -> None:
        """``options``: widths, blocks_per_stage, downsamples, norm, activation (see the subclasses)."""
        plan = _plan(self.blocks, input_shape, out_features, ("input_shape", "out_features"), "encoder", options)
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
        layers["flatten"] = nn.Flatten()
        layers["fc"] = nn.Linear(math.prod(plan.feature_shape), plan.size)
        super().__init__(layers, name=make.name, input_shape=plan.shape, out_features=plan.size,
                         feature_shape=plan.feature_shape)
        init_weights(self)


class StagedDecoder(Decoder):
    """Mirror of :class:`StagedEncoder`: (B, latent_dim) -> (B, C, H, W) logits."""

    blocks: ClassVar[type[StageBlocks]]

    def __init__(self, output_shape: tuple[int, int, int], latent_dim: int, **options: Any) -> None:
        """``options``: widths, blocks_per_stage, downsamples, norm, activation (see the subclasses)."""
        plan = _plan(self.blocks, output_shape, latent_dim, ("output_shape", "latent_dim"), "decoder", options)
        make = self.blocks(plan.norm, plan.activation)
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        layers["fc"] = nn.Linear(plan.size, math.prod(plan.feature_shape))
        layers["unflatten"] = nn.Unflatten(1, plan.feature_shape)
        layers["act"] = make_activation(plan.activation)
        for j, i in enumerate(reversed(range(len(plan.widths)))):
            width, target = plan.widths[i], plan.widths[max(i - 1, 0)]
            stage = [make.up(width, width, 1) for _ in range(plan.blocks[i] - make.min_blocks)]
            stage.append(make.up(width, target, plan.strides[i]))
            layers[f"stage{j + 1}"] = nn.Sequential(*stage)
        layers["out"] = nn.Conv2d(make.expansion * plan.widths[0], plan.shape[0], 3, 1, 1)
        super().__init__(layers, name=make.name, output_shape=plan.shape, latent_dim=plan.size,
                         feature_shape=plan.feature_shape)
        init_weights(self)
        # PyTorch's default (fan-in, small) init keeps the initial logits near 0 instead
        # of the He init's large spread at the linear output.
        self.out.reset_parameters()
