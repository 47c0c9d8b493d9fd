"""Fixtures: one small trained autoencoder (mlp on scikit-learn digits) and its data.

Torch runs single-threaded in these tests: on a busy 2-core machine two intra-op threads
spinning against other processes made a tiny MLP step ~60x slower than one thread.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def digits_dm():
    """digits (1,797 8x8 grey images, labels 0-9) split 70/30, seed 0."""
    from autoenc.data import ImageDataModule

    dm = ImageDataModule("digits", batch_size=128, val_fraction=0.3, seed=0, num_workers=0)
    dm.setup()
    return dm


@pytest.fixture(scope="session")
def trained_ckpt(tmp_path_factory, digits_dm) -> Path:
    """A checkpoint of an mlp Autoencoder (8-d code) trained 15 epochs on digits."""
    import lightning as L

    from autoenc.models import Autoencoder

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        L.seed_everything(0, verbose=False)
        model = Autoencoder(digits_dm.input_shape, latent_dim=8, encoder="mlp", net_options={"hidden": [64]},
                            lr=3e-3)
        trainer = L.Trainer(accelerator="cpu", devices=1, logger=False, enable_checkpointing=False,
                            enable_progress_bar=False, enable_model_summary=False, max_epochs=15,
                            num_sanity_val_steps=0, limit_val_batches=0)
        trainer.fit(model, digits_dm)
        path = tmp_path_factory.mktemp("model") / "ae.ckpt"
        trainer.save_checkpoint(path)
    return path


@pytest.fixture(scope="session")
def trained_model(trained_ckpt):
    from autoenc.runs.checkpoints import load_model

    return load_model(trained_ckpt)


@pytest.fixture(scope="session")
def export_dir(tmp_path_factory, trained_model) -> Path:
    from autoenc.runs.checkpoints import export_encoder

    return export_encoder(trained_model, tmp_path_factory.mktemp("export") / "enc")
