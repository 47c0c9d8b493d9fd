"""Checks of a net's shape arguments and the stride plan shared by the convolutional nets.

The net options themselves are checked by their classes (:mod:`autoenc.nets.options`).
Every check raises a one-line :class:`~autoenc.core.errors.UserError` naming the argument, what
it accepts and the value given.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from autoenc.core.constraints import IMAGE_SHAPE, POSITIVE_INT, check_param
from autoenc.core.errors import UserError

#: Automatic downsampling stops before H or W would drop below this many pixels.
MIN_AUTO_SIZE = 4


def check_shape(shape: object, name: str) -> tuple[int, int, int]:
    """``shape`` as a ``(C, H, W)`` tuple of positive ints; refuses anything else."""
    c, h, w = (int(s) for s in check_param(name, [IMAGE_SHAPE], shape))
    return c, h, w


def check_size(value: object, name: str) -> int:
    """``value`` as an int >= 1 (latent_dim, out_features)."""
    return int(check_param(name, [POSITIVE_INT], value))


def _halvings(height: int, width: int) -> int:
    """How many times H and W can both be halved exactly."""
    k = 0
    while height % 2 ** (k + 1) == 0 and width % 2 ** (k + 1) == 0:
        k += 1
    return k


def auto_downsamples(height: int, width: int, n_stages: int) -> int:
    """The number of stride-2 stages chosen when the user leaves ``downsamples`` unset.

    As many as there are stages, while H and W stay exact integers and neither drops below
    :data:`MIN_AUTO_SIZE`: 8x8 -> 1 (4x4), 28x28 -> 2 (7x7), 32x32 -> 3 (4x4), 64x64 -> 3 (8x8)
    with three stages.
    """
    k, most = 0, min(n_stages, _halvings(height, width))
    while k < most and min(height, width) // 2 ** (k + 1) >= MIN_AUTO_SIZE:
        k += 1
    return k


def stage_strides(height: int, width: int, n_stages: int, downsamples: int | None, net: str) -> tuple[int, ...]:
    """The stride (2 or 1) of each stage: the first ``downsamples`` stages halve H and W.

    Args:
        height, width: image size in pixels.
        n_stages: number of stages (``len(widths)``).
        downsamples: the (checked) option: None for :func:`auto_downsamples`, else an int in
            ``[0, n_stages]``; H and W must then be divisible by ``2**downsamples``.
        net: what to call the net in messages ("conv encoder").

    Raises:
        UserError: an image size it cannot halve that often; the
            message names the sizes and settings that work.
    """
    if downsamples is None:
        k = auto_downsamples(height, width, n_stages)
    else:
        k = int(downsamples)
        factor = 2**k
        if height % factor or width % factor:
            size = f"{height}" if height == width else f"{height}x{width}"
            if height == width:
                lower = (height // factor) * factor
                examples = " or ".join(str(s) for s in (lower, lower + factor) if s > 0)
                sizes = f"image size {examples} (a multiple of {factor})"
            else:
                sizes = f"an image height and width that are multiples of {factor}"
            most = min(n_stages, _halvings(height, width))
            raise UserError(f"image size {size} is not divisible by 2**{k} = {factor} that the {net} "
                            f"with downsamples={k} needs; use {sizes}, downsamples <= {most}, "
                            f"or leave downsamples unset to choose automatically")
    return (2,) * k + (1,) * (n_stages - k)


def reduced_size(height: int, width: int, strides: Sequence[int]) -> tuple[int, int]:
    """(H, W) after the stages with ``strides``."""
    factor = math.prod(strides)
    return height // factor, width // factor
