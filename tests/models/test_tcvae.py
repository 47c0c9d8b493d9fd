"""beta-TCVAE: the total-correlation estimators against an analytic answer, the objective, the option."""

from __future__ import annotations

import math

import pytest
import torch

from autoenc.errors import UserError
from autoenc.models import VariationalAutoencoder
from autoenc.models.vae import total_correlation

MLP = {"encoder": "mlp", "net_options": {"hidden": [16]}}


def gaussian_posteriors(n: int, rho: float, seed: int = 0) -> tuple[torch.Tensor, ...]:
    """Posteriors N(mu_n, 0.25 I) with mu ~ N(0, [[1, rho], [rho, 1]]): the aggregate posterior
    is N(0, S), S = [[1.25, rho], [rho, 1.25]], whose TC is 0.5 (sum log diag S - log det S)."""
    g = torch.Generator().manual_seed(seed)
    cov = torch.tensor([[1.0, rho], [rho, 1.0]], dtype=torch.float64)
    mu = torch.randn(n, 2, generator=g, dtype=torch.float64) @ torch.linalg.cholesky(cov).T
    logvar = torch.full_like(mu, math.log(0.25))
    z = mu + 0.5 * torch.randn(n, 2, generator=g, dtype=torch.float64)
    s = cov + 0.25 * torch.eye(2, dtype=torch.float64)
    return z, mu, logvar, 0.5 * (torch.log(torch.diag(s)).sum() - torch.logdet(s))


@pytest.mark.parametrize("rho", [0.0, 0.8])
def test_stratified_estimate_matches_the_analytic_total_correlation(rho: float) -> None:
    z, mu, logvar, true = gaussian_posteriors(8192, rho)
    batch = 512
    estimates = [total_correlation(z[i : i + batch], mu[i : i + batch], logvar[i : i + batch], len(z), "mss")
                 for i in range(0, len(z), batch)]
    assert float(torch.stack(estimates).mean()) == pytest.approx(float(true), abs=0.03)


def test_weighted_estimate_is_offset_by_log_batch_per_extra_dimension() -> None:
    z, mu, logvar, true = gaussian_posteriors(1024, 0.8)
    mws = total_correlation(z, mu, logvar, len(z), "mws")
    assert float(mws) == pytest.approx(float(true) + math.log(1024), abs=0.1)
    with pytest.raises(UserError, match="at least 2 images"):
        total_correlation(z[:1], mu[:1], logvar[:1], 10)


def test_tc_objective_reweights_only_the_total_correlation() -> None:
    x = torch.rand(16, 1, 8, 8)
    plain = VariationalAutoencoder((1, 8, 8), latent_dim=3, beta=2.0, **MLP)
    tc = VariationalAutoencoder((1, 8, 8), latent_dim=3, beta=2.0, tc_beta=6.0, tc_dataset_size=100, **MLP)
    tc.load_state_dict(plain.state_dict())
    torch.manual_seed(0)
    a = plain(x)
    torch.manual_seed(0)
    b = tc(x)
    assert "tc" in b.terms and "tc" not in a.terms
    expected = a.terms["recon"] + 2.0 * (a.terms["kl"] - b.terms["tc"]) + 6.0 * b.terms["tc"]
    torch.testing.assert_close(b.loss, expected)
    torch.testing.assert_close(b.loss - a.loss, 4.0 * b.terms["tc"])
    b.loss.backward()  # differentiable


@pytest.mark.parametrize(("options", "message"), [
    ({"tc_beta": -1.0}, "tc_beta must be a number >= 0 or null \\(no total-correlation term\\)"),
    ({"tc_beta": 6.0, "capacity_max": 25.0}, "two objectives; set one"),
    ({"tc_beta": 6.0, "tc_estimator": "iw"}, "tc_estimator must be one of 'mss', 'mws', got 'iw'"),
    ({"tc_beta": 6.0, "tc_dataset_size": 0}, "tc_dataset_size must be an integer >= 1"),
])
def test_bad_tc_options(options: dict, message: str) -> None:
    with pytest.raises(UserError, match=message):
        VariationalAutoencoder((1, 8, 8), latent_dim=3, **MLP, **options)


def test_fit_records_the_training_split_size_and_logs_tc(tmp_path) -> None:
    import lightning as L

    from autoenc.data import ImageDataModule

    dm = ImageDataModule("digits", subset=120, batch_size=32, val_fraction=0.25)
    model = VariationalAutoencoder(dm.input_shape, latent_dim=3, tc_beta=6.0, **MLP)
    trainer = L.Trainer(max_steps=2, limit_val_batches=1, logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False, default_root_dir=tmp_path,
                        log_every_n_steps=1)
    trainer.fit(model, dm)
    assert model.hparams.tc_dataset_size == 90
    assert "train/tc" in trainer.callback_metrics and "train/kl" in trainer.callback_metrics


def test_models_without_tc_hparams_still_build() -> None:
    """Checkpoints written before beta-TCVAE have no tc_* hyperparameters: defaults fill them."""
    old = {"input_shape": [1, 8, 8], "latent_dim": 3, "beta": 4.0, "capacity_max": None, **MLP}
    model = VariationalAutoencoder(**old)
    assert model.hparams.tc_beta is None
    out = model(torch.rand(4, 1, 8, 8))
    assert "tc" not in out.terms
