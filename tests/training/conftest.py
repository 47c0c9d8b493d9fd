"""Fixtures of the training tests: one small VAE run on digits shared by the session."""

from __future__ import annotations

from pathlib import Path

import pytest
from _fit import CONFIGS, VAE_RUN_ARGS, fit


@pytest.fixture(scope="session")
def vae_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished ``autoenc fit -c configs/digits_vae.yaml`` run directory (read-only: copy
    it before changing anything)."""
    runs = tmp_path_factory.mktemp("runs")
    assert fit("-c", CONFIGS / "digits_vae.yaml", "--runs_dir", runs, "--name", "vae", *VAE_RUN_ARGS) == 0
    return runs / "vae" / "version_0"

