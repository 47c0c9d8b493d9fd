"""Parameter and multiply-add counts of a module for one input shape.

>>> from autoenc.nets.cost import bottleneck_vs_plain
>>> costs = bottleneck_vs_plain(256, 64, 56)
>>> costs["bottleneck"].params, costs["two_3x3"].params
(70400, 1180672)

Multiply-adds (MACs) are counted per image for the layers that do them: ``Conv2d``,
``ConvTranspose2d`` and ``Linear`` (norms, activations and additions are not counted, as in
the ResNet paper's FLOP figures). They are measured by running the module once on a zero
batch of one image with forward hooks, so any module built from those layers is counted
as it really runs (strides, padding, groups).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from autoenc.core.constraints import POSITIVE_INT, ListOf, check_param
from autoenc.core.errors import UserError
from autoenc.nets.layers import Bottleneck, conv_block


@dataclass(frozen=True)
class Cost:
    """What one forward pass of a module costs.

    Attributes:
        params: number of parameters (all of them, norms included).
        macs: multiply-adds per image of its convolutions and linear layers.
    """

    params: int
    macs: int


def _layer_macs(module: nn.Module, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> int:
    """Multiply-adds per image of one conv / linear call (batch of one)."""
    if isinstance(module, nn.ConvTranspose2d):
        # every input element is multiplied into a kh x kw patch of each output channel of its group
        per_input = module.out_channels // module.groups * module.kernel_size[0] * module.kernel_size[1]
        return inputs[0][0].numel() * per_input
    if isinstance(module, nn.Conv2d):
        per_output = module.in_channels // module.groups * module.kernel_size[0] * module.kernel_size[1]
        return output[0].numel() * per_output
    assert isinstance(module, nn.Linear)
    return output[0].numel() * module.in_features


def count_cost(module: nn.Module, input_shape: Sequence[int]) -> Cost:
    """Parameters of ``module`` and its multiply-adds for one input of ``input_shape``.

    Args:
        module: any module whose work is in Conv2d / ConvTranspose2d / Linear layers.
        input_shape: shape of one input without the batch axis, e.g. (C, H, W).

    Returns:
        :class:`Cost` (params: count; macs: multiply-adds per image).
    """
    shape = tuple(int(s) for s in check_param("input_shape", [ListOf(POSITIVE_INT, non_empty=True)], input_shape))
    total = 0

    def hook(m: nn.Module, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
        nonlocal total
        total += _layer_macs(m, inputs, output)

    counted = (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)
    handles = [m.register_forward_hook(hook) for m in module.modules() if isinstance(m, counted)]
    was_training = module.training
    try:
        module.eval()
        param = next(module.parameters(), None)
        x = torch.zeros((1, *shape), dtype=param.dtype if param is not None else torch.float32,
                        device=param.device if param is not None else None)
        with torch.no_grad():
            module(x)
    finally:
        for h in handles:
            h.remove()
        module.train(was_training)
    return Cost(params=sum(p.numel() for p in module.parameters()), macs=total)


def bottleneck_vs_plain(channels: int = 256, width: int = 64, size: int = 56) -> dict[str, Cost]:
    """The textbook comparison (He et al. 2016, fig. 5): a ResNet bottleneck block
    (1x1 ``channels`` -> ``width``, 3x3 ``width`` -> ``width``, 1x1 -> ``channels``) against
    two 3x3 conv blocks at ``channels`` channels, both built from this project's layers and
    counted on a ``channels`` x ``size`` x ``size`` feature map.

    Returns:
        ``{"bottleneck": Cost, "two_3x3": Cost}``.
    """
    if channels != Bottleneck.expansion * width:
        raise UserError(f"a bottleneck block maps {Bottleneck.expansion} * width channels to themselves; "
                        f"got channels={channels}, width={width}")
    shape = (channels, size, size)
    plain = nn.Sequential(conv_block(channels, channels), conv_block(channels, channels))
    return {"bottleneck": count_cost(Bottleneck(channels, width), shape), "two_3x3": count_cost(plain, shape)}
