"""Minibatch estimators of log q(z) and of the total correlation (pure functions).

Chen et al. 2018, "Isolating Sources of Disentanglement in Variational Autoencoders",
Sec. 4.1 and App. C. The aggregate posterior of a data set of N images is the mixture
q(z) = (1/N) sum_n q(z | x_n); a minibatch of M images (x_1 .. x_M, posterior samples
z_i ~ q(z | x_i)) estimates log q(z_i) from the M posteriors it holds:

    log q(z_i) ~ log sum_j w_ij q(z_i | x_j)

with weights ``w`` of shape (M, M) per estimator, and the same weights for each marginal
q(z_i,d). The total correlation KL(q(z) || prod_d q(z_d)) is then estimated as
mean_i [log q(z_i) - sum_d log q(z_i,d)], in nats per image.

* **MWS**, minibatch weighted sampling (Sec. 4.1): w_ij = 1 / (N M).
* **MSS**, minibatch stratified sampling (App. C): with K = M - 1 the other images of the
  batch, w_ii = 1 / N for the sample's own posterior, (N - K) / (N K) for one other image
  (here the next one, j = i + 1 mod M) and 1 / K for the remaining K - 1. The weights of a
  row sum to 1. Chen et al.'s released code puts the 1 / N in column 0 for every row but the
  first (rtqichen/beta-tcvae PR #1; YannDubs/disentangling-vae issue 58); here it is on the
  diagonal, as the paper says.

Every function takes float tensors on any device; the math is in the tensors' dtype.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from autoenc.core.constraints import Interval, check_param
from autoenc.core.registry import Registry

#: Log-weight builders by estimator name: (batch size M, data set size N, like) -> (M, M).
TC_ESTIMATORS: Registry[Callable[[int, int, torch.Tensor], torch.Tensor]] = Registry("total-correlation estimator")


def gaussian_log_density(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """log N(z; mu, exp(logvar)) per dimension, nats (broadcasting)."""
    return -0.5 * (math.log(2 * math.pi) + logvar + (z - mu).square() * torch.exp(-logvar))


def pairwise_log_density(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """log q(z_i,d | x_j) for every pair of a batch.

    Args:
        z: (M, D) posterior samples; mu, logvar: (M, D) the diagonal Gaussian posteriors.

    Returns:
        (M, M, D): entry [i, j, d] = log N(z_i,d; mu_j,d, exp(logvar_j,d)), nats.
    """
    return gaussian_log_density(z[:, None, :], mu[None, :, :], logvar[None, :, :])


def _check_sizes(batch: int, dataset_size: int) -> None:
    check_param("the total correlation's batch size", [Interval(int, 2, None, closed="left")], batch)
    check_param("dataset_size", [Interval(int, batch, None, closed="left", note="the batch's images are some of it")],
                dataset_size)


@TC_ESTIMATORS.register("mws")
def mws_log_weights(batch: int, dataset_size: int, like: torch.Tensor) -> torch.Tensor:
    """(M, M) log weights of minibatch weighted sampling: every entry -log(N M).

    Bias: write rho_i = q(z_i | x_i) / q(z_i) in (0, N] for how much the sample's own
    posterior stands out of the mixture (rho_i,d the same for dimension d). Over batches whose
    other M - 1 images are drawn from the other N - 1 without replacement (a shuffling loader),
    the weighted sum (1 / (N M)) sum_j q(z_i | x_j) has mean q(z_i) r_i with

        r_i = (rho_i + (M - 1) (N - rho_i) / (N - 1)) / (N M),

    so log q(z_i) is estimated about log r_i off (and log q(z_i,d) about log r_i,d), and the
    TC estimate is offset by about mean_i [log r_i - sum_d log r_i,d] (less a Jensen gap that
    shrinks with M). With the whole data set as the batch (M = N) r = 1 / N exactly, an offset
    of (D - 1) log N. When the own posterior dominates the joint (rho_i ~ N, typical of a code
    in several dimensions) but not the marginals (rho_i,d ~ 1), the offset is about
    D log N - log M + D log(M / (M - 1)). It depends on N and M, not on the parameters, so
    compare MWS values only at equal N and M (tested in tests/models/test_total_correlation.py).

    like: a tensor whose dtype and device the weights take.
    """
    _check_sizes(batch, dataset_size)
    return torch.full((batch, batch), -math.log(dataset_size * batch), dtype=like.dtype, device=like.device)


@TC_ESTIMATORS.register("mss")
def mss_log_weights(batch: int, dataset_size: int, like: torch.Tensor) -> torch.Tensor:
    """(M, M) log weights of minibatch stratified sampling (Chen et al. 2018, App. C).

    Row i: 1 / N on column i (the sample's own posterior), (N - K) / (N K) on column
    (i + 1) mod M, 1 / K elsewhere, K = M - 1. Each row sums to 1.

    Bias: the own posterior has its exact weight 1 / N and the other M - 1 images stand for
    the other N - 1 with total weight (N - 1) / N, so over batches whose other images are
    drawn uniformly the weighted sum has mean q(z_i) (up to using q(z_i) for the mixture
    without x_i, a difference of order 1 / N): unbiased for q(z_i). Its log, and so the TC
    estimate, is biased only by Jensen's inequality, about -Var / (2 q(z_i)^2), which shrinks
    as 1 / M; with M = N it is exact but for the one stratum weight. Tested against the
    exact TC of an enumerable aggregate posterior (tests/models/test_total_correlation.py).

    like: a tensor whose dtype and device the weights take.
    """
    _check_sizes(batch, dataset_size)
    n, k = dataset_size, batch - 1
    weights = torch.full((batch, batch), 1.0 / k, dtype=torch.float64)
    rows = torch.arange(batch)
    weights[rows, (rows + 1) % batch] = (n - k) / (n * k)
    weights[rows, rows] = 1.0 / n
    return weights.log().to(dtype=like.dtype, device=like.device)


def log_aggregate_posterior(log_q: torch.Tensor, log_weights: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Estimates of log q(z_i) and of log q(z_i,d) from a batch.

    Args:
        log_q: (M, M, D) from :func:`pairwise_log_density`.
        log_weights: (M, M) from one of :data:`TC_ESTIMATORS`.

    Returns:
        (log q(z_i) (M,), log q(z_i,d) (M, D)), nats.
    """
    joint = torch.logsumexp(log_weights + log_q.sum(2), dim=1)
    marginals = torch.logsumexp(log_weights[:, :, None] + log_q, dim=1)
    return joint, marginals


def total_correlation(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor, dataset_size: int,
                      estimator: str = "mss") -> torch.Tensor:
    """Minibatch estimate of the total correlation KL(q(z) || prod_d q(z_d)), nats per image.

    Args:
        z: (M, D) posterior samples of the batch, M >= 2; mu, logvar: (M, D) its posteriors.
        dataset_size: N >= M, the number of images the aggregate posterior is over.
        estimator: a name in :data:`TC_ESTIMATORS` (``mss`` or ``mws``; see their biases).

    Returns:
        Scalar: mean over the batch of log q(z_i) - sum_d log q(z_i,d). It depends on the
        batch size M (strongly for ``mws``): report it with M.
    """
    weights = TC_ESTIMATORS.get(estimator)
    log_w = weights(z.shape[0], dataset_size, z)
    joint, marginals = log_aggregate_posterior(pairwise_log_density(z, mu, logvar), log_w)
    return (joint - marginals.sum(1)).mean()
