"""Fixtures of the training tests: one small VAE run on digits shared by the session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from _fit import CONFIGS, fit

#: The shared run: digits_vae.yaml with a small net, 256 images, two epochs.
VAE_RUN_ARGS = ["--data.subset", "256", "--model.init_args.net_options", "{hidden: [32]}",
                "--trainer.max_epochs", "2", "--trainer.log_every_n_steps", "1"]


@pytest.fixture(scope="session")
def vae_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished ``autoenc fit -c configs/digits_vae.yaml`` run directory (read-only: copy
    it before changing anything)."""
    runs = tmp_path_factory.mktemp("runs")
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # see _one_torch_thread (this session fixture is set up before it)
    try:
        assert fit("-c", CONFIGS / "digits_vae.yaml", "--runs_dir", runs, "--name", "vae", *VAE_RUN_ARGS) == 0
    finally:
        torch.set_num_threads(before)
    return runs / "vae" / "version_0"


@pytest.fixture(autouse=True)
def _one_torch_thread() -> Iterator[None]:
    """One intra-op thread for these tests: on the shared 2-core machine a second thread mostly
    waits for a core (a resnet step measured 20x slower under load with 2 threads than with 1)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
