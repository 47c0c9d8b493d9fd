"""Variational autoencoder with beta and capacity annealing."""

from __future__ import annotations

from typing import Any

import torch

from autoenc.errors import UserError
from autoenc.models.base import AutoencoderModule, AutoencoderOutput, register_model


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, exp(logvar)) || N(0, I)) per dimension: (B, D) nats (Kingma & Welling 2014, App. B)."""
    return 0.5 * (mu.square() + logvar.exp() - 1.0 - logvar)


@register_model
class VariationalAutoencoder(AutoencoderModule):
    """VAE with a diagonal Gaussian posterior and a standard normal prior.

    loss = recon + beta * KL, or, with ``capacity_max`` set (Burgess et al. 2018,
    "Understanding disentangling in beta-VAE"), recon + gamma * |KL - C| where the capacity
    C rises linearly from 0 to ``capacity_max`` nats over ``capacity_steps`` training steps.
    All terms are in nats per image (summed over pixels / latent dims, mean over the batch).
    ``encode`` returns the posterior mean; use :meth:`sample` to draw from the prior.

    Args:
        beta: weight of the KL term (1 = the ELBO), >= 0.
        capacity_max: final capacity C in nats (None: no capacity annealing).
        capacity_steps: steps over which C rises to ``capacity_max``.
        gamma: weight of |KL - C| under capacity annealing.
        (other arguments: :class:`AutoencoderModule`)
    """

    model_name = "vae"

    def __init__(self, input_shape: tuple[int, int, int], latent_dim: int = 10, beta: float = 1.0,
                 capacity_max: float | None = None, capacity_steps: int = 100_000, gamma: float = 1000.0,
                 **kwargs: Any) -> None:
        if beta < 0:
            raise UserError(f"beta must be >= 0, got {beta}")
        if capacity_max is not None and capacity_max < 0:
            raise UserError(f"capacity_max must be >= 0 nats, got {capacity_max}")
        if capacity_steps < 1:
            raise UserError(f"capacity_steps must be >= 1, got {capacity_steps}")
        if gamma < 0:
            raise UserError(f"gamma must be >= 0, got {gamma}")
        super().__init__(input_shape, latent_dim, **kwargs)

    def encoder_outputs(self) -> int:
        return 2 * self.latent_dim

    def posterior(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x: (B, C, H, W) -> (mu, logvar), each (B, latent_dim)."""
        mu, logvar = self.encoder(x).chunk(2, dim=1)
        return mu, logvar.clamp(-30.0, 20.0)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """The posterior mean (B, latent_dim)."""
        return self.posterior(x)[0]

    def capacity(self, step: int | None = None) -> float:
        """Target KL C (nats) at ``step`` (default: the current global step)."""
        if self.hparams.capacity_max is None:
            return 0.0
        step = self.global_step if step is None else step
        return self.hparams.capacity_max * min(1.0, step / self.hparams.capacity_steps)

    def forward(self, x: torch.Tensor) -> AutoencoderOutput:
        mu, logvar = self.posterior(x)
        z = mu + torch.randn_like(mu) * (0.5 * logvar).exp()
        out = self._output(x, self.truncate_code(z))
        kl_dims = gaussian_kl(mu, logvar)  # (B, D)
        kl = kl_dims.sum(1).mean()
        recon = out.terms["recon"]
        if self.hparams.capacity_max is None:
            out.loss = recon + self.hparams.beta * kl
        else:
            c = self.capacity()
            out.loss = recon + self.hparams.gamma * (kl - c).abs()
            out.terms["capacity"] = torch.tensor(c, dtype=recon.dtype, device=recon.device)
        out.terms.update(kl=kl, neg_elbo=recon + kl)
        out.kl_per_dim = kl_dims.mean(0)
        return out

    def kl_per_dim(self, x: torch.Tensor) -> torch.Tensor:
        """(latent_dim,) KL of each dimension averaged over ``x``, nats."""
        mu, logvar = self.posterior(x)
        return gaussian_kl(mu, logvar).mean(0)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """n images decoded from prior draws z ~ N(0, I): (n, C, H, W) in [0, 1]."""
        z = torch.randn((n, self.latent_dim), generator=generator).to(self.device)
        return self.decode(z)
