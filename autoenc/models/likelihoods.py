"""Reconstruction likelihoods p(x | z): negative log-likelihoods in nats per image.

The decoder outputs logits; the image mean is ``sigmoid(logits)`` for every likelihood, so
decoded images always lie in [0, 1].
"""

from __future__ import annotations

import math
from typing import Protocol

import torch
import torch.nn.functional as F

from autoenc.core.registry import Registry


class Likelihood(Protocol):
    def __call__(self, logits: torch.Tensor, x: torch.Tensor, sigma: float) -> torch.Tensor:
        """logits, x: (B, C, H, W); returns (B,) negative log-likelihood, summed over pixels, nats."""
        ...


LIKELIHOODS: Registry[Likelihood] = Registry("likelihood")


@LIKELIHOODS.register("bernoulli")
def bernoulli_nll(logits: torch.Tensor, x: torch.Tensor, sigma: float = 1.0) -> torch.Tensor:
    """-log Bernoulli(x | sigmoid(logits)) summed over pixels; x in [0, 1] (continuous
    targets give the cross-entropy, the usual "continuous Bernoulli-free" convention)."""
    return F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)


@LIKELIHOODS.register("gaussian")
def gaussian_nll(logits: torch.Tensor, x: torch.Tensor, sigma: float = 0.1) -> torch.Tensor:
    """-log N(x | sigmoid(logits), sigma^2 I) summed over pixels, fixed ``sigma``."""
    mean = torch.sigmoid(logits)
    sq = (x - mean).square().flatten(1).sum(1)
    d = x[0].numel()
    return sq / (2 * sigma**2) + d * (math.log(sigma) + 0.5 * math.log(2 * math.pi))
