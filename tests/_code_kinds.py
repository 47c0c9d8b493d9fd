"""One tiny model per kind of code (flat, spatial, sparse TopK) for tests over every tool.

The spatial models are the real ones: ``latent_channels`` maps at the conv net's last stage
(1x1 squeeze), so ``encode`` returns (B, C, h, w). Import with ``from _code_kinds import ...`` (tests/ is on sys.path via its conftest).
"""

from __future__ import annotations

import torch

from autoenc.models import Autoencoder, AutoencoderModule, TopKAutoencoder, VariationalAutoencoder
from autoenc.nets import ConvNet

SHAPE = (1, 8, 8)
MLP = {"encoder": "mlp", "net_options": {"hidden": [16]}}
KINDS = ["flat", "spatial", "topk"]


def make_kind(kind: str, seed: int = 0) -> AutoencoderModule:
    """A small model with a code of ``kind`` on 8 x 8 grey images, all codes of size 8."""
    torch.manual_seed(seed)
    return BUILDERS[kind]().eval()


#: kind -> a builder of a small model with that kind of code, each code of size 8.
BUILDERS = {
    "flat": lambda: Autoencoder(SHAPE, latent_dim=8, **MLP),
    "spatial": lambda: Autoencoder(SHAPE, latent_channels=2, net=ConvNet(widths=[4, 8], downsamples=2)),
    "spatial_vae": lambda: VariationalAutoencoder(SHAPE, latent_channels=2, net=ConvNet(widths=[4, 8], downsamples=2)),
    "topk": lambda: TopKAutoencoder(SHAPE, latent_dim=8, k=3, **MLP),
}


def digits(n: int = 64) -> torch.Tensor:
    """(n, 1, 8, 8) float32 in [0, 1]: scikit-learn's digits."""
    from sklearn.datasets import load_digits

    return (torch.from_numpy(load_digits().images[:n]).float() / 16.0).unsqueeze(1)
