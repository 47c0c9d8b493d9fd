"""One tiny model per kind of code (flat, spatial, sparse TopK) for tests over every tool.

The spatial model is test-only (not registered): its encode returns (B, C, h, w) through the
same base ``encode`` (net -> code head -> reshape to ``latent_shape``), so tools written
against ``model.latent_shape`` and ``model.encode`` are tested before the real spatial nets
exist. Import with ``from _code_kinds import ...`` (tests/ is on sys.path via its conftest).
"""

from __future__ import annotations

import math
from typing import Any

import torch

from autoenc.models import Autoencoder, AutoencoderModule, TopKAutoencoder, VariationalAutoencoder

SHAPE = (1, 8, 8)
MLP = {"encoder": "mlp", "net_options": {"hidden": [16]}}
KINDS = ["flat", "spatial", "topk"]


class _Spatial:
    """Mixin: a (C, h, w) code from a flat net (C*h*w outputs per code half), decoded flat."""

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z.flatten(1))


class SpatialAutoencoder(_Spatial, Autoencoder):
    """Test-only plain autoencoder whose encode returns (B, C, h, w)."""

    def __init__(self, input_shape: tuple[int, int, int], latent_channels: int = 2,
                 latent_grid: tuple[int, int] = (2, 2), **kwargs: Any) -> None:
        shape = (latent_channels, *latent_grid)
        super().__init__(input_shape, math.prod(shape), **kwargs)
        self.latent_shape = shape


class SpatialVAE(_Spatial, VariationalAutoencoder):
    """Test-only VAE whose posterior mean is (B, C, h, w): the net's (mu, logvar) halves, each
    reshaped (a spatial net would output (B, 2C, h, w))."""

    def __init__(self, input_shape: tuple[int, int, int], latent_channels: int = 2,
                 latent_grid: tuple[int, int] = (2, 2), **kwargs: Any) -> None:
        shape = (latent_channels, *latent_grid)
        super().__init__(input_shape, math.prod(shape), **kwargs)
        self.latent_shape = shape


def make_kind(kind: str, seed: int = 0) -> AutoencoderModule:
    """A small model with a code of ``kind`` on 8 x 8 grey images, all codes of size 8."""
    torch.manual_seed(seed)
    return BUILDERS[kind]().eval()


#: kind -> a builder of a small model with that kind of code, each code of size 8.
BUILDERS = {
    "flat": lambda: Autoencoder(SHAPE, latent_dim=8, **MLP),
    "spatial": lambda: SpatialAutoencoder(SHAPE, latent_channels=2, latent_grid=(2, 2), **MLP),
    "spatial_vae": lambda: SpatialVAE(SHAPE, latent_channels=2, latent_grid=(2, 2), **MLP),
    "topk": lambda: TopKAutoencoder(SHAPE, latent_dim=8, k=3, **MLP),
}


def digits(n: int = 64) -> torch.Tensor:
    """(n, 1, 8, 8) float32 in [0, 1]: scikit-learn's digits."""
    from sklearn.datasets import load_digits

    return (torch.from_numpy(load_digits().images[:n]).float() / 16.0).unsqueeze(1)
