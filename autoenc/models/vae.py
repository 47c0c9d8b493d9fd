"""Variational autoencoder with beta, capacity annealing and the beta-TCVAE objective."""

from __future__ import annotations

import math
from typing import Any, Literal

import torch

from autoenc.constraints import POSITIVE_INT, Constraint, Interval, Null, Options, check_params
from autoenc.errors import UserError
from autoenc.models.base import AutoencoderModule, AutoencoderOutput, register_model
from autoenc.models.heads import CodeHead, PosteriorMeanHead


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, exp(logvar)) || N(0, I)) per dimension: (B, D) nats (Kingma & Welling 2014, App. B)."""
    return 0.5 * (mu.square() + logvar.exp() - 1.0 - logvar)


def gaussian_log_density(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """log N(z; mu, exp(logvar)) per dimension, nats (broadcasting)."""
    return -0.5 * (math.log(2 * math.pi) + logvar + (z - mu).square() * torch.exp(-logvar))


def _log_weights(batch: int, dataset_size: int, estimator: str, like: torch.Tensor) -> torch.Tensor:
    """(B, B) log importance weights of sample j when estimating q(z_i) (Chen et al. 2018, App. C).

    ``mws`` (minibatch weighted sampling): 1 / (N M) for every pair, M = B the batch size.
    ``mss`` (minibatch stratified sampling): with M = B - 1 the other samples, weight 1 / N on
    the sample's own posterior, (N - M) / (N M) on one stratum and 1 / M on the rest.
    """
    n = max(int(dataset_size), batch)
    if estimator == "mws":
        return torch.full((batch, batch), -math.log(n * batch), dtype=like.dtype, device=like.device)
    m = batch - 1
    weights = torch.full((batch, batch), 1.0 / m, dtype=like.dtype, device=like.device)
    flat = weights.view(-1)
    flat[:: m + 1] = 1.0 / n
    flat[1 :: m + 1] = (n - m) / (n * m)
    weights[m - 1, 0] = (n - m) / (n * m)
    return weights.log()


def total_correlation(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor, dataset_size: int,
                      estimator: Literal["mws", "mss"] = "mws") -> torch.Tensor:
    """Minibatch estimate of the total correlation KL(q(z) || prod_d q(z_d)), nats per image
    (Chen et al. 2018, "Isolating Sources of Disentanglement in VAEs", Sec. 4.1 and App. C).

    Args:
        z: (B, D) posterior samples of the batch; mu, logvar: (B, D) the batch's posteriors.
        dataset_size: N, the number of training images (the aggregate posterior is over them).
        estimator: ``mws`` minibatch weighted or ``mss`` minibatch stratified sampling.

    Returns:
        Scalar: mean over the batch of log q(z_i) - sum_d log q(z_i,d).
    """
    batch = z.shape[0]
    if batch < 2:
        raise UserError("the total correlation needs batches of at least 2 images")
    log_q = gaussian_log_density(z[:, None, :], mu[None, :, :], logvar[None, :, :])  # (B, B, D): q(z_i,d | x_j)
    log_w = _log_weights(batch, dataset_size, estimator, z)
    log_qz = torch.logsumexp(log_w + log_q.sum(2), dim=1)
    log_prod = torch.logsumexp(log_w[:, :, None] + log_q, dim=1).sum(1)
    return (log_qz - log_prod).mean()


_NON_NEGATIVE = Interval(float, 0, None, closed="left")
#: The checks of :class:`VariationalAutoencoder`'s own arguments (see :mod:`autoenc.constraints`).
VAE_PARAMS: dict[str, list[Constraint]] = {
    "beta": [_NON_NEGATIVE],
    "capacity_max": [Interval(float, 0, None, closed="left", note="nats"), Null(note="no capacity annealing")],
    "capacity_steps": [POSITIVE_INT],
    "gamma": [_NON_NEGATIVE],
    "tc_beta": [_NON_NEGATIVE, Null(note="no total-correlation term")],
    "tc_estimator": [Options(("mss", "mws"))],
    "tc_dataset_size": [POSITIVE_INT, Null(note="the training split's size")],
}


@register_model
class VariationalAutoencoder(AutoencoderModule):
    """VAE with a diagonal Gaussian posterior and a standard normal prior.

    loss = recon + beta * KL, or, with ``capacity_max`` set (Burgess et al. 2018,
    "Understanding disentangling in beta-VAE"), recon + gamma * |KL - C| where the capacity
    C rises linearly from 0 to ``capacity_max`` nats over ``capacity_steps`` training steps.
    With ``tc_beta`` set (beta-TCVAE, Chen et al. 2018), loss = recon + beta * (KL - TC) +
    tc_beta * TC, where TC is the minibatch estimate of the total correlation of the aggregate
    posterior (:func:`total_correlation`); with beta = 1 this is recon + KL + (tc_beta - 1) TC,
    disentanglement_lib's beta-TCVAE. TC is logged as ``tc`` beside ``kl``.
    All terms are in nats per image (summed over pixels / latent dims, mean over the batch).
    ``encode`` returns the posterior mean; use :meth:`sample` to draw from the prior.

    Args:
        beta: weight of the KL term (1 = the ELBO), >= 0.
        capacity_max: final capacity C in nats (None: no capacity annealing).
        capacity_steps: steps over which C rises to ``capacity_max``.
        gamma: weight of |KL - C| under capacity annealing.
        tc_beta: weight of the total correlation (None: plain (beta-)VAE); >= 0.
        tc_estimator: ``mss`` (minibatch stratified sampling, default) or ``mws`` (minibatch
            weighted sampling). Both give the same gradients up to their bias; the logged MSS
            value matches the analytic TC of a Gaussian aggregate posterior (tested), while
            MWS's value, as published, sits about (D - 1) log(batch size) nats above it.
        tc_dataset_size: N in the estimators; None takes the size of the training split when
            fitting starts (and the batch size outside a fit until then).
        (other arguments: :class:`AutoencoderModule`)
    """

    model_name = "vae"
    has_prior = True

    def __init__(self, input_shape: tuple[int, int, int], latent_dim: int = 10, beta: float = 1.0,
                 capacity_max: float | None = None, capacity_steps: int = 100_000, gamma: float = 1000.0,
                 tc_beta: float | None = None, tc_estimator: Literal["mws", "mss"] = "mss",
                 tc_dataset_size: int | None = None, **kwargs: Any) -> None:
        check_params(VAE_PARAMS, locals())
        if tc_beta is not None and capacity_max is not None:
            raise UserError("tc_beta (beta-TCVAE) and capacity_max (capacity annealing) are two objectives; set one")
        super().__init__(input_shape, latent_dim, **kwargs)

    def encoder_outputs(self) -> int:
        return 2 * self.latent_dim

    def posterior(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x: (B, C, H, W) -> (mu, logvar), each (B, latent_dim)."""
        mu, logvar = self.encoder(x).chunk(2, dim=1)
        return mu, logvar.clamp(-30.0, 20.0)

    def code_head(self) -> CodeHead:
        """The posterior mean: the first half of the encoder's outputs."""
        return PosteriorMeanHead()

    def capacity(self, step: int | None = None) -> float:
        """Target KL C (nats) at ``step`` (default: the current global step)."""
        if self.hparams.capacity_max is None:
            return 0.0
        step = self.global_step if step is None else step
        return self.hparams.capacity_max * min(1.0, step / self.hparams.capacity_steps)

    def on_fit_start(self) -> None:
        """Record the training split's size N for the total-correlation estimators."""
        super().on_fit_start()
        if self.hparams.get("tc_beta") is not None and self.hparams.get("tc_dataset_size") is None:
            splits = getattr(getattr(self.trainer, "datamodule", None), "splits", None) or {}
            if "train" in splits:
                self.hparams["tc_dataset_size"] = int(len(splits["train"]))

    def forward(self, x: torch.Tensor) -> AutoencoderOutput:
        mu, logvar = self.posterior(x)
        z = mu + torch.randn_like(mu) * (0.5 * logvar).exp()
        out = self._output(x, self.truncate_code(z))
        kl_dims = gaussian_kl(mu, logvar)  # (B, D)
        kl = kl_dims.sum(1).mean()
        recon = out.terms["recon"]
        tc_beta = self.hparams.get("tc_beta")
        if tc_beta is not None:
            n = self.hparams.get("tc_dataset_size") or len(x)
            tc = total_correlation(z, mu, logvar, n, self.hparams.get("tc_estimator", "mss"))
            out.loss = recon + self.hparams.beta * (kl - tc) + tc_beta * tc
            out.terms["tc"] = tc
        elif self.hparams.capacity_max is None:
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
