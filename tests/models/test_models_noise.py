"""Denoising: the corruptions keep [0, 1] and their stated rates; the denoising autoencoder
corrupts only its input, never the target, and only while training."""

from __future__ import annotations

import math

import pytest
import torch

from autoenc.models import NOISES, DenoisingAutoencoder
from autoenc.models.likelihoods import bernoulli_nll

N = 200_000  # pixels per rate check: 4 standard errors of a rate p are <= 0.0045


def tolerance(p: float) -> float:
    return 4 * math.sqrt(p * (1 - p) / N) + 1e-6


def pixels(value: float | None = None) -> torch.Tensor:
    g = torch.Generator().manual_seed(1)
    x = torch.rand(N // 400, 1, 20, 20, generator=g)
    return torch.full_like(x, value) if value is not None else x


@pytest.mark.parametrize("name", NOISES.list())
@pytest.mark.parametrize("level", [0.0, 0.3, 1.0])
def test_noise_keeps_unit_range_and_input(name: str, level: float) -> None:
    x = pixels()
    before = x.clone()
    y = NOISES.get(name)(x, level)
    assert y.shape == x.shape and y.dtype == x.dtype
    assert float(y.min()) >= 0.0 and float(y.max()) <= 1.0
    torch.testing.assert_close(x, before, rtol=0, atol=0)  # the input is never modified


@pytest.mark.parametrize("name", NOISES.list())
def test_noise_level_zero_is_identity(name: str) -> None:
    x = pixels()
    torch.testing.assert_close(NOISES.get(name)(x, 0.0), x, rtol=0, atol=0)


@pytest.mark.parametrize("name", NOISES.list())
def test_noise_is_reproducible_with_a_generator(name: str) -> None:
    x = pixels()
    a = NOISES.get(name)(x, 0.3, torch.Generator().manual_seed(7))
    b = NOISES.get(name)(x, 0.3, torch.Generator().manual_seed(7))
    c = NOISES.get(name)(x, 0.3, torch.Generator().manual_seed(8))
    torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert not torch.equal(a, c)


@pytest.mark.parametrize("p", [0.1, 0.5, 1.0])
def test_masking_zeroes_pixels_at_rate_p(p: float) -> None:
    x = pixels(0.7)
    y = NOISES.get("masking")(x, p)
    zeroed = (y == 0).float().mean().item()
    assert zeroed == pytest.approx(p, abs=tolerance(p))
    kept = y != 0
    torch.testing.assert_close(y[kept], x[kept], rtol=0, atol=0)  # survivors are untouched


@pytest.mark.parametrize("p", [0.1, 0.4])
def test_salt_and_pepper_replaces_pixels_at_rate_p_half_salt(p: float) -> None:
    x = pixels(0.5)
    y = NOISES.get("salt_and_pepper")(x, p)
    changed = y != 0.5
    assert changed.float().mean().item() == pytest.approx(p, abs=tolerance(p))
    assert set(y[changed].unique().tolist()) <= {0.0, 1.0}
    salt = (y[changed] == 1.0).float().mean().item()
    assert salt == pytest.approx(0.5, abs=4 * math.sqrt(0.25 / changed.sum().item()))


@pytest.mark.parametrize("sigma", [0.05, 0.1])
def test_gaussian_noise_has_std_sigma_and_is_clipped(sigma: float) -> None:
    x = pixels(0.5)  # 0.5 is > 5 sigma from both ends: clipping is negligible
    d = NOISES.get("gaussian")(x, sigma) - x
    assert d.mean().item() == pytest.approx(0.0, abs=4 * sigma / math.sqrt(N))
    assert d.std().item() == pytest.approx(sigma, rel=0.02)
    edge = NOISES.get("gaussian")(pixels(1.0), sigma)
    assert float(edge.max()) == 1.0 and (edge == 1.0).float().mean().item() == pytest.approx(0.5, abs=0.01)


# -- the denoising autoencoder -----------------------------------------------------------------
def dae(noise: str = "masking", level: float = 1.0) -> DenoisingAutoencoder:
    return DenoisingAutoencoder((1, 6, 6), latent_dim=3, noise=noise, noise_level=level,
                                encoder="mlp", net_options={"hidden": [8]})


def test_masking_p1_loss_is_the_clean_nll_of_the_all_zero_code() -> None:
    """With every input pixel masked, the encoder sees zeros; the loss must still be the NLL
    of the CLEAN image, and the batch must come out of the step unchanged."""
    model = dae("masking", 1.0).train()
    with torch.no_grad():  # decode to dark images, so the NLL of x and of zeros differ a lot
        model.decoder.fc2.bias.fill_(-3.0)
    x = torch.rand(8, 1, 6, 6) * 0.2 + 0.8
    before = x.clone()
    loss = model.training_step((x, None), 0)
    with torch.no_grad():
        logits = model.decode_logits(model.encode(torch.zeros_like(x)))
        clean = bernoulli_nll(logits, x).mean()
        corrupted = bernoulli_nll(logits, torch.zeros_like(x)).mean()
    torch.testing.assert_close(loss.detach(), clean)
    assert float(loss.detach()) > 10 * float(corrupted)  # the target is not the corrupted input
    loss.backward()
    torch.testing.assert_close(x, before, rtol=0, atol=0)


@pytest.mark.parametrize("noise", NOISES.list())
def test_training_target_is_clean_for_every_noise(noise: str) -> None:
    model = dae(noise, 0.4).train()
    x = torch.rand(8, 1, 6, 6)
    out = model.training_output(x)
    torch.testing.assert_close(out.recon_nll, bernoulli_nll(out.logits, x))


def test_corruption_happens_only_in_training() -> None:
    model = dae("masking", 1.0).eval()
    x = torch.rand(4, 1, 6, 6)
    out = model(x)  # validation / features: the clean image goes in
    with torch.no_grad():
        torch.testing.assert_close(out.z, model.encode(x))
        assert not torch.allclose(out.z, model.encode(torch.zeros_like(x)))
    torch.testing.assert_close(model.training_output(x).z, model.encode(torch.zeros_like(x)))
