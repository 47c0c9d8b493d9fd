"""The MSS and MWS estimators of log q(z) and of the total correlation (Chen et al. 2018,
Sec. 4.1 and App. C): against a loop-by-loop implementation of the paper's formulas, and
against the exact TC of an aggregate posterior that can be enumerated."""

from __future__ import annotations

import math

import pytest
import torch

from autoenc.core.errors import UserError
from autoenc.models.total_correlation import (
    TC_ESTIMATORS,
    gaussian_log_density,
    mss_log_weights,
    mws_log_weights,
    total_correlation,
)


# -- (a) the paper's formulas, written out with loops in float64 ---------------------------------
def paper_weight(estimator: str, i: int, j: int, m: int, n: int) -> float:
    """w_ij of Chen et al. 2018: MWS 1 / (N M); MSS with K = M - 1 other images: 1 / N for
    the own posterior, (N - K) / (N K) for one other image (the next one), 1 / K otherwise."""
    if estimator == "mws":
        return 1.0 / (n * m)
    k = m - 1
    if j == i:
        return 1.0 / n
    if j == (i + 1) % m:
        return (n - k) / (n * k)
    return 1.0 / k


def normal_pdf(x: float, mean: float, logvar: float) -> float:
    var = math.exp(logvar)
    return math.exp(-((x - mean) ** 2) / (2 * var)) / math.sqrt(2 * math.pi * var)


def tc_by_loops(z: list[list[float]], mu: list[list[float]], logvar: list[list[float]], n: int,
                estimator: str) -> float:
    m, d = len(z), len(z[0])
    total = 0.0
    for i in range(m):
        joint = sum(paper_weight(estimator, i, j, m, n)
                    * math.prod(normal_pdf(z[i][k], mu[j][k], logvar[j][k]) for k in range(d)) for j in range(m))
        marginals = [sum(paper_weight(estimator, i, j, m, n) * normal_pdf(z[i][k], mu[j][k], logvar[j][k])
                         for j in range(m)) for k in range(d)]
        total += math.log(joint) - sum(math.log(q) for q in marginals)
    return total / m


@pytest.mark.parametrize("estimator", ["mss", "mws"])
@pytest.mark.parametrize(("m", "d", "n"), [(2, 1, 2), (5, 3, 50), (7, 2, 7), (9, 4, 1000)])
def test_estimators_match_the_papers_formula(estimator: str, m: int, d: int, n: int) -> None:
    g = torch.Generator().manual_seed(m * 100 + d)
    mu = torch.randn(m, d, generator=g, dtype=torch.float64)
    logvar = 0.5 * torch.randn(m, d, generator=g, dtype=torch.float64) - 0.5
    z = mu + (0.5 * logvar).exp() * torch.randn(m, d, generator=g, dtype=torch.float64)
    expected = tc_by_loops(z.tolist(), mu.tolist(), logvar.tolist(), n, estimator)
    assert float(total_correlation(z, mu, logvar, n, estimator)) == pytest.approx(expected, rel=1e-10, abs=1e-12)


def test_stratified_weights_put_one_over_n_on_each_samples_own_posterior() -> None:
    """The released code's indexing put 1/N in column 0 for every row but the first
    (rtqichen/beta-tcvae PR #1); here each row's own posterior gets it, and rows sum to 1."""
    w = mss_log_weights(6, 40, torch.zeros((), dtype=torch.float64)).exp()
    torch.testing.assert_close(torch.diagonal(w), torch.full((6,), 1 / 40, dtype=torch.float64))
    torch.testing.assert_close(w.sum(1), torch.ones(6, dtype=torch.float64))
    assert float(w[1, 0]) == pytest.approx(1 / 5)
    assert set(TC_ESTIMATORS.list()) == {"mss", "mws"}
    torch.testing.assert_close(mws_log_weights(3, 10, w), torch.full((3, 3), -math.log(30), dtype=torch.float64))


@pytest.mark.parametrize(("m", "n", "message"), [
    (1, 10, r"batch size must be an integer >= 2, got 1"),
    (8, 5, r"dataset_size must be an integer >= 8 \(the batch's images are some of it\), got 5"),
])
def test_sizes_the_estimators_cannot_take(m: int, n: int, message: str) -> None:
    z = torch.zeros(m, 2)
    with pytest.raises(UserError, match=message):
        total_correlation(z, z, z, n, "mss")


def test_unknown_estimator_lists_the_known_ones() -> None:
    z = torch.zeros(4, 2)
    with pytest.raises(UserError, match=r"unknown total-correlation estimator 'iw'.*Known: mss, mws"):
        total_correlation(z, z, z, 10, "iw")


# -- (b) an aggregate posterior that can be enumerated -------------------------------------------
N, D = 24, 3


def small_model() -> tuple[torch.Tensor, torch.Tensor]:
    """The posteriors of N = 24 images: q(z | x_n) = N(mu_n, diag(exp(logvar_n))), D = 3,
    with means on a correlated curve so the aggregate posterior's TC is clearly above 0."""
    g = torch.Generator().manual_seed(1)
    t = torch.linspace(-2, 2, N, dtype=torch.float64)
    mu = torch.stack([t, t.square() - 1.3, 0.8 * t + 0.3 * torch.randn(N, generator=g, dtype=torch.float64)], 1)
    logvar = torch.log(0.05 + 0.1 * torch.rand(N, D, generator=g, dtype=torch.float64))
    return mu, logvar


def log_mixture(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Exact log q(z) (S,) and log q(z_d) (S, D) of the mixture (1/N) sum_n q(z | x_n) at z (S, D)."""
    log_q = gaussian_log_density(z[:, None, :], mu[None], logvar[None])  # (S, N, D)
    return (torch.logsumexp(log_q.sum(2), 1) - math.log(len(mu)),
            torch.logsumexp(log_q, 1) - math.log(len(mu)))


def exact_tc(mu: torch.Tensor, logvar: torch.Tensor, samples: int = 200_000) -> tuple[float, float]:
    """E_q(z)[log q(z) - sum_d log q(z_d)] with q(z) evaluated exactly, the expectation over
    ``samples`` draws of q(z): (TC, its standard error), nats."""
    g = torch.Generator().manual_seed(2)
    n = torch.randint(len(mu), (samples,), generator=g)
    z = mu[n] + (0.5 * logvar[n]).exp() * torch.randn(samples, mu.shape[1], generator=g, dtype=torch.float64)
    joint, marginals = log_mixture(z, mu, logvar)
    values = joint - marginals.sum(1)
    return float(values.mean()), float(values.std() / math.sqrt(samples))


def mean_estimate(mu: torch.Tensor, logvar: torch.Tensor, m: int, estimator: str, repeats: int) -> float:
    """The estimator's mean over ``repeats`` epochs of batches of m images drawn without
    replacement (as a shuffling data loader does), each image with a fresh posterior sample."""
    g = torch.Generator().manual_seed(3)
    values = []
    for _ in range(repeats):
        order = torch.randperm(N, generator=g)
        for start in range(0, N - m + 1, m):
            b = order[start : start + m]
            z = mu[b] + (0.5 * logvar[b]).exp() * torch.randn(m, D, generator=g, dtype=torch.float64)
            values.append(float(total_correlation(z, mu[b], logvar[b], N, estimator)))
    return sum(values) / len(values)


@pytest.fixture(scope="module")
def enumerable() -> tuple[torch.Tensor, torch.Tensor, float, float]:
    mu, logvar = small_model()
    tc, stderr = exact_tc(mu, logvar)
    return mu, logvar, tc, stderr


def test_exact_tc_of_the_small_model_is_well_determined(enumerable) -> None:
    _, _, tc, stderr = enumerable
    assert tc > 0.5 and stderr < 0.01


def test_stratified_estimate_approaches_the_exact_tc_as_the_batch_grows_to_n(enumerable) -> None:
    mu, logvar, tc, _ = enumerable
    errors = {m: abs(mean_estimate(mu, logvar, m, "mss", repeats=4000 // N) - tc) for m in (3, 6, 12, 24)}
    assert errors[24] < 0.05, errors
    assert errors[3] > errors[6] > errors[12] > errors[24], errors


def mws_offset(mu: torch.Tensor, logvar: torch.Tensor, m: int, samples: int = 50_000) -> float:
    """The offset of the MWS estimate stated in ``mws_log_weights``'s docstring:
    E[log r - sum_d log r_d], r = (rho + (M - 1)(N - rho) / (N - 1)) / (N M), with
    rho = q(z | x_n) / q(z) for the joint and each marginal, z ~ q(z | x_n), n uniform."""
    g = torch.Generator().manual_seed(5)
    n = torch.randint(N, (samples,), generator=g)
    z = mu[n] + (0.5 * logvar[n]).exp() * torch.randn(samples, D, generator=g, dtype=torch.float64)
    joint, marginals = log_mixture(z, mu, logvar)
    own = gaussian_log_density(z, mu[n], logvar[n])

    def log_r(log_rho: torch.Tensor) -> torch.Tensor:
        rho = log_rho.exp()
        return torch.log((rho + (m - 1) * (N - rho) / (N - 1)) / (N * m))

    return float((log_r(own.sum(1) - joint) - log_r(own - marginals).sum(1)).mean())


def test_weighted_estimate_is_offset_by_d_minus_1_log_n_on_the_whole_data_set(enumerable) -> None:
    """With the whole data set as the batch (M = N, each image once) the MWS sum is exactly
    N q(z_i) / (N M) = q(z_i) / N for the joint and each marginal: TC + (D - 1) log N."""
    mu, logvar, tc, _ = enumerable
    mws = mean_estimate(mu, logvar, N, "mws", repeats=400)
    assert mws - (D - 1) * math.log(N) == pytest.approx(tc, abs=0.05)


@pytest.mark.parametrize(("m", "tolerance"), [(6, 0.3), (12, 0.15)])
def test_weighted_estimate_offset_follows_the_documented_formula(enumerable, m: int, tolerance: float) -> None:
    """At M < N the offset depends on M and N through r (the Jensen gap, which the formula
    leaves out, shrinks as M grows)."""
    mu, logvar, tc, _ = enumerable
    measured = mean_estimate(mu, logvar, m, "mws", repeats=100) - tc
    assert measured == pytest.approx(mws_offset(mu, logvar, m), abs=tolerance)
    assert measured > 5.0  # nats above the exact TC: not a property of the model
