"""Per-epoch work instead of per-step work (issue 23): evaluation metrics summed on the device
and logged once per epoch, with the same batch-size-weighted means as per-batch logging."""

from __future__ import annotations

import lightning as L
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from autoenc.models import Autoencoder, VariationalAutoencoder


def _trainer() -> L.Trainer:
    return L.Trainer(logger=False, enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                     accelerator="cpu", devices=1)


@pytest.mark.parametrize("stage", ["validate", "test"])
def test_eval_means_are_weighted_by_batch_size(stage: str) -> None:
    torch.manual_seed(0)
    model = Autoencoder((1, 8, 8), 3, encoder="mlp", net_options={"hidden": [16]})
    images = torch.rand(10, 1, 8, 8)
    loader = DataLoader(TensorDataset(images, torch.zeros(10)), batch_size=4)  # batches of 4, 4, 2
    (metrics,) = getattr(_trainer(), stage)(model, dataloaders=loader, verbose=False)
    model.eval()
    with torch.no_grad():
        per_batch = [(model(x).loss, len(x)) for x, _ in loader]
        whole = model(images).loss
    prefix = "val" if stage == "validate" else "test"
    weighted = sum(loss * n for loss, n in per_batch) / 10
    assert metrics[f"{prefix}/loss"] == pytest.approx(float(weighted), rel=1e-5)
    assert metrics[f"{prefix}/loss"] == pytest.approx(float(whole), rel=1e-4)  # the mean over images
    plain_mean = sum(loss for loss, _ in per_batch) / 3
    assert abs(float(plain_mean) - float(weighted)) > 1e-3  # the batches differ enough to tell them apart


def test_vae_eval_logs_every_term_and_each_latent_dimension() -> None:
    torch.manual_seed(0)
    model = VariationalAutoencoder((1, 8, 8), 4, encoder="mlp", net_options={"hidden": [16]})
    loader = DataLoader(TensorDataset(torch.rand(12, 1, 8, 8), torch.zeros(12)), batch_size=5)
    (metrics,) = _trainer().validate(model, dataloaders=loader, verbose=False)
    assert {"val/loss", "val/recon", "val/kl"} <= set(metrics)
    kl_dims = [metrics[f"val/kl_dim_{i}"] for i in range(4)]
    assert "val/kl_dim_4" not in metrics
    assert sum(kl_dims) == pytest.approx(metrics["val/kl"], rel=1e-4)
