"""The encoder and decoder registries and the factories the models build nets with.

Contract (every registered net keeps it)::

    ENCODERS.get(name)(input_shape, out_features, **options)  # (B, C, H, W) -> (B, out_features)
    DECODERS.get(name)(output_shape, latent_dim, **options)   # (B, latent_dim) -> (B, C, H, W) logits

The encoder and decoder of one name accept the same keyword-only options, so a model can
pass one ``net_options`` dict to both.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from torch import nn

from autoenc.constraints import InstanceOf, check_param
from autoenc.errors import UserError
from autoenc.registry import Registry

#: name -> encoder class ``(input_shape, out_features, **options)``.
ENCODERS: Registry[Callable[..., nn.Module]] = Registry("encoder")
#: name -> decoder class ``(output_shape, latent_dim, **options)``.
DECODERS: Registry[Callable[..., nn.Module]] = Registry("decoder")


def accepted_options(builder: Callable[..., nn.Module]) -> list[str]:
    """Names of the keyword-only options of a net class, in signature order."""
    params = inspect.signature(builder).parameters.values()
    return [p.name for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY]


def _checked_options(
    name: str, builder: Callable[..., nn.Module], options: Mapping[str, Any] | None
) -> dict[str, Any]:
    if options is None:
        return {}
    check_param("net options", [InstanceOf(Mapping, "a mapping of option name to value")], options)
    accepted = accepted_options(builder)
    for key in options:
        if key not in accepted:
            close = difflib.get_close_matches(str(key), accepted, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise UserError(
                f"{name} net does not accept option {key!r}{hint}; "
                f"accepted: {', '.join(accepted) or '(none)'}"
            )
    return dict(options)


def build_encoder(
    name: str,
    input_shape: Sequence[int],
    out_features: int,
    options: Mapping[str, Any] | None = None,
) -> nn.Module:
    """The encoder registered as ``name``: (B, C, H, W) float -> (B, out_features).

    Args:
        name: a name in :data:`ENCODERS` ("mlp", "conv", "resnet").
        input_shape: (C, H, W) of the images.
        out_features: output size (a VAE asks for 2 * latent_dim).
        options: the net's keyword options (e.g. ``{"widths": [32, 64]}``).

    Raises:
        UserError: unknown name, unknown option key, or a bad option value / image size.
    """
    builder = ENCODERS.get(name)
    return builder(input_shape, out_features, **_checked_options(name, builder, options))


def build_decoder(
    name: str,
    output_shape: Sequence[int],
    latent_dim: int,
    options: Mapping[str, Any] | None = None,
) -> nn.Module:
    """The decoder registered as ``name``: (B, latent_dim) -> (B, C, H, W) logits.

    Args:
        name: a name in :data:`DECODERS` ("mlp", "conv", "resnet").
        output_shape: (C, H, W) of the images to produce.
        latent_dim: size of the codes.
        options: the same options as the encoder of that name; the decoder mirrors it.

    Raises:
        UserError: unknown name, unknown option key, or a bad option value / image size.
    """
    builder = DECODERS.get(name)
    return builder(output_shape, latent_dim, **_checked_options(name, builder, options))
