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

from autoenc.errors import UserError


class Encoder(nn.Sequential):
    """Images -> vectors: (B, C, H, W) float -> (B, out_features).

    Attributes:
        input_shape: (C, H, W) it was built for.
        out_features: size of the output vector (a VAE asks for 2 * latent_dim).
        feature_shape: (C', H', W') of the last feature map before flattening; for an MLP,
            the width of the last hidden layer as ``(n,)``.
    """

    def __init__(
        self,
        layers: OrderedDict[str, nn.Module],
        *,
        name: str,
        input_shape: tuple[int, int, int],
        out_features: int,
        feature_shape: tuple[int, ...],
    ) -> None:
        super().__init__(layers)
        self.name = name
        self.input_shape = input_shape
        self.out_features = out_features
        self.feature_shape = feature_shape

    def forward(self, x: Tensor) -> Tensor:
        """x: (B, C, H, W) float -> (B, out_features)."""
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


class Decoder(nn.Sequential):
    """Codes -> image logits: (B, latent_dim) -> (B, C, H, W), no final sigmoid.

    Attributes:
        output_shape: (C, H, W) of the images it produces.
        latent_dim: size of the codes it takes.
        feature_shape: shape the codes are first projected to (mirror of the encoder's).
    """

    def __init__(
        self,
        layers: OrderedDict[str, nn.Module],
        *,
        name: str,
        output_shape: tuple[int, int, int],
        latent_dim: int,
        feature_shape: tuple[int, ...],
    ) -> None:
        super().__init__(layers)
        self.name = name
        self.output_shape = output_shape
        self.latent_dim = latent_dim
        self.feature_shape = feature_shape

    def forward(self, z: Tensor) -> Tensor:
        """z: (B, latent_dim) -> (B, C, H, W) logits."""
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise UserError(
                f"{self.name} decoder was built for codes of shape (B, {self.latent_dim}), "
                f"got {tuple(z.shape)}"
            )
        return _float32_under_autocast(super().forward(z))
