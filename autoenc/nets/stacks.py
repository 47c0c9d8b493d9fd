"""Base classes of the registered nets: ``nn.Sequential`` stacks that know their shapes.

A net is a ``nn.Sequential`` of named children (``stage1``, ..., ``fc``), so its layers can
be addressed by name for feature extraction and the forward pass is a plain chain.
The only extra work per call is a shape check that turns a wrong input into one line
instead of a matrix-size error deep inside.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import Tensor, nn

from autoenc.core.errors import UserError


class _ShapedStack(nn.Sequential):
    """A named ``nn.Sequential`` that knows its last feature map and code shapes."""

    def __init__(self, layers: OrderedDict[str, nn.Module], name: str, feature_shape: tuple[int, ...],
                 code_shape: tuple[int, ...]) -> None:
        super().__init__(layers)
        self.name = name
        self.feature_shape = feature_shape
        self.code_shape = code_shape


class Encoder(_ShapedStack):
    """Images -> vectors: (B, C, H, W) float -> (B, out_features).

    Attributes:
        input_shape: (C, H, W) it was built for.
        out_features: size of the output vector (a VAE asks for 2 * latent_dim).
        feature_shape: (C', H', W') of the last feature map before flattening; for an MLP,
            the width of the last hidden layer as ``(n,)``.
        code_shape: shape of one output: ``(out_features,)``, or ``(out_features, h, w)``
            for a spatial code.
    """

    def __init__(self, layers: OrderedDict[str, nn.Module], *, name: str, input_shape: tuple[int, int, int],
                 out_features: int, feature_shape: tuple[int, ...], code_shape: tuple[int, ...] | None = None) -> None:
        super().__init__(layers, name, feature_shape, code_shape or (out_features,))
        self.input_shape = input_shape
        self.out_features = out_features

    def forward(self, x: Tensor) -> Tensor:
        """x: (B, C, H, W) float -> (B, *code_shape)."""
        if x.shape[1:] != self.input_shape:
            raise UserError(
                f"{self.name} encoder was built for images of shape (B, "
                f"{', '.join(map(str, self.input_shape))}), got {tuple(x.shape)}; "
                f"build it with input_shape={tuple(x.shape[1:])}"
            )
        return _float32_under_autocast(super().forward(x))


def _float32_under_autocast(out: Tensor) -> Tensor:
    """A net's output in float32 when autocast (e.g. ``precision="bf16-mixed"``) ran its
    layers in lower precision, so the loss terms (KL, log-likelihood) are computed and summed
    in float32; unchanged otherwise."""
    if out.dtype != torch.float32 and out.is_floating_point() and torch.is_autocast_enabled(out.device.type):
        return out.float()
    return out


class Decoder(_ShapedStack):
    """Codes -> image logits: (B, *code_shape) -> (B, C, H, W), no final sigmoid.

    Attributes:
        output_shape: (C, H, W) of the images it produces.
        latent_dim: size of the codes it takes (channels of a spatial code).
        feature_shape: shape the codes are first projected to (mirror of the encoder's).
        code_shape: ``(latent_dim,)``, or ``(latent_dim, h, w)`` for a spatial code.
    """

    def __init__(self, layers: OrderedDict[str, nn.Module], *, name: str, output_shape: tuple[int, int, int],
                 latent_dim: int, feature_shape: tuple[int, ...], code_shape: tuple[int, ...] | None = None) -> None:
        super().__init__(layers, name, feature_shape, code_shape or (latent_dim,))
        self.output_shape = output_shape
        self.latent_dim = latent_dim

    def forward(self, z: Tensor) -> Tensor:
        """z: (B, *code_shape) -> (B, C, H, W) logits."""
        if tuple(z.shape[1:]) != self.code_shape:
            raise UserError(
                f"{self.name} decoder was built for codes of shape (B, "
                f"{', '.join(map(str, self.code_shape))}), got {tuple(z.shape)}"
            )
        return _float32_under_autocast(super().forward(z))
