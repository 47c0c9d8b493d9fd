"""Code heads: the step of ``model.encode`` after the encoder net, as small parameter-free modules.

``model.encode(x) == head(model.encoder(x)).reshape(B, *model.latent_shape)`` for every model
(tested over the registry). An exported encoder stores the head's registered name and options
(plain data) beside the net's weights, so it reproduces ``model.encode`` exactly without the
model class: a VAE's posterior mean, a TopK code, a spatial map are not slices of the net.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from autoenc.core.registry import Registry

#: name -> CodeHead subclass; ``HEADS.get(name)(**options)`` rebuilds a head from an export.
HEADS: Registry[type[CodeHead]] = Registry("code head")


class CodeHead(nn.Module):
    """Encoder net output (B, out_features or (B, C', h, w)) -> code (B, ...); no parameters.

    ``name`` is the registered name; :meth:`options` the constructor arguments as plain data.
    """

    name = ""

    def options(self) -> dict[str, Any]:
        return {}

    def spec(self) -> dict[str, Any]:
        """``{"name": ..., "options": {...}}``: what an export stores to rebuild this head."""
        return {"name": self.name, "options": self.options()}


def build_head(spec: dict[str, Any]) -> CodeHead:
    """The head of a :meth:`CodeHead.spec` dict (an unknown name lists the known ones)."""
    return HEADS.get(spec["name"])(**dict(spec.get("options") or {}))


@HEADS.register("identity")
class IdentityHead(CodeHead):
    """The net's output is the code (plain and denoising autoencoders)."""

    name = "identity"

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return h


@HEADS.register("posterior_mean")
class PosteriorMeanHead(CodeHead):
    """The first half of the net's channels / features: the mean of a Gaussian posterior whose
    net outputs (mean, log-variance) stacked along dim 1 (flat (B, 2D) or spatial (B, 2C, h, w))."""

    name = "posterior_mean"

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return h.chunk(2, dim=1)[0]


@HEADS.register("topk")
class TopKHead(CodeHead):
    """Per image, keep the ``k`` largest pre-activations, ReLU them, zero the rest (Gao et al.
    2024, "Scaling and evaluating sparse autoencoders", Sec. 2.3: z = ReLU(TopK(W x + b))).

    (B, D) -> (B, D) with at most ``k`` non-zeros per row: exactly ``k`` unless some of the
    k largest pre-activations are <= 0, which ReLU zeroes.
    """

    name = "topk"

    def __init__(self, k: int) -> None:
        super().__init__()
        self.k = int(k)

    def options(self) -> dict[str, Any]:
        return {"k": self.k}

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        flat = h.flatten(1)
        values, index = flat.topk(self.k, dim=1, sorted=False)
        return torch.zeros_like(flat).scatter_(1, index, values.relu()).view_as(h)
