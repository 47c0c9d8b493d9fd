"""The factories the nets are built with by name (``mlp``, ``conv``, ``resnet``).

Contract (every registered net keeps it)::

    NETS.get(name)(**options).encoder(input_shape, out_features)  # (B, C, H, W) -> (B, out_features)
    NETS.get(name)(**options).decoder(output_shape, latent_dim)   # (B, latent_dim) -> (B, C, H, W) logits

The encoder and decoder of one net are built from the same typed options
(:mod:`autoenc.nets.options`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from torch import nn

from autoenc.nets.options import NETS, NetOptions


def net_options(name: str, options: Mapping[str, Any] | NetOptions | None = None) -> NetOptions:
    """The options of net ``name`` from keyword options (``{"widths": [32, 64]}``), or
    ``options`` itself when it already is a :class:`NetOptions`.

    Raises:
        UserError: unknown name or a bad option value. TypeError: an option the net does
            not have (Python's message names it).
    """
    if isinstance(options, NetOptions):
        return options
    return NETS.get(name)(**dict(options or {}))


def build_encoder(name: str, input_shape: Sequence[int], out_features: int,
                  options: Mapping[str, Any] | NetOptions | None = None, *, spatial: bool = False) -> nn.Module:
    """The encoder of net ``name``: (B, C, H, W) float -> (B, out_features), or with
    ``spatial`` (B, out_features, h, w). ``options``: see :func:`net_options`."""
    return net_options(name, options).encoder(input_shape, out_features, spatial=spatial)


def build_decoder(name: str, output_shape: Sequence[int], latent_dim: int,
                  options: Mapping[str, Any] | NetOptions | None = None, *, spatial: bool = False) -> nn.Module:
    """The decoder of net ``name``: (B, latent_dim) (spatial: (B, latent_dim, h, w)) ->
    (B, C, H, W) logits. ``options``: see :func:`net_options`."""
    return net_options(name, options).decoder(output_shape, latent_dim, spatial=spatial)
