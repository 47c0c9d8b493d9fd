"""Known answers for the losses: the ELBO recomputed by hand from the module's own
submodules, both likelihoods against their formulas, the beta and capacity objectives."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from autoenc.models import Autoencoder, CapacityVAE, VariationalAutoencoder, gaussian_kl
from autoenc.models.likelihoods import bernoulli_nll, gaussian_nll

SHAPE = (1, 4, 4)


def tiny_vae(**kwargs) -> VariationalAutoencoder:
    return VariationalAutoencoder(SHAPE, latent_dim=2, encoder="mlp", net_options={"hidden": [5]}, **kwargs)


@torch.no_grad()
def tiny_capacity_vae(**kwargs) -> CapacityVAE:
    return CapacityVAE(SHAPE, latent_dim=2, encoder="mlp", net_options={"hidden": [5]}, **kwargs)


def by_hand(model: VariationalAutoencoder, x: torch.Tensor, seed: int) -> dict[str, torch.Tensor]:
    """mu, logvar, eps, z, logits, the Bernoulli NLL and the Gaussian KL, written out."""
    enc = model.encoder
    h = F.relu(enc.fc1(x.flatten(1)))  # the mlp encoder: flatten, fc1, relu, fc2
    stats = enc.fc2(h)
    mu, logvar = stats[:, :2], stats[:, 2:]  # first half mean, second half log-variance
    torch.manual_seed(seed)
    eps = torch.randn(mu.shape)
    z = mu + eps * torch.exp(0.5 * logvar)
    logits = model.decoder(z)
    p = torch.sigmoid(logits.double())
    nll = -(x * torch.log(p) + (1 - x) * torch.log1p(-p)).flatten(1).sum(1)  # nats per image
    kl = 0.5 * (mu.square() + logvar.exp() - 1 - logvar).sum(1)  # Kingma & Welling, App. B
    return {"mu": mu, "logvar": logvar, "z": z, "logits": logits, "recon": nll.mean(), "kl": kl.mean()}


def test_vae_elbo_equals_the_hand_computation() -> None:
    model = tiny_vae().eval()
    x = torch.rand(3, *SHAPE)
    torch.manual_seed(123)
    out = model(x)  # its first random draw is eps
    hand = by_hand(model, x, seed=123)

    mu, logvar = model.posterior(x)
    torch.testing.assert_close(mu, hand["mu"])
    torch.testing.assert_close(logvar, hand["logvar"])
    torch.testing.assert_close(model.encode(x), hand["mu"])  # encode = posterior mean
    torch.testing.assert_close(out.z, hand["z"])
    torch.testing.assert_close(out.logits, hand["logits"])
    torch.testing.assert_close(out.terms["recon"].double(), hand["recon"], rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(out.terms["kl"], hand["kl"], rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(out.terms["neg_elbo"].double(), hand["recon"] + hand["kl"], rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(out.loss.double(), hand["recon"] + hand["kl"], rtol=1e-5, atol=1e-5)
    assert float(hand["kl"]) > 1e-3  # a real KL, so a missing term would show


def test_beta_multiplies_the_kl_only() -> None:
    model = tiny_vae(beta=2.5).eval()
    x = torch.rand(3, *SHAPE)
    torch.manual_seed(5)
    out = model(x)
    hand = by_hand(model, x, seed=5)
    torch.testing.assert_close(out.loss.double(), hand["recon"] + 2.5 * hand["kl"], rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(out.terms["neg_elbo"].double(), hand["recon"] + hand["kl"], rtol=1e-5, atol=1e-5)


def test_kl_per_dimension_sums_to_the_kl() -> None:
    model = tiny_vae().eval()
    x = torch.rand(6, *SHAPE)
    out = model(x)
    assert out.kl_per_dim.shape == (2,)
    torch.testing.assert_close(out.kl_per_dim.sum(), out.terms["kl"])
    torch.testing.assert_close(model.kl_per_dim(x), out.kl_per_dim)


def test_gaussian_kl_known_values() -> None:
    mu = torch.tensor([[0.0, 1.0, 0.0]])
    logvar = torch.tensor([[0.0, 0.0, math.log(4.0)]])
    # KL(N(m, s^2) || N(0, 1)) = (m^2 + s^2 - 1 - log s^2) / 2
    expected = torch.tensor([[0.0, 0.5, 0.5 * (4.0 - 1.0 - math.log(4.0))]])
    torch.testing.assert_close(gaussian_kl(mu, logvar), expected)


def test_bernoulli_nll_matches_the_distribution() -> None:
    logits = torch.randn(4, 1, 3, 3)
    x = torch.randint(0, 2, (4, 1, 3, 3)).float()
    expected = -torch.distributions.Bernoulli(logits=logits).log_prob(x).flatten(1).sum(1)
    torch.testing.assert_close(bernoulli_nll(logits, x), expected)


@pytest.mark.parametrize("sigma", [0.1, 0.5])
def test_gaussian_nll_by_hand(sigma: float) -> None:
    logits = torch.randn(4, 3, 2, 2, dtype=torch.float64)
    x = torch.rand(4, 3, 2, 2, dtype=torch.float64)
    mean = torch.sigmoid(logits)
    d = 3 * 2 * 2
    hand = ((x - mean) ** 2).flatten(1).sum(1) / (2 * sigma**2) + d * (math.log(sigma) + 0.5 * math.log(2 * math.pi))
    torch.testing.assert_close(gaussian_nll(logits, x, sigma), hand)
    torch.testing.assert_close(
        gaussian_nll(logits, x, sigma), -torch.distributions.Normal(mean, sigma).log_prob(x).flatten(1).sum(1))


def test_gaussian_likelihood_model_reports_the_hand_nll() -> None:
    model = Autoencoder(SHAPE, latent_dim=2, encoder="mlp", net_options={"hidden": [5]},
                        likelihood="gaussian", sigma=0.3).eval()
    x = torch.rand(5, *SHAPE)
    out = model(x)
    mean = torch.sigmoid(model.decoder(model.encoder(x)))
    hand = ((x - mean) ** 2).flatten(1).sum(1) / (2 * 0.3**2) + 16 * (math.log(0.3) + 0.5 * math.log(2 * math.pi))
    torch.testing.assert_close(out.recon_nll, hand)
    torch.testing.assert_close(out.loss, hand.mean())
    torch.testing.assert_close(out.terms["recon"], hand.mean())


# -- capacity annealing (Burgess et al. 2018) ----------------------------------------------------
@pytest.mark.parametrize(("step", "expected"), [(0, 0.0), (50, 12.5), (100, 25.0), (101, 25.0), (10_000, 25.0)])
def test_capacity_schedule(step: int, expected: float) -> None:
    model = tiny_capacity_vae(capacity_max=25.0, capacity_steps=100)
    assert model.capacity(step) == pytest.approx(expected)


def test_capacity_follows_the_global_step(monkeypatch: pytest.MonkeyPatch) -> None:
    model = tiny_capacity_vae(capacity_max=10.0, capacity_steps=40)
    monkeypatch.setattr(CapacityVAE, "global_step", property(lambda self: 10))
    assert model.capacity() == pytest.approx(2.5)


@pytest.mark.parametrize("offset", [-3.0, 0.0, 4.0])
def test_capacity_loss_is_beta_times_abs_kl_minus_c(monkeypatch: pytest.MonkeyPatch, offset: float) -> None:
    """loss = recon + beta * |KL - C| with C on either side of the KL (and equal to it)."""
    gamma = 7.0
    model = tiny_capacity_vae(capacity_max=100.0, capacity_steps=1000, beta=gamma).eval()
    x = torch.rand(3, *SHAPE)
    hand = by_hand(model, x, seed=9)
    c = float(hand["kl"]) + offset
    monkeypatch.setattr(CapacityVAE, "global_step", property(lambda self: c / 100.0 * 1000))
    torch.manual_seed(9)
    out = model(x)
    assert float(out.terms["capacity"]) == pytest.approx(c, rel=1e-5)
    expected = hand["recon"] + gamma * abs(offset)
    torch.testing.assert_close(out.loss.double(), expected, rtol=1e-4, atol=1e-3)
    torch.testing.assert_close(out.terms["kl"], hand["kl"], rtol=1e-5, atol=1e-6)  # logged KL is the raw KL
