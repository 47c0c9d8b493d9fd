"""Fixtures of the model tests (helpers that tests import live in _tiny_models.py)."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True)
def _seeded() -> None:
    """Every model test starts from the same global RNG state."""
    torch.manual_seed(0)


@pytest.fixture(scope="module")
def digits_images() -> torch.Tensor:
    """(64, 1, 8, 8) float32 in [0, 1]: the first 64 of scikit-learn's digits."""
    from sklearn.datasets import load_digits

    images = torch.from_numpy(load_digits().images[:64]).float() / 16.0
    return images.unsqueeze(1)
