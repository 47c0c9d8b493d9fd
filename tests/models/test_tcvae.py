"""beta-TCVAE: the estimators against an analytic answer, the objective, its options, what it logs."""

from __future__ import annotations

import math

import pytest
import torch

from autoenc.core.errors import UserError
from autoenc.models import BetaTCVAE, VariationalAutoencoder
from autoenc.models.total_correlation import total_correlation

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


def test_weighted_estimate_on_the_whole_data_set_is_offset_by_log_n_per_extra_dimension() -> None:
    z, mu, logvar, true = gaussian_posteriors(1024, 0.8)
    mws = total_correlation(z, mu, logvar, len(z), "mws")
    assert float(mws) == pytest.approx(float(true) + math.log(1024), abs=0.1)


def test_tc_objective_reweights_only_the_total_correlation() -> None:
    x = torch.rand(16, 1, 8, 8)
    plain = VariationalAutoencoder((1, 8, 8), latent_dim=3, beta=2.0, **MLP)
    tc = BetaTCVAE((1, 8, 8), latent_dim=3, beta=2.0, tc_beta=6.0, tc_dataset_size=100, **MLP)
    tc.load_state_dict(plain.state_dict())
    torch.manual_seed(0)
    a = plain(x)
    torch.manual_seed(0)
    b = tc(x)
    assert "tc" in b.terms and "tc" not in a.terms and float(b.terms["tc_batch_size"]) == 16
    expected = a.terms["recon"] + 2.0 * (a.terms["kl"] - b.terms["tc"]) + 6.0 * b.terms["tc"]
    torch.testing.assert_close(b.loss, expected)
    torch.testing.assert_close(b.loss - a.loss, 4.0 * b.terms["tc"])
    b.loss.backward()  # differentiable


@pytest.mark.parametrize(("options", "message"), [
    ({"tc_beta": -1.0}, "tc_beta must be a number >= 0, got -1.0"),
    ({"tc_beta": None}, "tc_beta must be a number >= 0, got None"),
    ({"tc_estimator": "iw"}, "tc_estimator must be one of 'mss', 'mws', got 'iw'"),
    ({"tc_dataset_size": 0}, "tc_dataset_size must be an integer >= 1"),
])
def test_bad_tc_options(options: dict, message: str) -> None:
    with pytest.raises(UserError, match=message):
        BetaTCVAE((1, 8, 8), latent_dim=3, **MLP, **options)


def test_the_other_objectives_arguments_are_refused() -> None:
    with pytest.raises(TypeError, match=r"unexpected keyword arguments \['capacity_max'\]"):
        BetaTCVAE((1, 8, 8), latent_dim=3, capacity_max=25.0, **MLP)


def test_fit_records_the_training_split_size_and_logs_tc(tmp_path) -> None:
    import lightning as L

    from autoenc.data import ImageDataModule

    dm = ImageDataModule("digits", subset=120, batch_size=32, val_fraction=0.25)
    model = BetaTCVAE(dm.input_shape, latent_dim=3, tc_beta=6.0, **MLP)
    trainer = L.Trainer(max_steps=2, limit_val_batches=1, logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False, default_root_dir=tmp_path,
                        log_every_n_steps=1)
    trainer.fit(model, dm)
    assert model.hparams.tc_dataset_size == 90
    assert "train/tc" in trainer.callback_metrics and "train/kl" in trainer.callback_metrics
    assert float(trainer.callback_metrics["train/tc_batch_size"]) == 32
