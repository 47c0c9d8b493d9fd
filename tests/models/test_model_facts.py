"""Model facts are class attributes (``has_prior``, ``is_denoising``) that analysis code reads,
not methods it probes for."""

from __future__ import annotations

import pytest
import torch
from _tiny_models import model_options

from autoenc.core.errors import UserError
from autoenc.measure.codes import latent_stats, posterior_all
from autoenc.measure.generate import default_interpolation, sample
from autoenc.models import MODELS, Autoencoder, AutoencoderModule

SHAPE = (1, 8, 8)
MLP = {"encoder": "mlp", "net_options": {"hidden": [4]}}
FACTS = {"ae": (False, False), "dae": (False, True), "vae": (True, False), "capacity_vae": (True, False),
         "tcvae": (True, False),
         "topk": (False, False)}


def test_every_registered_model_declares_its_facts() -> None:
    assert set(MODELS.list()) == set(FACTS)
    for name, (has_prior, is_denoising) in FACTS.items():
        cls = MODELS.get(name)
        assert (cls.has_prior, cls.is_denoising) == (has_prior, is_denoising), name
        # the VAE family's interface is there exactly when the fact says so
        assert all(callable(getattr(cls, m, None)) for m in ("posterior", "kl_per_dim", "sample")) == has_prior


@pytest.mark.parametrize("name", sorted(FACTS))
def test_analysis_follows_has_prior(name: str) -> None:
    torch.manual_seed(0)
    model = MODELS.get(name)(SHAPE, latent_dim=3, **MLP, **model_options(name)).eval()
    images = torch.rand(6, *SHAPE)
    stats = latent_stats(model, images)
    assert stats.variational == model.has_prior
    assert (stats.measure, stats.unit) == (("KL", "nats") if model.has_prior else ("var", ""))
    assert default_interpolation(model) == ("slerp" if model.has_prior else "linear")
    assert sample(model, 2, codes=stats.codes).source.startswith("prior" if model.has_prior else "a Gaussian")


class _AutoencoderWithAPosteriorMethod(Autoencoder):
    """A plain autoencoder that happens to have methods named like a VAE's."""

    def posterior(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z = self.encode(x)
        return z, torch.zeros_like(z)

    def kl_per_dim(self, x: torch.Tensor) -> torch.Tensor:
        return torch.zeros(self.latent_dim)


def test_method_names_do_not_make_a_model_variational() -> None:
    model = _AutoencoderWithAPosteriorMethod(SHAPE, latent_dim=3, **MLP).eval()
    assert isinstance(model, AutoencoderModule) and not model.has_prior
    assert not latent_stats(model, torch.rand(4, *SHAPE)).variational
    with pytest.raises(UserError, match="has no posterior; only a VAE does"):
        posterior_all(model, torch.rand(4, *SHAPE))
