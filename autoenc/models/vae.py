"""Variational autoencoders, one objective per class: the (beta-)VAE, the capacity-annealed
VAE (Burgess et al. 2018) and the beta-TCVAE (Chen et al. 2018)."""

from __future__ import annotations

from typing import Any, Literal

import torch

from autoenc.core.constraints import POSITIVE_INT, Constraint, Interval, Null, Options, check_params
from autoenc.models.autoencoder_module import AutoencoderModule, AutoencoderOutput, register_model
from autoenc.models.heads import CodeHead, PosteriorMeanHead
from autoenc.models.total_correlation import TC_ESTIMATORS, total_correlation


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, exp(logvar)) || N(0, I)) per dimension: (B, D) nats (Kingma & Welling 2014, App. B)."""
    return 0.5 * (mu.square() + logvar.exp() - 1.0 - logvar)


_NON_NEGATIVE = Interval(float, 0, None, closed="left")
#: The checks of :class:`VariationalAutoencoder`'s own arguments (see :mod:`autoenc.core.constraints`).
VAE_PARAMS: dict[str, list[Constraint]] = {"beta": [_NON_NEGATIVE]}
#: The checks of :class:`CapacityVAE`'s own arguments.
CAPACITY_PARAMS: dict[str, list[Constraint]] = {
    "beta": [_NON_NEGATIVE],
    "capacity_max": [Interval(float, 0, None, closed="left", note="nats")],
    "capacity_steps": [POSITIVE_INT],
}
#: The checks of :class:`BetaTCVAE`'s own arguments.
TC_PARAMS: dict[str, list[Constraint]] = {
    "tc_beta": [_NON_NEGATIVE],
    "tc_estimator": [Options(TC_ESTIMATORS.list())],
    "tc_dataset_size": [POSITIVE_INT, Null(note="the training split's size")],
}


@register_model
class VariationalAutoencoder(AutoencoderModule):
    """VAE with a diagonal Gaussian posterior and a standard normal prior; loss = recon + beta * KL
    (beta = 1: the negative ELBO; beta > 1: the beta-VAE of Higgins et al. 2017).

    All terms are in nats per image (summed over pixels / latent dims, mean over the batch).
    ``encode`` returns the posterior mean; use :meth:`sample` to draw from the prior.
    Subclasses change :meth:`objective` only.

    Args:
        beta: weight of the KL term (1 = the ELBO), >= 0.
        (other arguments: :class:`AutoencoderModule`)
    """

    model_name = "vae"
    parameter_constraints = VAE_PARAMS
    has_prior = True

    def __init__(self, input_shape: tuple[int, int, int], latent_dim: int = 10, beta: float = 1.0,
                 **kwargs: Any) -> None:
        check_params(VAE_PARAMS, locals())
        super().__init__(input_shape, latent_dim, **kwargs)

    def encoder_outputs(self) -> int:
        return 2 * self.code_channels

    def posterior(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x: (B, C, H, W) -> (mu, logvar), each (B, *latent_shape) (a spatial code: mean and
        log-variance maps)."""
        mu, logvar = self.encoder(x).chunk(2, dim=1)
        if self.cuda_graph_outputs:  # the decoder's replay may reuse the encoder's output memory
            mu = mu.clone()
        return mu, logvar.clamp(-30.0, 20.0)

    def code_head(self) -> CodeHead:
        """The posterior mean: the first half of the encoder's outputs."""
        return PosteriorMeanHead()

    def forward(self, x: torch.Tensor) -> AutoencoderOutput:
        mu, logvar = self.posterior(x)
        z = mu + torch.randn_like(mu) * (0.5 * logvar).exp()
        out = self._output(x, self.truncate_code(z))
        kl_dims = gaussian_kl(mu, logvar).flatten(1)  # (B, D): D = C * h * w for a spatial code
        kl = kl_dims.sum(1).mean()
        recon = out.terms["recon"]
        out.loss = recon + self.objective(kl, z, mu, logvar, out.terms)
        out.terms.update(kl=kl, neg_elbo=recon + kl)
        out.kl_per_dim = kl_dims.mean(0)
        return out

    def objective(self, kl: torch.Tensor, z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor,
                  terms: dict[str, torch.Tensor]) -> torch.Tensor:
        """The regulariser added to the reconstruction term, nats per image (scalar).

        Args:
            kl: scalar KL(q(z|x) || p(z)), mean over the batch; z, mu, logvar:
                (B, *latent_shape) the posterior samples and parameters; terms: the output's
                terms, to which a subclass adds what it logs.
        """
        return self.hparams.beta * kl

    def kl_per_dim(self, x: torch.Tensor) -> torch.Tensor:
        """(latent_dim,) KL of each element of the flattened code averaged over ``x``, nats."""
        mu, logvar = self.posterior(x)
        return gaussian_kl(mu, logvar).flatten(1).mean(0)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """n images decoded from prior draws z ~ N(0, I): (n, C, H, W) in [0, 1]."""
        z = torch.randn((n, *self.latent_shape), generator=generator).to(self.device)
        return self.decode(z)


@register_model
class CapacityVAE(VariationalAutoencoder):
    """VAE with capacity annealing (Burgess et al. 2018, "Understanding disentangling in
    beta-VAE", Eq. 8): loss = recon + beta * |KL - C|, the capacity C rising linearly from 0
    to ``capacity_max`` nats over ``capacity_steps`` training steps. The target C is logged as
    ``capacity`` beside ``kl``.

    Args:
        beta: weight of |KL - C| (the paper's gamma; 1000 there), >= 0.
        capacity_max: final capacity C, nats.
        capacity_steps: training steps over which C rises to ``capacity_max``.
        (other arguments: :class:`AutoencoderModule`)
    """

    model_name = "capacity_vae"
    parameter_constraints = CAPACITY_PARAMS

    def __init__(self, input_shape: tuple[int, int, int], latent_dim: int = 10, beta: float = 1000.0,
                 capacity_max: float = 25.0, capacity_steps: int = 100_000, **kwargs: Any) -> None:
        check_params(CAPACITY_PARAMS, locals())
        super().__init__(input_shape, latent_dim, beta, **kwargs)

    def capacity(self, step: int | None = None) -> float:
        """Target KL C (nats) at ``step`` (default: the current global step)."""
        step = self.global_step if step is None else step
        return self.hparams.capacity_max * min(1.0, step / self.hparams.capacity_steps)

    def objective(self, kl: torch.Tensor, z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor,
                  terms: dict[str, torch.Tensor]) -> torch.Tensor:
        c = self.capacity()
        terms["capacity"] = torch.tensor(c, dtype=kl.dtype, device=kl.device)
        return self.hparams.beta * (kl - c).abs()


@register_model
class BetaTCVAE(VariationalAutoencoder):
    """beta-TCVAE (Chen et al. 2018, "Isolating Sources of Disentanglement in VAEs"):
    loss = recon + beta * (KL - TC) + tc_beta * TC, where TC is a minibatch estimate of the
    total correlation of the aggregate posterior (:mod:`autoenc.models.total_correlation`).
    With beta = 1 this is recon + KL + (tc_beta - 1) TC, disentanglement_lib's beta-TCVAE.

    Logged beside ``kl``: ``tc`` and ``tc_batch_size``, the number of images M the estimate
    saw (its mean over the batches when averaged over an epoch). The TC estimate depends on
    M: it is a property of the model *and* the batch size, so report it with M.

    Args:
        beta: weight of KL - TC (the index-code mutual information plus the dimension-wise
            KL), >= 0.
        tc_beta: weight of the total correlation, >= 0.
        tc_estimator: ``mss`` (minibatch stratified sampling, default: unbiased for q(z)
            before the log) or ``mws`` (minibatch weighted sampling: offset by a term that
            depends on N and M, see :func:`~autoenc.models.total_correlation.mws_log_weights`).
            The offset does not depend on the parameters, so both give nearly the same gradients.
        tc_dataset_size: N in the estimators; None takes the size of the training split when
            fitting starts (and the batch size outside a fit until then). A batch larger than N
            takes N = the batch size.
        (other arguments: :class:`AutoencoderModule`)
    """

    model_name = "tcvae"
    parameter_constraints = TC_PARAMS

    def __init__(self, input_shape: tuple[int, int, int], latent_dim: int = 10, beta: float = 1.0,
                 tc_beta: float = 6.0, tc_estimator: Literal["mss", "mws"] = "mss",
                 tc_dataset_size: int | None = None, **kwargs: Any) -> None:
        check_params(TC_PARAMS, locals())
        super().__init__(input_shape, latent_dim, beta, **kwargs)

    def on_fit_start(self) -> None:
        """Record the training split's size N for the total-correlation estimators."""
        super().on_fit_start()
        if self.hparams.get("tc_dataset_size") is None:
            splits = getattr(getattr(self.trainer, "datamodule", None), "splits", None) or {}
            if "train" in splits:
                self.hparams["tc_dataset_size"] = int(len(splits["train"]))

    def objective(self, kl: torch.Tensor, z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor,
                  terms: dict[str, torch.Tensor]) -> torch.Tensor:
        batch = len(z)
        n = max(self.hparams.tc_dataset_size or batch, batch)
        # a spatial code (B, C, h, w) is D = C * h * w dimensions here
        tc = total_correlation(z.flatten(1), mu.flatten(1), logvar.flatten(1), n, self.hparams.tc_estimator)
        terms["tc"] = tc
        terms["tc_batch_size"] = torch.tensor(float(batch), dtype=kl.dtype, device=kl.device)
        return self.hparams.beta * (kl - tc) + self.hparams.tc_beta * tc
